#include "image/dockertools/layer_dir.h"

#include "image/dockertools/layer_sources.h"
#include "image/dockertools/root_layer.h"
#include "image/image_reader.h"

#include "image/dockertools/customisation.h"
#include "image/dockertools/store_closure.h"
#include "image/nix/seed.h"
#include "image/shadow.h"
#include "image/layer_dir_writer.h"
#include "image/tree_source.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

using nlohmann::json;

json LayerDirReport::to_json() const {
  return {{"dir", dir},
          {"checksum", checksum},
          {"id", id},
          {"diff_id", layer.diff_id},
          {"size", layer.size},
          {"entries", layer.entries},
          {"file_bytes", file_bytes},
          {"store_paths", store_paths}};
}

namespace {

void check_spec(const Spec& spec, const RootScriptRunner* runner) {
  if (!spec.run_as_root.empty() && !runner)
    fail_input("runAsRoot (mkRootLayer) needs the sandbox, which this caller does not provide");
  if (!spec.from_image.empty() && spec.run_as_root.empty())
    fail_input("fromImage is only used by a runAsRoot layer (mkRootLayer): the script runs over its layers");
  if (!spec.fake_root_commands.empty())
    fail_input("fakeRootCommands belongs to layered images (strata layered), not to strata layer");
  if (spec.compression_given && spec.compression != Compression::None)
    fail_input("layer.tar is always uncompressed (as mkPureLayer writes it): 'compressor' must be none");
}

} // namespace

LayerDirReport write_layer_dir(const Spec& spec, const std::string& out_dir,
                               const std::function<void(const std::string& step)>& step_fn, RootScriptRunner* runner) {
  auto step = [&](const std::string& s) {
    if (step_fn) step_fn(s);
  };
  check_spec(spec, runner);
  std::string target = checked_layer_dir_target(out_dir, "output directory");

  LayerSources sources = plan_layer_sources(spec, spec.run_as_root.empty(), step, runner);
  // mkRootLayer: the script runs over the base's layers (if any) and copyToRoot.
  std::unique_ptr<ImageSource> base;
  std::unique_ptr<RootLayer> root_layer;
  if (!spec.run_as_root.empty()) {
    if (!spec.from_image.empty()) base = ImageSource::open(spec.from_image, {spec.from_image_name, spec.from_image_tag});
    root_layer = std::make_unique<RootLayer>(spec, base.get(), sources.contents, *runner, layer_mtime(spec), step);
    add_store_paths(spec, sources, {root_layer->upper_dir()}, step);
  }
  const std::vector<TreeMapping>& mappings = sources.mappings;
  const std::vector<std::string>& store_paths = sources.store_paths;
  std::string created = resolve_created(spec.created);

  step("writing layer.tar");
  TreeOptions options;
  options.mtime = layer_mtime(spec);
  options.owner = spec.owner;
  options.keep_dirlinks = spec.keep_contents_dirlinks;
  TreeStats stats;
  json legacy = {{"architecture", spec.architecture.empty() ? host_architecture() : spec.architecture},
                 {"config", spec.config.empty() ? json(nullptr) : spec.config},
                 {"created", created},
                 {"os", spec.os}};
  LayerDirFiles files = write_layer_dir_files(
      target, "output directory",
      [&](const EntryVisitor& visit) {
        stats = root_layer ? root_layer->walk(mappings, options, visit) : walk_trees(mappings, options, visit);
      },
      legacy);

  LayerDirReport report;
  report.checksum = files.checksum;
  report.id = files.id;
  LayerDigests layer = files.layer;
  report.dir = target;
  report.layer = layer;
  report.store_paths = store_paths;
  report.file_bytes = stats.file_bytes;
  return report;
}

} // namespace strata
