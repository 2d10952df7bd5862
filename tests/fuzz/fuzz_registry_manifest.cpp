// What a pull reads from a registry's manifest answer: a manifest list / OCI index (the
// platform choice) or an image manifest (its config and layer descriptors), as
// registry::pull_image parses them; no network.
#include "fuzz_support.h"
#include "image/registry/pull.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  nlohmann::json doc = nlohmann::json::parse(fuzz::as_text(data, size), nullptr, false);
  if (doc.is_discarded()) return 0; // pull refuses non-JSON before parsing further
  for (const registry::Platform& platform :
       {registry::Platform{"linux", "amd64", ""}, registry::Platform{"linux", "arm", "v7"}})
    fuzz::expect_input_errors_only([&] { registry::choose_platform(doc, platform, "docker://fuzz/x"); });
  fuzz::expect_input_errors_only([&] { registry::parse_image_manifest(doc, "docker://fuzz/x"); });
  std::string announced = doc.is_object() && doc.contains("mediaType") && doc["mediaType"].is_string()
                              ? doc["mediaType"].get<std::string>()
                              : "";
  fuzz::expect_input_errors_only([&] { registry::image_manifest_media_type(doc, announced, "docker://fuzz/x"); });
  return 0;
}
