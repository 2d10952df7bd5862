// An OCI image manifest (config and layer descriptors), reached from a valid index.json
// that names it by its digest; the config and layer blobs valid.
#include "fuzz_image_parts.h"

namespace {
const std::string layer = strata::fuzz::tiny_layer(), config = strata::fuzz::tiny_config(layer);
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  strata::fuzz::write_seed("valid-manifest.json", strata::fuzz::oci_manifest(config, layer).dump());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata::fuzz;
  static MemFile file;
  std::string manifest(as_text(data, size));
  write_archive(file, {{"oci-layout", R"({"imageLayoutVersion": "1.0.0"})"},
                       {"index.json", oci_index(manifest).dump()},
                       {blob(manifest), manifest},
                       {blob(config), config},
                       {blob(layer), layer}});
  read_archive(file);
  return 0;
}
