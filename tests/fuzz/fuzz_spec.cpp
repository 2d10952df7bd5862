// The spec parser: a spec file's text, as `strata build SPEC` reads it.
#include "fuzz_support.h"
#include "image/image_config.h"
#include "image/json_input.h"
#include "image/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  return fuzz::expect_input_errors_only([&] {
    nlohmann::json object = parse_json_input(fuzz::as_text(data, size), "spec fuzz.json");
    Spec spec = parse_spec(object, "spec fuzz.json", "/nonexistent-spec-dir");
    // what a build does next with the values
    layer_mtime(spec);
    nix_registration_time(spec.created);
    compose_config(nlohmann::json(), spec, spec.created == "now" ? "2000-01-01T00:00:00Z" : spec.created,
                   {"sha256:" + std::string(64, 'a')}, "fuzz");
  });
}
