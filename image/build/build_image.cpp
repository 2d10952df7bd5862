#include "image/build/build_image.h"

#include "image/build/base_paths.h"
#include "image/build/customisation.h"
#include "image/build/layer_sources.h"
#include "image/build/store_closure.h"
#include "image/image_config.h"
#include "image/nix/seed.h"
#include "image/shadow.h"
#include "image/image_reader.h"
#include "image/image_writer.h"
#include "image/tree_source.h"
#include "ns/sys/error.h"
#include "ns/sys/file.h"
#include "ns/sys/temp.h"

#include <cstdlib>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace strata {

using nlohmann::json;

std::string content_tag(const std::string& config_json) { return digest_hex(sha256_digest(config_json)).substr(0, 32); }

json BuildReport::to_json() const {
  json layers_json = json::array();
  for (const auto& l : layers)
    layers_json.push_back({{"digest", l.descriptor.digest},
                           {"diff_id", l.descriptor.diff_id},
                           {"size", l.descriptor.size},
                           {"compression", compression_name(l.descriptor.compression)},
                           {"source", l.source}});
  json out = {{"image", name + ":" + tag},
              {"output", output},
              {"format", image_format_name(format)},
              {"config_digest", config_digest},
              {"layers", layers_json},
              {"store_paths", store_paths},
              {"store_layers", store_layers},
              {"stats",
               {{"entries_written", entries_written},
                {"file_bytes_read", file_bytes_read},
                {"layers_from_cache", layers_from_cache}}}};
  if (root_script) out["root_script"] = root_script->to_json();
  return out;
}

namespace {



} // namespace

void fail_root_script(const RootScriptReport& report, const std::string& what) {
  throw Error(report.exit_status > 0 && report.exit_status < 256 ? report.exit_status : 1,
              report.exit_status > 128 ? fmt::format("{} was killed by signal {}", what, report.exit_status - 128)
                                       : fmt::format("{} failed with exit status {}", what, report.exit_status));
}

json RootScriptReport::to_json() const {
  return {{"exit_status", exit_status},
          {"id_mode", id_mode},
          {"root", root},
          {"layers_unpacked", layers_unpacked},
          {"bytes_unpacked", bytes_unpacked}};
}

namespace {

// Layer order compares paths component by component: '/' sorts before every other byte.
bool layer_order_less(const std::string& a, const std::string& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] == b[i]) continue;
    if (a[i] == '/') return true;
    if (b[i] == '/') return false;
    return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

// A root script's diff, held as metadata (file content is read again from the upper dir
// when written), merged in layer order with the entries of mapped trees.
class DiffMerger {
public:
  DiffMerger(std::string upper, std::vector<LayerEntry> diff) : upper_(std::move(upper)), diff_(std::move(diff)) {}

  EntryVisitor wrap(const EntryVisitor& visit) {
    return [this, &visit](LayerEntry& e) {
      flush_before(e.path, visit);
      if (next_ < diff_.size() && diff_[next_].path == e.path) {
        emit(diff_[next_++], visit); // the script's version wins
        return;
      }
      visit(e);
    };
  }
  void flush(const EntryVisitor& visit) {
    while (next_ < diff_.size()) emit(diff_[next_++], visit);
  }

private:
  void flush_before(const std::string& path, const EntryVisitor& visit) {
    while (next_ < diff_.size() && layer_order_less(diff_[next_].path, path)) emit(diff_[next_++], visit);
  }
  void emit(LayerEntry& e, const EntryVisitor& visit) {
    Fd content;
    bool whiteout = basename_of(e.path).rfind(".wh.", 0) == 0;
    if (e.type == EntryType::File && e.size > 0 && !whiteout) {
      content = open_or_fail(upper_ + "/" + e.path, O_RDONLY | O_NOFOLLOW);
      e.content_fd = content.get();
    }
    visit(e);
    e.content_fd = -1;
  }

  std::string upper_;
  std::vector<LayerEntry> diff_;
  size_t next_ = 0;
};

// The upper dir of a root script, in a scratch dir made by us (the overlay's work dir goes
// beside the upper dir) and removed by the runner (the script may have left files owned by
// ids only the sandbox can remove). The scratch dir is named strata-rootscript-<pid>.XXXXXX,
// as cli/root_script_runner.h's kScratchPrefix says, so that the runner of a later build
// removes it when a kill left it behind.
class ScriptDir {
public:
  explicit ScriptDir(RootScriptRunner& runner)
      : runner_(runner), dir_(fmt::format("strata-rootscript-{}", ::getpid())), upper_(dir_.path() + "/upper") {
    ::chmod(dir_.path().c_str(), 0755);
    make_dirs(upper_, 0755);
    ::chmod(upper_.c_str(), 0755);
  }
  ~ScriptDir() {
    try {
      runner_.remove(dir_.path());
    } catch (...) {
    }
  }
  const std::string& path() const { return upper_; }

private:
  RootScriptRunner& runner_;
  TempDir dir_; // removes whatever the runner could not
  std::string upper_;
};

} // namespace

BuildReport build_image(const Spec& spec, const BuildTarget& target, const BuildEvents& events,
                        RootScriptRunner* runner) {
  auto step = [&](const std::string& s) {
    if (events.step) events.step(s);
  };
  if (!spec.run_as_root.empty() && !runner) fail_input("runAsRoot needs the sandbox, which this caller does not provide");

  std::unique_ptr<ImageSource> base;
  if (!spec.from_image.empty()) {
    step("reading base image " + spec.from_image);
    base = ImageSource::open(spec.from_image, {spec.from_image_name, spec.from_image_tag});
  }

  std::string created = resolve_created(spec.created);
  LayerSources sources = plan_layer_sources(spec, spec.run_as_root.empty(), step);

  // runAsRoot (mkRootLayer): copyToRoot goes into the new layer first, the script runs as
  // root over the base's layers, extraCommands after it; the layer is what changed, with
  // the store closure merged in.
  std::unique_ptr<ScriptDir> upper;
  std::unique_ptr<DiffMerger> script_diff;
  BuildReport report;
  int64_t mtime = layer_mtime(spec);
  if (!spec.run_as_root.empty()) {
    upper = std::make_unique<ScriptDir>(*runner);
    for (const auto& m : sources.contents) copy_into(m.host_path, upper->path());
    if (spec.shadow_setup) shadow_setup(upper->path());
    step("running runAsRoot");
    RootScriptRequest request;
    request.base = base.get();
    request.upper = upper->path();
    request.script = spec.run_as_root;
    request.store_dir = spec.store_dir;
    request.env.push_back("shadowSetup=" + shadow_setup_script()); // as dockerTools gives runAsRoot
    report.root_script = runner->run(request);
    if (report.root_script->exit_status != 0) fail_root_script(*report.root_script, "runAsRoot");
    if (!spec.extra_commands.empty()) {
      step("running extraCommands");
      run_script_in(spec.extra_commands, upper->path(), "extraCommands");
    }
    std::vector<LayerEntry> diff;
    runner->walk_upper(upper->path(), mtime, [&](LayerEntry& e) {
      diff.push_back(e);
      diff.back().content_fd = -1;
    });
    script_diff = std::make_unique<DiffMerger>(upper->path(), std::move(diff));
  }
  const std::vector<TreeMapping>& mappings = sources.mappings;
  const std::vector<std::string>& store_paths = sources.store_paths;

  std::set<std::string> in_base;
  if (base) {
    step("listing base image files");
    in_base = base_image_paths(*base);
  }

  auto writer = make_image_writer(target.format, target.output, mtime);
  if (base) {
    for (size_t i = 0; i < base->layers().size(); ++i) {
      step(fmt::format("copying base layer {}/{}", i + 1, base->layers().size()));
      DigestingSink digesting(writer->begin_layer());
      base->copy_layer(i, digesting);
      LayerDescriptor d = base->layers()[i];
      d.digest = digesting.digest();
      d.size = digesting.size();
      writer->end_layer(d);
      report.layers.push_back({d, "base"});
    }
  }

  step("writing the new layer");
  TreeOptions options;
  options.mtime = mtime;
  options.owner = spec.owner;
  options.keep_dirlinks = spec.keep_contents_dirlinks;
  if (base) options.exclude = [&](const std::string& path) { return in_base.count(path) > 0; };
  TreeStats stats;
  LayerDigests layer = write_layer(
      [&](const EntryVisitor& visit) {
        if (!script_diff) {
          stats = walk_trees(mappings, options, visit);
          return;
        }
        stats = walk_trees(mappings, options, script_diff->wrap(visit));
        script_diff->flush(visit);
      },
      spec.compression, writer->begin_layer(), events.layer_progress);
  LayerDescriptor new_layer{layer.digest, layer.size, layer.diff_id, layer.compression};
  writer->end_layer(new_layer);
  report.layers.push_back({new_layer, "new"});
  report.entries_written = layer.entries;
  report.file_bytes_read = stats.file_bytes;

  json base_config = base ? json::parse(base->config_json()) : json();
  std::string config = compose_config(base_config, spec, created, {layer.diff_id},
                                      spec.run_as_root.empty() ? "strata build" : "strata build (runAsRoot)");
  report.name = spec.name;
  report.tag = spec.tag.empty() ? content_tag(config) : spec.tag;
  report.output = target.output;
  report.format = target.format;
  report.config_digest = sha256_digest(config);
  report.store_paths = store_paths;
  step("writing the image");
  writer->commit(config, {report.name, report.tag});
  return report;
}

} // namespace strata
