// The image readers end to end (image/image_reader): a whole docker-archive or OCI
// archive, plain or compressed (.tar.gz, .tar.zst), opened as `build --from-image` and
// `unpack` open it, every layer located and its entries read, then read again the way
// `inspect` streams it.
#include "fuzz_support.h"
#include "image/image_reader.h"
#include "image/layer_reader.h"

#include <archive.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  static fuzz::MemFile file;
  file.set(fuzz::as_text(data, size));
  fuzz::expect_input_errors_only([&] {
    auto image = ImageSource::open(file.path());
    std::vector<char> buffer(1 << 16);
    for (size_t i = 0; i < image->layers().size(); ++i) {
      NullSink null;
      image->copy_layer(i, null);
      fuzz::expect_input_errors_only([&] {
        read_layer_entries(*image, i, [&](archive* a, archive_entry*) {
          while (archive_read_data(a, buffer.data(), buffer.size()) > 0) {
          }
        });
      });
    }
  });
  fuzz::expect_input_errors_only([&] { read_image_info(file.path()); });
  return 0;
}
