// docker-archive's manifest.json (RepoTags, Config, Layers), the rest of the archive valid.
#include "fuzz_image_parts.h"

namespace {
const std::string layer = strata::fuzz::tiny_layer(), config = strata::fuzz::tiny_config(layer);
const std::string manifest =
    nlohmann::json::array({{{"Config", "config.json"}, {"RepoTags", {"fuzz:latest"}}, {"Layers", {"layer.tar"}}}}).dump();
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  strata::fuzz::write_seed("valid-manifest.json", manifest);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata::fuzz;
  static MemFile file;
  write_archive(file, {{"config.json", config}, {"layer.tar", layer}, {"manifest.json", std::string(as_text(data, size))}});
  read_archive(file);
  return 0;
}
