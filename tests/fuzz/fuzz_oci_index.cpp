// An OCI archive's index.json (manifests, annotations, digests), the blobs valid.
#include "fuzz_image_parts.h"

namespace {
const std::string layer = strata::fuzz::tiny_layer(), config = strata::fuzz::tiny_config(layer);
const std::string manifest = strata::fuzz::oci_manifest(config, layer).dump();
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  strata::fuzz::write_seed("valid-index.json", strata::fuzz::oci_index(manifest).dump());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata::fuzz;
  static MemFile file;
  write_archive(file, {{"oci-layout", R"({"imageLayoutVersion": "1.0.0"})"},
                       {"index.json", std::string(as_text(data, size))},
                       {blob(manifest), manifest},
                       {blob(config), config},
                       {blob(layer), layer}});
  read_archive(file);
  return 0;
}
