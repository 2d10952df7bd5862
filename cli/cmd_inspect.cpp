#include "cli/commands.h"
#include "cli/common.h"
#include "image/image_reader.h"
#include "image/image_writer.h"
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
    auto source = ImageSource::open(opts->image, {opts->name, opts->tag});
    std::vector<LayerDescriptor> layers = source->layers();
    // docker-archive records no blob digests for compressed layers: hash them.
    for (size_t i = 0; i < layers.size(); ++i) {
      if (!layers[i].digest.empty()) continue;
      NullSink null;
      DigestingSink digesting(null);
      source->copy_layer(i, digesting);
      layers[i].digest = digesting.digest();
      layers[i].size = digesting.size();
    }
    json layers_json = json::array();
    for (const auto& l : layers)
      layers_json.push_back({{"digest", l.digest},
                             {"diff_id", l.diff_id},
                             {"size", l.size},
                             {"mediaType", oci_layer_media_type(l.compression)}});
    json config;
    try {
      config = json::parse(source->config_json());
    } catch (const json::exception& e) {
      fail_input("{}: the config is not valid JSON: {}", opts->image, e.what());
    }
    std::string manifest = oci_manifest_json(source->config_json(), layers);
    print_json({{"image", opts->image},
                {"format", image_format_name(source->format())},
                {"repo_tags", source->repo_tags()},
                {"config_digest", sha256_digest(source->config_json())},
                {"manifest", json::parse(manifest)},
                {"config", config},
                {"layers", layers_json}});
  });
}

} // namespace strata::cli
