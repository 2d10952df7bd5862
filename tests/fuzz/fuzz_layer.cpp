// The layer reader (image/layer_reader, image/verified_layer): a layer blob, plain tar,
// gzip, zstd, bzip2 or xz, as the one layer of an otherwise valid docker-archive; every
// entry header and all its data read, then the layer checked against its diff_id, as
// base-image scans and exports read layers.
#include "fuzz_image_parts.h"
#include "image/layer_reader.h"

#include <archive.h>
#include <archive_entry.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  using namespace strata::fuzz;
  static MemFile file;
  std::string layer(as_text(data, size));
  // The diff_id of the input as a plain tar: a compressed input fails the check at the
  // end, after all its entries were read.
  write_archive(file, {{"config.json", tiny_config(layer)},
                       {"layer.bin", layer},
                       {"manifest.json", nlohmann::json::array({{{"Config", "config.json"},
                                                                 {"RepoTags", {"fuzz:latest"}},
                                                                 {"Layers", {"layer.bin"}}}})
                                             .dump()}});
  return expect_input_errors_only([&] {
    auto image = ImageSource::open(file.path());
    std::vector<char> buffer(1 << 16);
    read_layer_entries(*image, 0, [&](archive* a, archive_entry* entry) {
      (void)archive_entry_size(entry);
      (void)archive_entry_symlink(entry);
      (void)archive_entry_hardlink(entry);
      while (archive_read_data(a, buffer.data(), buffer.size()) > 0) {
      }
    });
  });
}
