#include "image/build/build_image.h"

#include "image/build/base_paths.h"
#include "image/build/customisation.h"
#include "image/build/store_closure.h"
#include "image/image_config.h"
#include "image/nix/seed.h"
#include "image/image_reader.h"
#include "image/image_writer.h"
#include "image/tree_source.h"
#include "ns/sys/error.h"
#include "ns/sys/file.h"
#include "ns/sys/temp.h"

#include <cstdlib>
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
  return {{"image", name + ":" + tag},
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
}

namespace {

// A copyToRoot entry: a directory's contents merge into the root; anything else lands
// at the root under its own name.
TreeMapping contents_mapping(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) fail_input("copyToRoot path {} cannot be resolved", path);
  std::string resolved = real;
  std::free(real);
  if (is_directory(resolved)) return {resolved, ""};
  return {resolved, basename_of(path)};
}

std::string store_layer_prefix(const std::string& store_dir) { return store_dir.substr(1); }

} // namespace

BuildReport build_image(const Spec& spec, const BuildTarget& target, const BuildEvents& events) {
  auto step = [&](const std::string& s) {
    if (events.step) events.step(s);
  };
  if (!spec.run_as_root.empty()) fail_input("runAsRoot is not supported by this strata build yet");

  std::unique_ptr<ImageSource> base;
  if (!spec.from_image.empty()) {
    step("reading base image " + spec.from_image);
    base = ImageSource::open(spec.from_image, {spec.from_image_name, spec.from_image_tag});
  }

  std::vector<TreeMapping> contents;
  for (const auto& path : spec.copy_to_root) contents.push_back(contents_mapping(path));
  ContentsClosure closure = contents_store_closure(spec);
  std::vector<std::string> store_paths = spec.include_store_paths ? closure.paths() : std::vector<std::string>{};
  std::string created = resolve_created(spec.created);

  // extraCommands needs a writable copy of the contents to run in.
  std::unique_ptr<TempDir> staging;
  std::vector<TreeMapping> mappings;
  if (!spec.extra_commands.empty()) {
    staging = std::make_unique<TempDir>("strata-layer");
    ::chmod(staging->path().c_str(), 0755);
    for (const auto& m : contents) copy_into(m.host_path, staging->path());
    step("running extraCommands");
    run_script_in(spec.extra_commands, staging->path(), "extraCommands");
    mappings.push_back({staging->path(), ""});
  } else {
    mappings = contents;
  }
  std::string prefix = store_layer_prefix(spec.store_dir);
  mappings.push_back({"", prefix}); // the store dir itself, present even when empty, as the seed has it
  for (const auto& p : store_paths) mappings.push_back({p, prefix + "/" + basename_of(p)});
  std::unique_ptr<TempDir> nix_db;
  if (spec.include_nix_db) {
    step("writing the Nix database");
    nix_db = std::make_unique<TempDir>("strata-nixdb");
    nix::SeedOptions seed;
    seed.store = closure::StoreLocation{spec.store_dir, ""};
    seed.registration_time = nix_registration_time(spec.created); // not `created`: "now" must not reach a layer
    seed.gc_roots = closure.roots;
    nix::seed_nix_db(nix_db->path(), closure.graph, seed);
    mappings.push_back({nix_db->path(), ""});
  }

  std::set<std::string> in_base;
  if (base) {
    step("listing base image files");
    in_base = base_image_paths(*base);
  }

  int64_t mtime = layer_mtime(spec);
  auto writer = make_image_writer(target.format, target.output, mtime);
  BuildReport report;
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
      [&](const EntryVisitor& visit) { stats = walk_trees(mappings, options, visit); },
      spec.compression, writer->begin_layer(), events.layer_progress);
  LayerDescriptor new_layer{layer.digest, layer.size, layer.diff_id, layer.compression};
  writer->end_layer(new_layer);
  report.layers.push_back({new_layer, "new"});
  report.entries_written = layer.entries;
  report.file_bytes_read = stats.file_bytes;

  json base_config = base ? json::parse(base->config_json()) : json();
  std::string config = compose_config(base_config, spec, created, {layer.diff_id},
                                      "strata build");
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
