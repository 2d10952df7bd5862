#include "image/dockertools/build_image.h"

#include "image/dockertools/base_paths.h"
#include "image/dockertools/customisation.h"
#include "image/dockertools/layer_limit.h"
#include "image/dockertools/layer_sources.h"
#include "image/dockertools/root_layer.h"
#include "image/dockertools/store_closure.h"
#include "image/image_config.h"
#include "image/nix/seed.h"
#include "image/shadow.h"
#include "image/image_reader.h"
#include "image/image_writer.h"
#include "image/tree_source.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

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
  if (!cache_dir.empty()) out["cache_dir"] = cache_dir;
  if (root_script) out["root_script"] = root_script->to_json();
  return out;
}

namespace {



} // namespace

namespace {

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

  // The new layer keeps all that copyToRoot, extraCommands and runAsRoot put there and
  // leaves out only the store files the base already holds (dockerTools' comm of
  // baseFiles against the closure's files), and the store dir and its parents when the
  // base has the store dir; shadowSetup leaves the base's account files alone. Listing
  // the base means decompressing all its layers: with a root script, that is done while
  // the script runs.
  std::string store_prefix = spec.store_dir.substr(1);
  std::set<std::string> in_base;
  auto list_base = [&] {
    step("listing base image files");
    std::vector<std::string> shadow = shadow_setup_paths();
    in_base = base_store_paths(*base, store_prefix, std::set<std::string>(shadow.begin(), shadow.end()));
  };
  if (base && spec.run_as_root.empty()) list_base();

  std::string created = resolve_created(spec.created);
  LayerSources sources = plan_layer_sources(spec, spec.run_as_root.empty(), step, runner, in_base);

  // runAsRoot (mkRootLayer): the layer is what the scripts changed, with the store
  // closure of what it names.
  BuildReport report;
  int64_t mtime = layer_mtime(spec);
  std::unique_ptr<RootLayer> root_layer;
  if (!spec.run_as_root.empty()) {
    root_layer = std::make_unique<RootLayer>(spec, base.get(), sources.contents, *runner, mtime, step,
                                             base ? std::function<void()>(list_base) : nullptr);
    report.root_script = root_layer->report();
    add_store_paths(spec, sources, {root_layer->upper_dir()}, step);
  }
  const std::vector<TreeMapping>& mappings = sources.mappings;
  const std::vector<std::string>& store_paths = sources.store_paths;

  warn_if_unstackable((base ? base->layers().size() : 0) + 1);
  std::unique_ptr<ImageWriter> own_writer = target.writer ? nullptr : make_image_writer(target.format, target.output, mtime);
  ImageWriter* writer = target.writer ? target.writer : own_writer.get();
  if (base) {
    writer->expect_layers(base->layers());
    for (size_t i = 0; i < base->layers().size(); ++i) {
      step(fmt::format("copying base layer {}/{}", i + 1, base->layers().size()));
      if (writer->has_layer(base->layers()[i])) { // a registry that has it: nothing read
        writer->end_layer(base->layers()[i]);
        report.layers.push_back({base->layers()[i], "base"});
        continue;
      }
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
  if (base) options.exclude = [&](const std::string& path) { return base_has_store_entry(in_base, store_prefix, path); };
  TreeStats stats;
  LayerDigests layer = write_layer(
      [&](const EntryVisitor& layer_visit) {
        EntryVisitor visit = apply_perms(spec.perms, layer_visit);
        stats = root_layer ? root_layer->walk(mappings, options, visit) : walk_trees(mappings, options, visit);
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
