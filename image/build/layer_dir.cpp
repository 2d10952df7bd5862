#include "image/build/layer_dir.h"

#include "image/build/layer_sources.h"
#include "image/build/root_layer.h"
#include "image/image_reader.h"

#include "image/build/customisation.h"
#include "image/build/store_closure.h"
#include "image/nix/seed.h"
#include "image/shadow.h"
#include "image/tarsum.h"
#include "image/tree_source.h"
#include "ns/sys/error.h"
#include "ns/sys/file.h"
#include "ns/sys/temp.h"

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

// Passes bytes to two sinks.

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

std::string normalised_target(std::string target) {
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  std::string base = basename_of(target);
  if (target.empty() || target == "/" || base == "." || base == "..")
    fail_input("output directory '{}' cannot be written: name a new or empty directory", target);
  return absolute_path(target);
}

void check_output_dir(const std::string& target) {
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail_input("output {} exists and is not a directory", target);
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(target.c_str()), ::closedir);
    if (!d) fail_errno("cannot list " + target);
    while (dirent* e = ::readdir(d.get())) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") fail_input("output directory {} is not empty", target);
    }
  }
  std::string parent = dirname_of(target);
  if (!is_directory(parent)) fail_input("the parent directory {} of {} does not exist", parent, target);
  if (::access(parent.c_str(), W_OK) != 0) fail_input("the parent directory {} of {} is not writable", parent, target);
}

} // namespace

LayerDirReport write_layer_dir(const Spec& spec, const std::string& out_dir,
                               const std::function<void(const std::string& step)>& step_fn, RootScriptRunner* runner) {
  auto step = [&](const std::string& s) {
    if (step_fn) step_fn(s);
  };
  check_spec(spec, runner);
  std::string target = normalised_target(out_dir);
  check_output_dir(target);

  LayerSources sources = plan_layer_sources(spec, spec.run_as_root.empty(), step);
  // mkRootLayer: the script runs over the base's layers (if any) and copyToRoot.
  std::unique_ptr<ImageSource> base;
  std::unique_ptr<RootLayer> root_layer;
  if (!spec.run_as_root.empty()) {
    if (!spec.from_image.empty()) base = ImageSource::open(spec.from_image, {spec.from_image_name, spec.from_image_tag});
    root_layer = std::make_unique<RootLayer>(spec, base.get(), sources.contents, *runner, layer_mtime(spec), step);
  }
  const std::vector<TreeMapping>& mappings = sources.mappings;
  const std::vector<std::string>& store_paths = sources.store_paths;
  std::string created = resolve_created(spec.created);

  TempDir building("." + basename_of(target) + ".strata", dirname_of(target));
  ::chmod(building.path().c_str(), 0755);

  step("writing layer.tar");
  TreeOptions options;
  options.mtime = layer_mtime(spec);
  options.owner = spec.owner;
  options.keep_dirlinks = spec.keep_contents_dirlinks;
  TreeStats stats;
  TarsumSink tarsum;
  LayerDigests layer;
  {
    std::string tar_path = building.path() + "/layer.tar";
    Fd tar_fd = open_or_fail(tar_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    FdSink file(tar_fd.get(), tar_path);
    TeeSink both(file, tarsum);
    layer = write_layer(
        [&](const EntryVisitor& visit) {
          stats = root_layer ? root_layer->walk(mappings, options, visit) : walk_trees(mappings, options, visit);
        },
                        Compression::None, both);
    ::fchmod(tar_fd.get(), 0644);
  }

  LayerDirReport report;
  report.checksum = tarsum.checksum();
  json legacy = {{"architecture", spec.architecture.empty() ? host_architecture() : spec.architecture},
                 {"config", spec.config.empty() ? json(nullptr) : spec.config},
                 {"created", created},
                 {"os", spec.os},
                 {"checksum", report.checksum}};
  report.id = sha256_hex(legacy.dump());
  legacy["id"] = report.id;
  legacy["Size"] = layer.size;
  write_file(building.path() + "/json", legacy.dump() + "\n", 0644);
  write_file(building.path() + "/VERSION", "1.0", 0644);

  if (::rename(building.path().c_str(), target.c_str()) != 0) {
    int err = errno;
    if (err == ENOTEMPTY || err == EEXIST || err == ENOTDIR)
      fail_input("output directory {} was filled by someone else meanwhile", target);
    fail_errno("cannot move the layer dir to " + target, err);
  }
  building.release();
  report.dir = target;
  report.layer = layer;
  report.store_paths = store_paths;
  report.file_bytes = stats.file_bytes;
  return report;
}

} // namespace strata
