#include "cli/commands.h"
#include "cli/common.h"
#include "image/image_reader.h"
#include "mount/flatten.h"
#include "sys/files.h"
#include "sys/owner_table.h"

#include <fmt/format.h>
#include <memory>
#include <optional>
#include <unistd.h>

namespace strata::cli {

void define_unpack_command(CommandLine& cmd) {
  struct Options {
    std::string image, dir, name, tag, max_size;
  };
  auto opts = std::make_shared<Options>();
  cmd.option("IMAGE", opts->image, "docker-archive (plain, .gz, .zst), OCI dir or OCI archive").required();
  cmd.option("DIR", opts->dir, "Directory to create (or an empty one); appears only when complete")
      .required();
  cmd.option("--name", opts->name, "Image name to pick from an archive holding several");
  cmd.option("--tag", opts->tag, "Tag to pick");
  cmd.option("--max-layer-size", opts->max_size,
             "Refuse a layer whose files hold more than SIZE bytes uncompressed (k, m, g, t suffixes; default: no "
             "limit): exit 2 naming the layer, nothing left at DIR")
      .not_empty();
  add_global_flags(cmd);
  cmd.callback([opts] {
    mount::UnpackOptions options;
    if (!opts->max_size.empty()) options.max_bytes = parse_size(opts->max_size, "--max-layer-size");
    auto image = ImageSource::open(opts->image, {opts->name, opts->tag});
    mount::UnpackStats stats = mount::unpack_image_to(*image, opts->dir, options); // probes for an owner table
    const std::string table = owner_table_path(absolute_path(opts->dir));
    const bool has_table = path_exists(table);
    const char* owners = has_table ? "table" : ::geteuid() == 0 ? "real" : "xattr"; // as export says it
    if (global_options().json) {
      nlohmann::json report = {{"image", opts->image},
                               {"dir", opts->dir},
                               {"layers", image->layers().size()},
                               {"owners", owners},
                               {"stats", mount::unpack_stats_json(stats)}};
      if (has_table) report["owner_table"] = table;
      print_json(report);
      return;
    }
    note(fmt::format("unpacked {} ({} layers, {} entries) -> {}", opts->image, image->layers().size(),
                     stats.entries, opts->dir));
    if (has_table)
      note(fmt::format("owners and modes the disk cannot hold are in {} (user xattrs are refused here; the format: "
                       "sys/owner_table.h)",
                       table));
    else if (stats.recorded > 0)
      verbose(fmt::format("{} entries keep their owner or mode in user.containers.override_stat", stats.recorded));
    if (stats.unrecorded_owners > 0)
      note(fmt::format("warning: the owners of {} symlinks could not be set nor recorded", stats.unrecorded_owners));
  });
}

} // namespace strata::cli
