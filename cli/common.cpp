#include "cli/common.h"

#include "sys/error.h"
#include "sys/files.h"

#include <charconv>
#include <climits>
#include <clocale>
#include <cstdint>
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

uint64_t parse_size(std::string_view value, std::string_view flag) {
  std::string_view digits = value;
  int shift = 0;
  if (!digits.empty()) {
    switch (digits.back()) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: break;
    }
    if (shift) digits.remove_suffix(1);
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || n == 0 ||
      (shift && n > (UINT64_MAX >> shift)))
    fail_input("{} {:?}: expected a size in bytes above 0, optionally with k, m, g or t (such as 512m)", flag,
               std::string(value));
  return n << shift;
}

} // namespace strata::cli
