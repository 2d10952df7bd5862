#include "cli/commands.h"
#include "ns/sys/error.h"

#include <clocale>
#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  // libarchive converts names through the locale: make it UTF-8, whatever the caller's.
  if (!std::setlocale(LC_CTYPE, "C.UTF-8")) std::setlocale(LC_CTYPE, "C");
  CLI::App app{"strata: build Docker and OCI images without root, a VM or a daemon", "strata"};
  app.set_version_flag("--version", "strata 0.1.0");
  app.require_subcommand(1);
  app.fallthrough(false);
  strata::cli::add_build_command(app);
  strata::cli::add_closure_command(app);
  strata::cli::add_inspect_command(app);
  strata::cli::add_layered_command(app);
  strata::cli::add_stream_command(app);
  strata::cli::add_manifest_command(app);
  strata::cli::add_nix_db_command(app);
  strata::cli::add_sandbox_exec_command(app);
  strata::cli::add_unpack_command(app);
  strata::cli::add_shadow_setup_command(app);
  strata::cli::add_export_command(app);
  strata::cli::add_layer_command(app);
  strata::cli::add_run_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const strata::Error& e) {
    std::fprintf(stderr, "strata: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata: %s\n", e.what());
    return 1;
  }
  return 0;
}
