#include "mount/image_layer.h"

#include <fmt/format.h>

namespace strata::mount {

ImageLayerInput::ImageLayerInput(const ImageSource& image, size_t layer_index)
    : layer_(image, layer_index),
      input_(fmt::format("{} ({})", layer_index + 1, image.layers()[layer_index].diff_id),
             [this](void* buffer, size_t capacity) { return layer_.read(buffer, capacity); }) {}

} // namespace strata::mount
