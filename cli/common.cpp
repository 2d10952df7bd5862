#include "cli/common.h"

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
  std::string text = isatty(STDOUT_FILENO) ? value.dump(2) : value.dump();
  std::fprintf(stdout, "%s\n", text.c_str());
  std::fflush(stdout);
}

} // namespace strata::cli
