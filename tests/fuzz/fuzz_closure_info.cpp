// A closureInfo dir: the input up to its first NUL byte is `registration`, the rest
// `store-paths`; read as `closureGraph` and `nix-db --graph` read it.
#include "fuzz_closure_graph.h"
#include "fuzz_support.h"
#include "image/closure/graph_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  std::string_view text = fuzz::as_text(data, size);
  size_t nul = text.find('\0');
  static TempDir dir("strata-fuzz-closure-info", fuzz::scratch_parent());
  write_file(dir.path() + "/registration", text.substr(0, nul));
  write_file(dir.path() + "/store-paths", nul == std::string_view::npos ? "" : text.substr(nul + 1));
  return fuzz::expect_input_errors_only([&] { fuzz::use_graph(closure::load_graph_file(dir.path(), "/nix/store")); });
}
