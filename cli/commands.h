// One registration function per subcommand; each lives in its own cmd_*.cpp.
#pragma once
#include <CLI/CLI.hpp>

namespace strata::cli {

void add_build_command(CLI::App& app);
void add_closure_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_layered_command(CLI::App& app);
void add_stream_command(CLI::App& app);
void add_manifest_command(CLI::App& app);
void add_nix_db_command(CLI::App& app);
void add_sandbox_exec_command(CLI::App& app);
void add_unpack_command(CLI::App& app);
void add_shadow_setup_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_layer_command(CLI::App& app);
void add_run_command(CLI::App& app);

} // namespace strata::cli
