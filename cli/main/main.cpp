#include "cli/commands.h"
#include "cli/common.h"
#include "ns/sys/error.h"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"strata: build Docker and OCI images without root, a VM or a daemon", "strata"};
  app.set_version_flag("--version", "strata 0.1.0");
  app.require_subcommand(1);
  app.fallthrough(false);
  const strata::cli::Command* command = strata::cli::add_commands(app, argc, argv);
  if (!command || command->utf8_names_first) strata::cli::use_utf8_names();

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
