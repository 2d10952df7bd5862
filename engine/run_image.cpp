#include "engine/run_image.h"

#include "image/image_reader.h"
#include "image/layer_dir_writer.h"
#include "image/spec.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/log.h"

#include <fmt/format.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::engine {

using nlohmann::json;

bool is_rootfs_dir(const std::string& path) {
  return is_directory(path) && ::access((path + "/oci-layout").c_str(), F_OK) != 0;
}

RunImageResult run_image(const RunImageRequest& opts) {
  if (opts.command.empty()) fail_input("run: no command given (strata run IMAGE-or-ROOTFS -- CMD…)");
  struct stat st;
  if (::stat(opts.target.c_str(), &st) != 0) fail_input("run: {} does not exist", opts.target);
  for (const std::string& e : opts.env)
    if (e.find('=') == std::string::npos || e.front() == '=') fail_input("--env {:?}: expected KEY=VALUE", e);
  if (!opts.store_dir.empty() && !is_directory(opts.store_dir))
    fail_input("--store-dir {} is not a directory", opts.store_dir);
  std::string layer_out = opts.layer_out.empty() ? "" : checked_layer_dir_target(opts.layer_out, "--layer-out");
  Spec defaults;
  defaults.mtime = opts.mtime;
  int64_t mtime = layer_mtime(defaults);

  bool rootfs = is_rootfs_dir(opts.target);
  bool in_place = rootfs && opts.sandbox.overlay == mount::OverlayDriver::Plain;
  if (!rootfs && opts.sandbox.overlay == mount::OverlayDriver::Plain)
    fail_input("run: --overlay plain runs in a rootfs directory itself; {} is an image", opts.target);
  if (in_place && !layer_out.empty())
    fail_input("run: --layer-out needs an overlay to see the changes; with --overlay plain they are made in {} "
               "itself",
               opts.target);

  std::unique_ptr<ImageSource> image;
  std::string architecture = host_architecture();
  if (!rootfs) {
    image = ImageSource::open(opts.target, {opts.image_name, opts.image_tag});
    json config = json::parse(image->config_json(), nullptr, false);
    if (config.is_object() && config.contains("architecture") && config["architecture"].is_string())
      architecture = config["architecture"].get<std::string>();
  }

  SandboxRootScriptRunner runner(opts.sandbox);
  std::optional<ScratchDir> scratch;
  SandboxRunRequest request;
  request.what = opts.command.front();
  request.argv = opts.command;
  request.env = opts.env;
  request.store_dir = opts.store_dir;
  request.base = image.get();
  if (in_place) {
    request.upper = absolute_path(opts.target);
  } else {
    scratch.emplace(runner);
    request.upper = scratch->upper();
    if (rootfs) request.lower_dirs.push_back(absolute_path(opts.target));
  }
  RootScriptReport report = runner.run_command(request);

  RunImageResult result;
  result.exit_status = report.exit_status;
  result.report = report.to_json();
  if (layer_out.empty()) return result;
  if (report.exit_status != 0) {
    log_note(fmt::format("{} exited with status {}: no layer written to {}", request.what, report.exit_status,
                         layer_out));
    return result;
  }
  // As `strata layer` writes its json, from an empty config: the fields of a layer that
  // holds only what the command changed.
  json legacy = {{"architecture", architecture},
                 {"config", nullptr},
                 {"created", "1970-01-01T00:00:01Z"},
                 {"os", "linux"}};
  LayerDirFiles layer = write_layer_dir_files(
      layer_out, "--layer-out",
      [&](const EntryVisitor& visit) { runner.walk_upper(request.upper, mtime, visit); }, legacy);
  result.report["layer_out"] = {{"dir", layer_out},
                                {"diff_id", layer.layer.diff_id},
                                {"size", layer.layer.size},
                                {"entries", layer.layer.entries},
                                {"checksum", layer.checksum},
                                {"id", layer.id}};
  log_verbose(fmt::format("layer ({} entries, {}) -> {}", layer.layer.entries, layer.checksum, layer_out));
  return result;
}

} // namespace strata::engine
