// `strata build`: dockerTools.buildImage. One new layer (copyToRoot, its store closure,
// extraCommands) over an optional base image whose layers are kept byte for byte.
#pragma once
#include "image/dockertools/root_script.h"
#include "image/image_format.h"
#include "image/image_writer.h"
#include "image/layer_writer.h"
#include "image/spec.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace strata {

struct BuildTarget {
  std::string output; // path, or "-" for stdout
  ImageFormat format = ImageFormat::DockerArchive;
  ImageWriter* writer = nullptr; // when set (a registry), the image goes there instead
};

struct BuildEvents {
  std::function<void(const std::string& step)> step;  // "copying base layer 1/3", …
  ProgressFn layer_progress;                            // uncompressed bytes of the layer being written
};

struct BuiltLayer {
  LayerDescriptor descriptor;
  std::string source; // "base" or "new"
};

struct BuildReport {
  std::string name, tag;
  std::string output;
  ImageFormat format = ImageFormat::DockerArchive;
  std::string config_digest;
  std::vector<BuiltLayer> layers;
  std::vector<std::string> store_paths; // in the new layer(s), in layer order
  std::vector<std::vector<std::string>> store_layers; // layered images: the paths of each store layer
  uint64_t entries_written = 0;
  uint64_t file_bytes_read = 0;  // file content read from disk, over every pass
  uint64_t layers_from_cache = 0;
  std::string cache_dir; // layered images: the store-layer cache used ("" for none)
  std::optional<RootScriptReport> root_script;

  nlohmann::json to_json() const;
};

// runner runs runAsRoot; without one a spec with runAsRoot is refused.
BuildReport build_image(const Spec& spec, const BuildTarget& target, const BuildEvents& events = {},
                        RootScriptRunner* runner = nullptr);


// The tag dockerTools would derive: the first 32 hex digits of the config's digest.
std::string content_tag(const std::string& config_json);

} // namespace strata
