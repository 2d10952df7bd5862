// The rootless unpacker (mount/unpack): a layer tar (plain, gzip, zstd) made into a
// layer dir and applied onto a rootfs, as the layer cache, `unpack` and `run` do.
// Beyond crashes it checks the promise: nothing is made outside the target.
#include "fuzz_support.h"
#include "mount/layer_input.h"
#include "mount/unpack.h"

#include <cstdlib>
#include <cstring>
#include <dirent.h>

namespace {

std::vector<std::string> entries_of(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") names.push_back(e->d_name);
    ::closedir(d);
  }
  return names;
}

void unpack_into_box(std::string_view bytes, bool apply) {
  using namespace strata;
  TempDir box("strata-fuzz-unpack", fuzz::scratch_parent());
  std::string target = box.path() + "/target";
  make_dirs(target);
  mount::UnpackOptions options;
  options.owners = mount::OwnerPolicy::Record; // never chown, never a real device
  size_t offset = 0;
  mount::LayerInput input("fuzz", [&](void* buffer, size_t capacity) {
    size_t n = std::min(capacity, bytes.size() - offset);
    std::memcpy(buffer, bytes.data() + offset, n);
    offset += n;
    return n;
  });
  try {
    if (apply) mount::apply_layer(input, target, options);
    else mount::unpack_layer_dir(input, target, options);
  } catch (const InputError&) {
  }
  if (entries_of(box.path()) != std::vector<std::string>{"target"}) std::abort(); // written outside the target
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = strata::fuzz::as_text(data, size);
  unpack_into_box(bytes, false);
  unpack_into_box(bytes, true);
  return 0;
}
