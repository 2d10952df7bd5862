#include "cli/archive_compression.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "cli/registry_flags.h"
#include "cli/sandbox_flags.h"
#include "cli/spec_flags.h"
#include "image/dockertools/layer_cache.h"
#include "image/dockertools/layered_image.h"
#include "sys/cache_root.h"
#include "sys/error.h"
#include "sys/files.h"

#include <fmt/format.h>
#include <memory>

namespace strata::cli {

std::string default_output_path(const std::string& image_name, ImageFormat format);

namespace {

struct LayeredOptions {
  SpecFlags spec;
  std::string output, format = "docker-archive", cache_dir;
  bool no_cache = false;
  SandboxFlags sandbox;
  RegistryFlags registry;
  ArchiveCompression archive;
};

void add_cache_flags(CommandLine& cmd, LayeredOptions& o) {
  cmd.option("--cache-dir", o.cache_dir, "Layer cache (default: $XDG_CACHE_HOME/strata)");
  cmd.flag("--no-cache", o.no_cache, "Neither read nor write the layer cache");
  o.sandbox.add_to(cmd);
  o.registry.add_to(cmd);
}

// The layer cache to use: none with --no-cache, --cache-dir as given (an unusable one is an
// error), else the default one when it can be made: a build where HOME is not writable
// (e.g. a Nix build sandbox, HOME=/homeless-shelter) has it under $TMPDIR (sys/cache_root.h);
// where not even that can be made, it runs without a cache.
std::string choose_cache_dir(const LayeredOptions& o) {
  if (o.no_cache) return "";
  if (!o.cache_dir.empty()) return o.cache_dir;
  std::string dir = LayerCache::default_dir();
  if (dir.empty()) return "";
  try {
    LayerCache probe(dir);
  } catch (const InputError& e) {
    note(fmt::format("{}; building without the layer cache (see --cache-dir, --no-cache)", e.what()));
    return "";
  }
  verbose(fmt::format("layer cache {} ({})", dir, cache_root().why));
  return dir;
}

void run(LayeredOptions& o, bool stream, bool registry = false) {
  ImageFormat format = registry ? ImageFormat::RegistryDir
                       : stream ? ImageFormat::DockerArchive
                                : parse_image_format(o.format, "--format");
  Spec spec = o.spec.load();
  // streamLayeredImage sends plain tar layers unless compression is asked for
  if (stream && !spec.compression_given) spec.compression = Compression::None;
  LayeredTarget target;
  target.stream = stream;
  target.format = format;
  std::string output = stream ? "-" : (o.output.empty() ? default_output_path(spec.name, format) : o.output);
  target.output = stream || registry ? output : o.archive.begin(output, format);
  target.cache_dir = choose_cache_dir(o);
  Progress progress;
  auto base = pull_remote_base(spec, o.registry, progress);
  auto pushed = stream ? nullptr
                       : open_registry_output(target.output, o.registry, progress,
                                              format == ImageFormat::OciDir || format == ImageFormat::OciArchive);
  if (pushed) target.writer = pushed->writer.get();
  BuildEvents events;
  events.step = [&](const std::string& s) { progress.step(s); };
  events.layer_progress = [&](uint64_t n) { progress.bytes(n); };
  engine::SandboxRootScriptRunner runner(o.sandbox.options());
  BuildReport report = build_layered(spec, target, events, &runner);
  o.archive.finish();
  target.output = output;
  report.output = output;
  progress.done();
  if (pushed) {
    if (!global_options().json) return note_push(pushed->push->report());
    nlohmann::json j = report.to_json();
    j["push"] = pushed->push->report().to_json();
    return print_json(j);
  }
  if (registry) {
    if (global_options().json) print_json(nlohmann::json::parse(read_file(target.output + "/build.json")));
    else note(fmt::format("registry manifest for {}:{} ({} layers) -> {}/manifest.json, layer map in {}/build.json",
                          report.name, report.tag, report.layers.size(), target.output, target.output));
    return;
  }
  if (global_options().json && !stream) {
    print_json(report.to_json());
    return;
  }
  if (global_options().json) {
    // stdout carries the image: the report goes to stderr
    std::fprintf(stderr, "%s\n", report.to_json().dump().c_str());
    return;
  }
  note(fmt::format("built {}:{} ({} layers, {} store paths) -> {}", report.name, report.tag, report.layers.size(),
                   report.store_paths.size(), stream ? "stdout" : target.output));
}

} // namespace

void define_layered_command(CommandLine& cmd) {
  auto opts = std::make_shared<LayeredOptions>();
  opts->spec.add_to(cmd, true);
  cmd.option("-o,--output", opts->output, "Output path, or docker://HOST/REPO[:TAG] (default: NAME.tar)").not_empty();
  cmd.option("--format", opts->format, "docker-archive (default), oci-dir or oci-archive");
  opts->archive.add_to(cmd);
  add_cache_flags(cmd, *opts);
  add_global_flags(cmd);
  cmd.callback([opts] { run(*opts, false); });
}

void define_stream_command(CommandLine& cmd) {
  auto opts = std::make_shared<LayeredOptions>();
  opts->spec.add_to(cmd, true);
  add_cache_flags(cmd, *opts);
  add_global_flags(cmd);
  cmd.callback([opts] { run(*opts, true); });
}

void define_manifest_command(CommandLine& cmd) {
  auto opts = std::make_shared<LayeredOptions>();
  opts->spec.add_to(cmd, true);
  cmd.option("-o,--output", opts->output, "Output directory, or docker://HOST/REPO[:TAG] (default: NAME.registry)").not_empty();
  add_cache_flags(cmd, *opts);
  add_global_flags(cmd);
  cmd.callback([opts] {
    LayeredOptions& o = *opts;
    if (o.output.empty()) o.output = default_output_path(o.spec.load().name, ImageFormat::RegistryDir);
    run(o, false, true);
  });
}

} // namespace strata::cli
