// JSON closure graphs: an array of {path, references, narHash, narSize, deriver}, or the
// object exportReferencesGraph writes to .attrs.json with __structuredAttrs.
#include "fuzz_closure_graph.h"
#include "fuzz_support.h"
#include "image/closure/graph_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  return fuzz::expect_input_errors_only([&] {
    fuzz::use_graph(closure::parse_json_graph(fuzz::as_text(data, size), "graph.json", "/nix/store"));
  });
}
