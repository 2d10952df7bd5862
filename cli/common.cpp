#include "cli/common.h"

#include "sys/files.h"

#include <clocale>
#include <cstdio>
#include <unistd.h>

namespace strata::cli {

GlobalOptions& global_options() {
  static GlobalOptions options;
  return options;
}

void add_global_flags(CommandLine& cmd) {
  auto& g = global_options();
  cmd.flag("-q,--quiet", log_levels().quiet, "Print nothing but errors and requested output");
  cmd.flag("-v,--verbose", log_levels().verbose, "Say more about what is done (repeat for more)");
  cmd.flag("--json", g.json, "Print the result as JSON on stdout");
}

void note(const std::string& message) { log_note(message); }

void verbose(const std::string& message) { log_verbose(message); }

void use_utf8_names() {
  if (!std::setlocale(LC_CTYPE, "C.UTF-8")) std::setlocale(LC_CTYPE, "C");
}

void print_json(const nlohmann::json& value) {
  // A path from the command line need not be UTF-8: such bytes print as U+FFFD.
  std::string text = value.dump(isatty(STDOUT_FILENO) ? 2 : -1, ' ', false, nlohmann::json::error_handler_t::replace);
  write_stdout(text + "\n");
}

void write_stdout(std::string_view text) {
  std::fflush(stdout);
  write_all(STDOUT_FILENO, text, "stdout");
}

} // namespace strata::cli
