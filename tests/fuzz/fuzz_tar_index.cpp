// The outer-archive index (image/tar_index): docker-archive and oci-archive files are
// read in place through it; every member is looked up, read and copied.
#include "fuzz_support.h"
#include "image/sink.h"
#include "image/tar_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  static fuzz::MemFile file;
  file.set(fuzz::as_text(data, size));
  return fuzz::expect_input_errors_only([&] {
    TarIndex index(file.fd(), "fuzz.tar");
    for (const auto& [name, member] : index.members()) {
      const TarIndex::Member* found = index.find(name);
      if (!found) continue;
      NullSink null;
      if (found->size <= (1u << 20)) index.read(name);
      index.copy(*found, null);
    }
  });
}
