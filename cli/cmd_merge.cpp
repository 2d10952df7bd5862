#include "cli/archive_compression.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "image/digest.h"
#include "image/dockertools/merge_images.h"
#include "image/spec.h"
#include "sys/fd.h"
#include "sys/files.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <memory>
#include <unistd.h>

namespace strata::cli {

namespace {

// How an input file is compressed as a whole (dockerTools' mergeImages looks at the last
// input's type); a directory or what cannot be read counts as plain, and the merge then
// names the input when it reads it.
Compression whole_file_compression(const std::string& path) {
  if (is_directory(path) || !path_exists(path)) return Compression::None;
  Fd file = open_input_file(path, "image");
  char magic[4] = {};
  ssize_t n = ::pread(file.get(), magic, sizeof magic, 0);
  return sniff_compression(magic, n > 0 ? static_cast<size_t>(n) : 0);
}

} // namespace

void define_merge_command(CommandLine& cmd) {
  struct Options {
    std::vector<std::string> images;
    std::string output;
    ArchiveCompression archive;
  };
  auto opts = std::make_shared<Options>();
  cmd.option("IMAGE", opts->images,
             "Images to merge, in order: docker-archive (plain, .gz, .zst), OCI dir or OCI archive; every image "
             "each holds is kept")
      .required();
  cmd.option("-o,--output", opts->output, "Output docker-archive, or - for stdout").required().not_empty();
  opts->archive.add_to(cmd, "Compress the whole archive: none (default), gzip, zstd, or last: as the last IMAGE "
                            "is (what dockerTools.mergeImages does)");
  add_global_flags(cmd);
  cmd.callback([opts] {
    if (opts->archive.name() == "last") opts->archive.choose(whole_file_compression(opts->images.back()));
    std::string target = opts->archive.begin(opts->output, ImageFormat::DockerArchive);
    Progress progress;
    MergeEvents events;
    events.step = [&](const std::string& s) { progress.step(s); };
    events.warn = [](const std::string& w) { note("warning: " + w); };
    auto writer = make_image_writer(ImageFormat::DockerArchive, target, layer_mtime(Spec{}));
    MergeReport report = merge_images(opts->images, *writer, events);
    writer.reset();
    opts->archive.finish();
    progress.done();
    std::vector<std::string> tags;
    for (const auto& image : report.images) tags.insert(tags.end(), image.repo_tags.begin(), image.repo_tags.end());
    if (global_options().json) {
      nlohmann::json images = nlohmann::json::array();
      for (const auto& image : report.images)
        images.push_back({{"config_digest", sha256_digest(image.config_json)},
                          {"repo_tags", image.repo_tags},
                          {"layers", image.layers.size()}});
      print_json({{"output", opts->output},
                  {"images", images},
                  {"layers_listed", report.layers_listed},
                  {"layers_stored", report.layers_stored}});
      return;
    }
    note(fmt::format("merged {} images ({}; {} layers, {} stored) -> {}", report.images.size(),
                     tags.empty() ? "untagged" : fmt::format("{}", fmt::join(tags, ", ")), report.layers_listed,
                     report.layers_stored, opts->output == "-" ? "stdout" : opts->output));
  });
}

} // namespace strata::cli
