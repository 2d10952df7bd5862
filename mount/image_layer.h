// A layer of an image as unpacker input: the uncompressed tar, checked against the
// layer's digest and diff_id as it passes (image/verified_layer.h), so that what was
// unpacked can be discarded when the layer is not what the image says.
#pragma once
#include "image/image_reader.h"
#include "image/verified_layer.h"
#include "mount/layer_input.h"

#include <string>

namespace strata::mount {

class ImageLayerInput {
public:
  // The unpacker says "layer N (sha256:…)" in its errors (name() is "N (sha256:…)").
  ImageLayerInput(const ImageSource& image, size_t layer_index);
  ImageLayerInput(const ImageLayerInput&) = delete;
  ImageLayerInput& operator=(const ImageLayerInput&) = delete;

  LayerInput& input() { return input_; }
  const std::string& name() const { return input_.name(); }

  // Reads what the unpacker left unread (trailing blocks), then checks the stored bytes
  // against the blob digest (where the image records one) and the tar against the
  // diff_id: InputError "<image>: layer N (…) is corrupt: …" when they differ. Call
  // once, after unpacking, before anything unpacked is kept.
  void verify() { layer_.verify(); }

private:
  VerifiedLayer layer_;
  LayerInput input_;
};

} // namespace strata::mount
