#include "cli/commands.h"
#include "cli/common.h"
#include "sys/files.h"
#include "image/image_reader.h"
#include "image/spec.h"
#include "engine/export_image.h"
#include "sys/error.h"
#include "sys/temp.h"

#include <fmt/format.h>
#include <memory>
#include <optional>
#include <unistd.h>

namespace strata::cli {

void define_export_command(CommandLine& cmd) {
  struct Options {
    std::string image, output = "-", name, tag, compress = "none";
    std::optional<int64_t> mtime;
  };
  auto opts = std::make_shared<Options>();
  cmd.option("IMAGE", opts->image, "docker-archive (plain, .gz, .zst), OCI dir or OCI archive").required();
  cmd.option("-o,--output", opts->output, "Output file, or - for stdout (the default; not a terminal)").not_empty();
  cmd.option("--name", opts->name, "Image name to pick from an archive holding several");
  cmd.option("--tag", opts->tag, "Tag to pick");
  cmd.option("--compress", opts->compress, "none (default), gzip or zstd");
  cmd.option("--mtime", opts->mtime,
             "mtime of every entry, seconds since the epoch (default: $SOURCE_DATE_EPOCH, else 1)");
  add_global_flags(cmd);
  cmd.callback([opts] {
    Compression compression = parse_compression(opts->compress, "--compress");
    bool to_stdout = opts->output == "-";
    if (to_stdout && global_options().json)
      fail_input("export: --json prints to stdout, where the tar goes: give -o FILE with --json");
    if (to_stdout && ::isatty(STDOUT_FILENO))
      fail_input("export: refusing to write a tar to a terminal: give -o FILE or redirect stdout");
    if (to_stdout) require_writable_stdout();
    Spec timing;
    timing.mtime = opts->mtime;

    auto image = ImageSource::open(opts->image, {opts->name, opts->tag});
    std::unique_ptr<AtomicFile> file;
    if (!to_stdout) file = std::make_unique<AtomicFile>(opts->output);

    FdSink sink(file ? file->fd() : STDOUT_FILENO, file ? opts->output : "stdout");
    engine::ExportResult exported = engine::export_image(*image, compression, layer_mtime(timing), sink);
    const LayerDigests& tar = exported.tar;
    if (file) file->commit();
    if (global_options().json) {
      print_json({{"image", opts->image},
                  {"output", opts->output},
                  {"layers", image->layers().size()},
                  {"diff_id", tar.diff_id},
                  {"digest", tar.digest},
                  {"size", tar.size},
                  {"compression", compression_name(compression)},
                  {"entries", tar.entries},
                  {"file_bytes", exported.file_bytes},
                  {"owners", exported.owners},
                  {"unpack", exported.unpack}});
      return;
    }
    note(fmt::format("exported {} ({} layers, {} entries) -> {}", opts->image, image->layers().size(), tar.entries,
                     to_stdout ? "stdout" : opts->output));
  });
}

} // namespace strata::cli
