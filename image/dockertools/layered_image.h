// `strata layered` / `strata stream`: dockerTools.buildLayeredImage and
// streamLayeredImage. The image's store paths are cut into layers by the spec's
// layeringPipeline (store_layering.h); contents, extraCommands and the Nix DB make the
// customisation layer, last.
#pragma once
#include "image/dockertools/build_image.h"

namespace strata {

struct LayeredTarget {
  std::string output;          // path; ignored when streaming
  ImageFormat format = ImageFormat::DockerArchive;
  bool stream = false;         // docker-archive to stdout, each layer sent as soon as it is made
  std::string cache_dir;       // empty: no layer cache
  ImageWriter* writer = nullptr; // when set (a registry), the image goes there instead of output
};

// runner runs fakeRootCommands; without one a spec with it is refused.
BuildReport build_layered(const Spec& spec, const LayeredTarget& target, const BuildEvents& events = {},
                          RootScriptRunner* runner = nullptr);

} // namespace strata
