#include "cli/commands.h"
#include "cli/common.h"
#include "image/image_reader.h"
#include "image/image_writer.h"
#include "image/json_input.h"
#include "sys/error.h"

#include <memory>

namespace strata::cli {

using nlohmann::json;

void define_inspect_command(CommandLine& cmd) {
  struct Options {
    std::string image, name, tag;
  };
  auto opts = std::make_shared<Options>();
  cmd.option("IMAGE", opts->image, "docker-archive (plain, .gz, .zst), OCI dir or OCI archive").required();
  cmd.option("--name", opts->name, "Image name to pick from an archive holding several");
  cmd.option("--tag", opts->tag, "Tag to pick");
  add_global_flags(cmd);
  cmd.callback([opts] {
    ImageInfo image = read_image_info(opts->image, {opts->name, opts->tag});
    json layers_json = json::array();
    for (const auto& l : image.layers)
      layers_json.push_back({{"digest", l.digest},
                             {"diff_id", l.diff_id},
                             {"size", l.size},
                             {"mediaType", oci_layer_media_type(l.compression)}});
    json config = parse_json_input(image.config_json, opts->image + ": the config");
    std::string manifest = oci_manifest_json(image.config_json, image.layers);
    print_json({{"image", opts->image},
                {"format", image_format_name(image.format)},
                {"repo_tags", image.repo_tags},
                {"config_digest", sha256_digest(image.config_json)},
                {"manifest", json::parse(manifest)},
                {"config", config},
                {"layers", layers_json}});
  });
}

} // namespace strata::cli
