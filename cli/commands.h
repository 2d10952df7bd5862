// The subcommands: a name and summary each, and a function, in its own cmd_*.cpp, that
// defines its options and callback on the subcommand.
#pragma once
#include <CLI/CLI.hpp>

#include <string_view>

namespace strata::cli {

struct Command {
  std::string_view name, summary;
  void (*define)(CLI::App* cmd);
  bool hidden = false;  // left out of --help
  // false: the command calls use_utf8_names() itself when it needs it, and saves the
  // commands that read no tar (`strata run` of a rootfs dir) the locale's loading.
  bool utf8_names_first = true;
};

// Adds every subcommand to app, defining only the one named by the first argument that is
// not a flag: defining all of them (some 80 options) costs a run a millisecond it does not
// need. The others keep their name and summary, for --help and for CLI11's errors.
// Returns the one defined, or nullptr.
const Command* add_commands(CLI::App& app, int argc, const char* const* argv);

void define_build_command(CLI::App* cmd);
void define_closure_command(CLI::App* cmd);
void define_inspect_command(CLI::App* cmd);
void define_layered_command(CLI::App* cmd);
void define_stream_command(CLI::App* cmd);
void define_manifest_command(CLI::App* cmd);
void define_nix_db_command(CLI::App* cmd);
void define_sandbox_exec_command(CLI::App* cmd);
void define_unpack_command(CLI::App* cmd);
void define_shadow_setup_command(CLI::App* cmd);
void define_export_command(CLI::App* cmd);
void define_layer_command(CLI::App* cmd);
void define_run_command(CLI::App* cmd);

} // namespace strata::cli
