// `strata run IMAGE-or-ROOTFS -- CMD…`: the flags of engine/run_image.h.
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/sandbox_flags.h"
#include "engine/run_image.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace strata::cli {
namespace {

struct RunOptions {
  engine::RunImageRequest request;
  SandboxFlags sandbox;
};

} // namespace

void define_run_command(CommandLine& cmd) {
  auto opts = std::make_shared<RunOptions>();
  cmd.option("IMAGE-or-ROOTFS", opts->request.target,
             "docker-archive, OCI dir or OCI archive (its layers stacked under a fresh upper dir), or a "
             "rootfs directory (stacked the same way; with --overlay plain, changed in place)")
      .required();
  cmd.option("command", opts->request.command, "The command and its arguments, after --").required();
  cmd.option("--layer-out", opts->request.layer_out,
             "Write what the command changed as a layer dir (layer.tar, json, VERSION) when it exits 0");
  cmd.option("--name", opts->request.image_name, "Image name to pick from an archive holding several");
  cmd.option("--tag", opts->request.image_tag, "Tag to pick");
  cmd.option("--env", opts->request.env, "KEY=VALUE added to the command's environment (repeat)");
  cmd.option("--store-dir", opts->request.store_dir, "A host directory bound read-only at the same path (e.g. /nix/store)");
  cmd.option("--mtime", opts->request.mtime,
             "mtime of every --layer-out entry, seconds since the epoch (default: $SOURCE_DATE_EPOCH, else 1)");
  opts->sandbox.add_to(cmd);
  add_global_flags(cmd);
  cmd.callback([opts] {
    engine::RunImageRequest request = opts->request;
    request.sandbox = opts->sandbox.options();
    if (!engine::is_rootfs_dir(request.target) || !request.layer_out.empty()) use_utf8_names();
    engine::RunImageResult result = engine::run_image(request);
    if (global_options().json) print_json(result.report);
    int status = result.exit_status;
    std::fflush(nullptr);
    std::_Exit(status); // the command's status, 128+N when it was killed by signal N
  });
}

} // namespace strata::cli
