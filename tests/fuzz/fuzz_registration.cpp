// Registration text (closureInfo's `registration`, `nix-store --dump-db`) and
// exportReferencesGraph's text form, in any mix.
#include "fuzz_closure_graph.h"
#include "fuzz_support.h"
#include "image/closure/graph_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  return fuzz::expect_input_errors_only([&] {
    fuzz::use_graph(closure::parse_registration_text(fuzz::as_text(data, size), "registration", "/nix/store"));
  });
}
