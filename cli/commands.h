// The subcommands, each defined in its own cmd_*.cpp, and the command line that picks one.
#pragma once
#include "cli/command_line.h"

namespace strata::cli {

// Parses the command line and runs the subcommand it names; returns strata's exit status
// (2 for a bad command line or input). Only the chosen subcommand's options are defined:
// all of them (some 80) would cost every run half a millisecond.
int run_command_line(int argc, char** argv);

void define_build_command(CommandLine& cmd);
void define_closure_command(CommandLine& cmd);
void define_inspect_command(CommandLine& cmd);
void define_layered_command(CommandLine& cmd);
void define_stream_command(CommandLine& cmd);
void define_stream_script_command(CommandLine& cmd);
void define_manifest_command(CommandLine& cmd);
void define_nix_db_command(CommandLine& cmd);
void define_sandbox_exec_command(CommandLine& cmd);
void define_unpack_command(CommandLine& cmd);
void define_shadow_setup_command(CommandLine& cmd);
void define_export_command(CommandLine& cmd);
void define_layer_command(CommandLine& cmd);
void define_run_command(CommandLine& cmd);
void define_push_command(CommandLine& cmd);
void define_pull_command(CommandLine& cmd);
void define_merge_command(CommandLine& cmd);

} // namespace strata::cli
