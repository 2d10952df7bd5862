#include "mount/image_layer.h"

#include "sys/error.h"

#include <fmt/format.h>
#include <vector>

namespace strata::mount {
namespace {

const LayerDescriptor& layer_of(const ImageSource& image, size_t i) {
  if (i >= image.layers().size())
    fail_input("the image has {} layers: there is no layer {}", image.layers().size(), i + 1);
  return image.layers()[i];
}

LayerInput raw_input(const ImageSource& image, size_t i) {
  ImageSource::BlobLocation blob = image.layer_location(i);
  return LayerInput::from_fd_range(blob.fd, blob.offset, blob.size,
                                   fmt::format("{} ({})", i + 1, image.layers()[i].diff_id));
}

} // namespace

ImageLayerInput::ImageLayerInput(const ImageSource& image, size_t layer_index)
    : layer_(layer_of(image, layer_index)), raw_(raw_input(image, layer_index)),
      input_(raw_.name(), [this](void* buffer, size_t capacity) {
        size_t n = raw_.read(buffer, capacity);
        hasher_.update(buffer, n);
        return n;
      }) {}

void ImageLayerInput::verify() {
  std::vector<char> buffer(1 << 16);
  while (input_.read(buffer.data(), buffer.size()) > 0) {
  }
  std::string got = "sha256:" + hasher_.finish_hex();
  std::string want = !layer_.digest.empty() ? layer_.digest
                     : layer_.compression == Compression::None ? layer_.diff_id
                                                               : "";
  if (!want.empty() && got != want) fail_input("layer {} is corrupt: its bytes hash to {}, not {}", name(), got, want);
}

} // namespace strata::mount
