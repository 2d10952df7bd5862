// A layer of an image as unpacker input: its stored bytes read in place from the image
// file and hashed as they pass, so that what was unpacked can be checked against the
// digest the image records for it.
#pragma once
#include "image/image_reader.h"
#include "image/digest.h"
#include "mount/layer_input.h"

#include <string>

namespace strata::mount {

class ImageLayerInput {
public:
  // Errors name the layer "layer N (sha256:…)" (name() is "N (sha256:…)").
  ImageLayerInput(const ImageSource& image, size_t layer_index);
  ImageLayerInput(const ImageLayerInput&) = delete;
  ImageLayerInput& operator=(const ImageLayerInput&) = delete;

  LayerInput& input() { return input_; }
  const std::string& name() const { return input_.name(); }

  // Reads what the unpacker left unread (trailing blocks), then checks the bytes against
  // the blob digest (or the diff_id of an uncompressed layer) where the image records
  // one: InputError "layer <name> is corrupt: …" when they differ. Call once, after unpacking.
  void verify();

private:
  LayerDescriptor layer_;
  LayerInput raw_;
  Hasher hasher_;
  LayerInput input_;
};

} // namespace strata::mount
