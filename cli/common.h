// What every strata command shares: output modes, messages, exit handling.
#pragma once
#include "cli/command_line.h"
#include "sys/log.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace strata::cli {

// Options every command takes.
struct GlobalOptions {
  bool json = false;
  bool quiet() const { return log_levels().quiet; }
  int verbose() const { return log_levels().verbose; }
};

GlobalOptions& global_options();
// Adds -q/--quiet, -v/--verbose and --json to a subcommand.
void add_global_flags(CommandLine& cmd);

// A note for the user on stderr (suppressed by -q).
void note(const std::string& message);
// Details shown with -v.
void verbose(const std::string& message);
// Prints JSON to stdout (pretty when stdout is a terminal).
void print_json(const nlohmann::json& value);
// Writes text to stdout; WorkError "cannot write stdout: …" when it cannot (closed, full).
void write_stdout(std::string_view text);

// A size flag's value: a whole number of bytes, or with a suffix k, m, g or t (powers of
// 1024, either case), more than 0. InputError naming the flag otherwise.
uint64_t parse_size(std::string_view value, std::string_view flag);

// libarchive converts names through the locale: makes it UTF-8, whatever the caller's.
// Called before any thread starts, by main() or by a command that sets it only when it
// reads or writes a tar.
void use_utf8_names();

} // namespace strata::cli
