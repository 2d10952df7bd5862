#include "image/dockertools/layered_image.h"

#include "image/dockertools/customisation.h"
#include "image/dockertools/layer_cache.h"
#include "image/dockertools/layer_limit.h"
#include "image/dockertools/store_layering.h"
#include "image/closure/graph_file.h"
#include "image/closure/popularity.h"
#include "image/closure/scanner.h"
#include "image/closure/store_path.h"
#include "image/image_config.h"
#include "image/image_reader.h"
#include "image/image_writer.h"
#include "image/nix/seed.h"
#include "image/shadow.h"
#include "image/tree_source.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <algorithm>
#include <cstdlib>
#include <fcntl.h>
#include <optional>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

using nlohmann::json;

namespace {


void copy_file_to(const std::string& path, ByteSink& out) {
  Fd fd = open_or_fail(path, O_RDONLY);
  std::vector<char> buf(1 << 20);
  for (;;) {
    size_t n = read_full(fd.get(), buf.data(), buf.size(), path);
    if (n) out.write(buf.data(), n);
    if (n < buf.size()) break;
  }
}

// The store paths the image is made of, and what references them.
struct StorePlan {
  closure::ClosureGraph graph{{}, "/nix/store", "empty"};
  closure::ImageRoots roots;
  // The Nix DB's gcroots/docker: contents that are store paths and the store paths the
  // other contents name (not what the scripts or the joined links add).
  std::vector<std::string> gc_roots;
};

// The customisation layer (`custom`, after the scripts) is a store path in dockerTools:
// the image holds the closure of what it is made of and what its files name, as Nix finds
// it, and of what the config names.
StorePlan plan_store(const Spec& spec, const std::string& custom_dir) {
  StorePlan plan;
  bool have_store = is_directory(spec.store_dir);
  std::optional<closure::StoreScanner> scanner;
  if (have_store) scanner.emplace(closure::StoreLocation{spec.store_dir, ""});
  std::optional<closure::ClosureGraph> given;
  if (!spec.closure_graph.empty()) given = closure::load_graph_file(spec.closure_graph, spec.store_dir);

  std::set<std::string> custom;
  for (const auto& path : spec.copy_to_root) {
    std::string entry = closure::follow_links_to_store(path, spec.store_dir, "contents path");
    if (auto sp = closure::containing_store_path(entry, spec.store_dir)) custom.insert(*sp);
    else if (spec.include_nix_db && (scanner || given))
      for (auto& r : scanner ? scanner->references_of_tree(entry) : closure::find_graph_references(entry, *given))
        custom.insert(r);
  }
  plan.gc_roots.assign(custom.begin(), custom.end());
  if (scanner || given)
    for (auto& r : scanner ? scanner->references_of_tree(custom_dir) : closure::find_graph_references(custom_dir, *given))
      custom.insert(r);
  std::string config_text = spec.config.dump();
  std::set<std::string> config_refs;
  if (given) {
    for (const auto& node : given->nodes())
      if (config_text.find(closure::hash_part_of(node.path, spec.store_dir)) != std::string::npos)
        config_refs.insert(node.path);
  } else if (scanner) {
    for (auto& r : scanner->references_of_bytes(config_text)) config_refs.insert(r);
  }
  plan.roots.customisation_references.assign(custom.begin(), custom.end());
  plan.roots.config_references.assign(config_refs.begin(), config_refs.end());
  std::vector<std::string> all(custom.begin(), custom.end());
  all.insert(all.end(), config_refs.begin(), config_refs.end());
  if (all.empty()) return plan;
  plan.graph = given ? given->closure_of(all) : scanner->closure(all);
  for (const auto& node : plan.graph.nodes())
    if (!path_exists(node.path)) fail_input("store path {} is missing on disk", node.path);
  return plan;
}

// A store path's content is its NAR, which has no hard links: a store optimised with
// hard links (auto-optimise-store) must give the same layer as one that is not, so a
// store layer writes every hard link as a regular file, as nixpkgs'
// stream_layered_image.py does. Store layers map each path at its own name, so an
// entry's host path is "/" + its layer path. Returns the file bytes it read.
uint64_t visit_store_entries(const std::vector<TreeMapping>& mappings, const TreeOptions& options,
                             const EntryVisitor& visit) {
  uint64_t extra_bytes = 0;
  TreeStats stats = walk_trees(mappings, options, [&](LayerEntry& e) {
    if (e.type != EntryType::Hardlink) return visit(e);
    std::string host = "/" + e.path;
    Fd content = open_or_fail(host, O_RDONLY | O_NOFOLLOW);
    struct stat st;
    if (::fstat(content.get(), &st) < 0) fail_errno(fmt::format("cannot stat {}", host));
    e.type = EntryType::File;
    e.link_target.clear();
    e.size = static_cast<uint64_t>(st.st_size);
    e.content_fd = e.size > 0 ? content.get() : -1;
    extra_bytes += e.size;
    visit(e);
  });
  return stats.file_bytes + extra_bytes;
}

std::string layer_options(const Spec& spec, int64_t mtime) {
  return fmt::format("compression={} mtime={} owner={}:{}:{}:{} store={}", compression_name(spec.compression), mtime,
                     spec.owner.uid, spec.owner.gid, spec.owner.uname, spec.owner.gname, spec.store_dir);
}

// Writes layers into the image writer: from the cache when it has them, streaming them
// in one pass when the writer can seek back, or after a digest pass when it cannot.
class LayerEmitter {
public:
  LayerEmitter(ImageWriter& writer, const LayerCache& cache, const Spec& spec, const BuildEvents& events)
      : writer_(writer), cache_(cache), spec_(spec), events_(events) {}

  LayerDescriptor emit(const EntryProducer& produce, const std::string& cache_key) {
    std::optional<CachedLayer> cached = cache_key.empty() ? std::nullopt : cache_.lookup(cache_key);
    if (cached) ++layers_from_cache;
    if (cached && writer_.has_layer(cached->descriptor)) { // a registry that has it: nothing read
      writer_.end_layer(cached->descriptor);
      return cached->descriptor;
    }
    if (writer_.needs_known_layers()) {
      if (!cached) {
        NullSink null;
        LayerDigests d = write_layer(produce, spec_.compression, null);
        cached = CachedLayer{{d.digest, d.size, d.diff_id, d.compression}, d.uncompressed_size, ""};
        if (!cache_key.empty()) cache_.remember(cache_key, *cached);
      }
      ByteSink& sink = writer_.begin_known_layer(cached->descriptor);
      if (!cached->blob_path.empty()) {
        copy_file_to(cached->blob_path, sink);
      } else {
        LayerDigests d = write_layer(produce, spec_.compression, sink, events_.layer_progress);
        if (d.digest != cached->descriptor.digest) fail_work("a store path changed while the image was streamed");
      }
      writer_.end_layer(cached->descriptor);
      return cached->descriptor;
    }
    if (cached && !cached->blob_path.empty()) {
      ByteSink& sink = writer_.begin_layer();
      copy_file_to(cached->blob_path, sink);
      writer_.end_layer(cached->descriptor);
      return cached->descriptor;
    }
    ByteSink& out = writer_.begin_layer();
    auto blob = cache_key.empty() ? nullptr : cache_.new_blob();
    std::unique_ptr<TeeSink> tee = blob ? std::make_unique<TeeSink>(out, *blob) : nullptr;
    LayerDigests d = write_layer(produce, spec_.compression, tee ? static_cast<ByteSink&>(*tee) : out,
                                 events_.layer_progress);
    LayerDescriptor desc{d.digest, d.size, d.diff_id, d.compression};
    writer_.end_layer(desc);
    if (blob) cache_.remember(cache_key, {desc, d.uncompressed_size, blob->commit(d.digest)});
    return desc;
  }

  uint64_t layers_from_cache = 0;

private:
  ImageWriter& writer_;
  const LayerCache& cache_;
  const Spec& spec_;
  const BuildEvents& events_;
};

} // namespace

BuildReport build_layered(const Spec& spec, const LayeredTarget& target, const BuildEvents& events,
                          RootScriptRunner* runner) {
  auto step = [&](const std::string& s) {
    if (events.step) events.step(s);
  };
  if (!spec.run_as_root.empty()) fail_input("runAsRoot belongs to 'strata build'; layered images take fakeRootCommands");
  if (!spec.fake_root_commands.empty() && !runner)
    fail_input("fakeRootCommands needs the sandbox, which this caller does not provide");
  if (!target.stream && target.output.empty()) fail_input("no output path given");
  LayerCache cache(target.cache_dir); // an unusable cache dir is an error before any work

  std::unique_ptr<ImageSource> base;
  if (!spec.from_image.empty()) {
    step("reading base image " + spec.from_image);
    base = ImageSource::open(spec.from_image, {spec.from_image_name, spec.from_image_tag});
  }
  int base_count = base ? static_cast<int>(base->layers().size()) : 0;
  check_store_layering(spec, base_count);

  int64_t mtime = layer_mtime(spec);
  std::string created = resolve_created(spec.created);
  TempDir staging("strata-custom");
  ::chmod(staging.path().c_str(), 0755);
  lay_out_customisation(spec.copy_to_root, spec.store_dir, staging.path());
  if (spec.shadow_setup) shadow_setup(staging.path());
  if (!spec.extra_commands.empty()) {
    step("running extraCommands");
    run_extra_commands(runner, spec, staging.path());
  }
  // fakeRootCommands: as root with the customisation layer as the root (cwd), the store
  // visible, as dockerTools runs them under fakeroot (with enableFakechroot, in a chroot
  // of the layer); its chown and mknod reach the layer.
  std::optional<RootScriptReport> fake_root;
  struct RemoveWithRunner {
    RootScriptRunner* runner = nullptr;
    std::string dir;
    ~RemoveWithRunner() {
      if (!runner) return;
      try {
        runner->remove(dir);
      } catch (...) {
      }
    }
  } staging_cleanup;
  if (!spec.fake_root_commands.empty()) {
    step("running fakeRootCommands");
    staging_cleanup.dir = staging.path();
    staging_cleanup.runner = runner;
    RootScriptRequest request;
    request.upper = staging.path();
    request.script = spec.fake_root_commands;
    request.store_dir = spec.store_dir;
    request.what = "fakeRootCommands";
    fake_root = runner->run(request);
    if (fake_root->exit_status != 0) fail_root_script(*fake_root, "fakeRootCommands");
    runner->make_upper_readable(staging.path());
  }
  step("computing the store closure");
  StorePlan plan = plan_store(spec, staging.path());
  std::vector<std::string> image_paths;
  if (spec.include_store_paths)
    for (const auto& node : plan.graph.nodes()) image_paths.push_back(node.path);
  if (spec.include_nix_db) {
    step("writing the Nix database");
    nix::SeedOptions seed;
    seed.store = closure::StoreLocation{spec.store_dir, ""};
    seed.registration_time = nix_registration_time(spec.created); // not `created`: "now" must not reach a layer
    seed.gc_roots = plan.gc_roots;
    seed_nix_db(staging.path(), plan.graph.closure_of(image_paths), seed);
  }

  TreeOptions options;
  options.mtime = mtime;
  options.owner = spec.owner;
  uint64_t bytes_read = 0;
  EntryProducer produce_customisation = [&](const EntryVisitor& layer_visit) {
    EntryVisitor visit = apply_perms(spec.perms, layer_visit);
    if (fake_root) runner->walk_upper(staging.path(), mtime, visit); // owners as the script set them
    else bytes_read += walk_trees({{staging.path(), ""}}, options, visit).file_bytes;
  };
  std::vector<std::vector<std::string>> groups;
  if (spec.include_store_paths) {
    step("choosing the store layers");
    auto customisation_tar_size = [&] {
      uint64_t read_before = bytes_read;
      NullSink null;
      uint64_t size = write_layer(produce_customisation, Compression::None, null).uncompressed_size;
      bytes_read = read_before;
      return size;
    };
    groups = cut_store_layers(spec, base_count, {plan.graph, plan.roots, customisation_tar_size});
  }
  warn_if_unstackable(static_cast<size_t>(base_count) + groups.size() + 1);

  std::unique_ptr<ImageWriter> own_writer;
  if (!target.writer && target.stream) {
    if (::isatty(STDOUT_FILENO)) fail_input("refusing to stream an image to a terminal; pipe it or use 'strata layered -o FILE'");
    require_writable_stdout();
    own_writer = make_docker_stream_writer(STDOUT_FILENO, mtime);
  } else if (!target.writer) {
    own_writer = make_image_writer(target.format, target.output, mtime);
  }
  ImageWriter* writer = target.writer ? target.writer : own_writer.get();
  LayerEmitter emitter(*writer, cache, spec, events);
  BuildReport report;
  std::vector<std::string> new_diff_ids;

  // Every store layer's cache key (stats each file once, reads none), and the layers whose
  // digests are known before any is written: a registry is asked about them all at once.
  std::string cache_options = layer_options(spec, mtime);
  std::vector<std::string> keys;
  std::vector<LayerDescriptor> known = base ? base->layers() : std::vector<LayerDescriptor>{};
  for (const auto& group : groups) {
    keys.push_back(cache.enabled() ? LayerCache::key(group, cache_options) : "");
    if (auto cached = keys.back().empty() ? std::nullopt : cache.lookup(keys.back())) known.push_back(cached->descriptor);
  }
  writer->expect_layers(known);

  if (base) {
    for (size_t i = 0; i < base->layers().size(); ++i) {
      step(fmt::format("copying base layer {}/{}", i + 1, base->layers().size()));
      LayerDescriptor d = base->layers()[i];
      if (writer->has_layer(d)) { // a registry that has it: nothing read
        writer->end_layer(d);
        report.layers.push_back({d, "base"});
        continue;
      }
      if (writer->needs_known_layers() && d.digest.empty()) {
        NullSink null;
        DigestingSink digesting(null);
        base->copy_layer(i, digesting);
        d.digest = digesting.digest();
        d.size = digesting.size();
      }
      DigestingSink digesting(writer->needs_known_layers() ? writer->begin_known_layer(d) : writer->begin_layer());
      base->copy_layer(i, digesting);
      d.digest = digesting.digest();
      d.size = digesting.size();
      writer->end_layer(d);
      report.layers.push_back({d, "base"});
    }
  }

  std::string prefix = spec.store_dir.substr(1);
  for (size_t i = 0; i < groups.size(); ++i) {
    step(fmt::format("store layer {}/{}", i + 1, groups.size()));
    std::vector<TreeMapping> mappings;
    for (const auto& p : groups[i]) mappings.push_back({p, prefix + "/" + basename_of(p)});
    LayerDescriptor d = emitter.emit(
        [&](const EntryVisitor& visit) { bytes_read += visit_store_entries(mappings, options, visit); }, keys[i]);
    new_diff_ids.push_back(d.diff_id);
    report.layers.push_back({d, "store"});
  }

  step("customisation layer");
  LayerDescriptor custom = emitter.emit(produce_customisation, "");
  new_diff_ids.push_back(custom.diff_id);
  report.layers.push_back({custom, "customisation"});

  json base_config = base ? json::parse(base->config_json()) : json();
  std::string config = compose_config(base_config, spec, created, new_diff_ids, "strata layered");
  report.name = spec.name;
  report.tag = spec.tag.empty() ? content_tag(config) : spec.tag;
  report.output = target.stream ? "-" : target.output;
  report.cache_dir = target.cache_dir;
  report.format = target.stream ? ImageFormat::DockerArchive : target.format;
  report.config_digest = sha256_digest(config);
  for (const auto& group : groups) report.store_paths.insert(report.store_paths.end(), group.begin(), group.end());
  report.store_layers = groups;
  report.file_bytes_read = bytes_read;
  report.layers_from_cache = emitter.layers_from_cache;
  report.root_script = fake_root;
  step("writing the image");
  writer->commit(config, {report.name, report.tag});
  return report;
}

} // namespace strata
