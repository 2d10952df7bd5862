#include "cli/archive_compression.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "cli/registry_flags.h"
#include "cli/sandbox_flags.h"
#include "cli/spec_flags.h"
#include "image/dockertools/build_image.h"

#include <fmt/format.h>
#include <memory>

namespace strata::cli {

// The default output: <name>.tar (archives) or <name>.oci (OCI dir) in the working dir.
std::string default_output_path(const std::string& image_name, ImageFormat format) {
  std::string base = image_name;
  for (char& c : base)
    if (c == '/' || c == ':') c = '_';
  switch (format) {
  case ImageFormat::OciDir: return base + ".oci";
  case ImageFormat::OciArchive: return base + ".oci.tar";
  case ImageFormat::RegistryDir: return base + ".registry";
  case ImageFormat::DockerArchive: break;
  }
  return base + ".tar";
}

void define_build_command(CommandLine& cmd) {
  struct Options {
    SpecFlags spec;
    std::string output, format = "docker-archive";
    SandboxFlags sandbox;
    RegistryFlags registry;
    ArchiveCompression archive;
  };
  auto opts = std::make_shared<Options>();
  opts->spec.add_to(cmd, false);
  cmd.option("-o,--output", opts->output, "Output path, - for stdout, or docker://HOST/REPO[:TAG] (default: NAME.tar)").not_empty();
  cmd.option("--format", opts->format, "docker-archive (default), oci-dir or oci-archive");
  opts->archive.add_to(cmd);
  opts->sandbox.add_to(cmd);
  opts->registry.add_to(cmd);
  add_global_flags(cmd);
  cmd.callback([opts] {
    ImageFormat format = parse_image_format(opts->format, "--format");
    Spec spec = opts->spec.load();
    std::string output = opts->output.empty() ? default_output_path(spec.name, format) : opts->output;
    BuildTarget target{opts->archive.begin(output, format), format};
    Progress progress;
    auto base = pull_remote_base(spec, opts->registry, progress);
    auto registry = open_registry_output(target.output, opts->registry, progress, format != ImageFormat::DockerArchive);
    if (registry) target.writer = registry->writer.get();
    BuildEvents events;
    events.step = [&](const std::string& s) { progress.step(s); };
    events.layer_progress = [&](uint64_t n) { progress.bytes(n); };
    engine::SandboxRootScriptRunner runner(opts->sandbox.options());
    BuildReport report = build_image(spec, target, events, &runner);
    opts->archive.finish();
    target.output = output;
    report.output = output;
    progress.done();
    if (global_options().json) {
      nlohmann::json j = report.to_json();
      if (registry) j["push"] = registry->push->report().to_json();
      print_json(j);
      return;
    }
    if (registry) return note_push(registry->push->report());
    note(fmt::format("built {}:{} ({} layers) -> {} ({})", report.name, report.tag, report.layers.size(),
                     target.output == "-" ? "stdout" : target.output, image_format_name(format)));
  });
}

} // namespace strata::cli
