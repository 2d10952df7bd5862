#include "cli/commands.h"

#include "cli/common.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/signal_cleanup.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string_view>

namespace strata::cli {
namespace {

struct Command {
  std::string_view name, summary;
  void (*define)(CommandLine& cmd);
  bool hidden = false;  // left out of --help
  // false: the command calls use_utf8_names() itself when it needs it, and saves the
  // commands that read no tar (`strata run` of a rootfs dir) the locale's loading.
  bool utf8_names_first = true;
};

// In the order --help lists them.
constexpr Command kCommands[] = {
    {"build", "Build an image with one new layer over an optional base (dockerTools.buildImage)",
     define_build_command},
    {"closure",
     "Print the closure graph of store paths as JSON [{path, references, narHash?, narSize?}], or with "
     "--popularity the paths in referencesByPopularity order",
     define_closure_command},
    {"inspect", "Print an image's manifest, config and layers as JSON", define_inspect_command},
    {"layered", "Build a popularity-layered image from store closures (dockerTools.buildLayeredImage)",
     define_layered_command},
    {"stream",
     "Stream a layered image as a docker-archive to stdout (dockerTools.streamLayeredImage); layers "
     "uncompressed by default",
     define_stream_command},
    {"stream-script",
     "Write an executable that streams a layered image when run (dockerTools.streamLayeredImage's output)",
     define_stream_script_command},
    {"manifest",
     "Write a layered image as a registry serves it (Nixery): blobs, a Docker schema 2 manifest and "
     "layerLocations, in a directory",
     define_manifest_command},
    {"pull",
     "Pull an image from a registry into a file (dockerTools.pullImage): every blob checked against its "
     "digest, a manifest list resolved by --os/--arch/--variant",
     define_pull_command},
    {"push",
     "Push an image to a registry (docker://HOST/REPO[:TAG]), sending only the blobs it lacks (mounted from "
     "another repository where one has them); the manifest last",
     define_push_command},
    {"merge",
     "Merge images into one docker-archive holding them all (dockerTools.mergeImages): every RepoTag kept, a "
     "layer several share stored once, layer bytes copied as they are",
     define_merge_command},
    {"nix-db", "Write a Nix database (nix/var/nix/db) under an image root for store paths and their closure",
     define_nix_db_command},
    {"sandbox-exec", "Run a command as root in the sandbox (for tests)", define_sandbox_exec_command, true, false},
    {"unpack",
     "Unpack an image's flattened rootfs into a new directory, without root (as umoci unpack --rootless): "
     "owners that cannot be set are kept in user.containers.override_stat (where user xattrs are refused, as in "
     "a Nix build: in an owner table DIR.owners)",
     define_unpack_command},
    {"shadow-setup",
     "Create etc/passwd, shadow, group, gshadow, pam.d/other and login.defs in a root dir where missing, as "
     "dockerTools.shadowSetup does (existing files are left alone)",
     define_shadow_setup_command},
    {"export",
     "Write an image's merged rootfs (every layer applied, whiteouts applied) as one tar "
     "(dockerTools.exportImage); owners recorded by a rootless unpack are kept",
     define_export_command},
    {"layer",
     "Write one layer as a directory with layer.tar, json (with the legacy tarsum checksum) and VERSION "
     "(dockerTools.mkPureLayer; with runAsRoot, mkRootLayer)",
     define_layer_command},
    {"run",
     "Run a command as root in an image's rootfs or over a rootfs directory, rootless; its exit status is "
     "strata's (strata run IMAGE-or-ROOTFS [options] -- CMD…)",
     define_run_command, false, false},
};

// Adds every subcommand to app, defining only the one named by the first argument that is
// not a flag; the others keep their name and summary, for --help and for CLI11's errors.
// Returns the one defined, or nullptr.
const Command* add_commands(CLI::App& app, int argc, const char* const* argv) {
  std::string_view chosen;
  const Command* defined = nullptr;
  for (int i = 1; i < argc && chosen.empty(); ++i)
    if (argv[i][0] != '-') chosen = argv[i];
  for (const Command& command : kCommands) {
    CLI::App* cmd = app.add_subcommand(std::string(command.name), std::string(command.summary));
    if (command.hidden) cmd->group("");
    if (command.name == chosen) {
      CommandLine options(*cmd);
      command.define(options);
      defined = &command;
    }
  }
  return defined;
}

} // namespace

int run_command_line(int argc, char** argv) {
  reserve_standard_fds();
  install_signal_cleanup();
  CLI::App app{"strata: build Docker and OCI images without root, a VM or a daemon", "strata"};
  app.set_version_flag("--version", "strata 0.1.0");
  app.require_subcommand(1);
  app.fallthrough(false);
  const Command* command = add_commands(app, argc, argv);
  if (!command || command->utf8_names_first) use_utf8_names();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "strata: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata: %s\n", e.what());
    return 1;
  }
  return 0;
}

} // namespace strata::cli
