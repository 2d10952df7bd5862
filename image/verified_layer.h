// A layer of an image, read and checked against what the image says it is: its stored
// bytes against the blob digest the manifest records (OCI; a docker-archive records one
// only for an uncompressed layer, its diff_id) and the uncompressed tar against the
// config's diff_id, both while the bytes stream past. Every reader of a base image's
// layers goes through it (the unpacked-layer cache, unpack, export, run, and the copy of
// base layers into a new image: ImageSource::copy_layer), so a layer whose content is not
// the one its diff_id names (a forged image claiming a popular layer's diff_id, to poison
// the cache keyed by it; a corrupt download) is an InputError before anything made from
// it becomes visible.
#pragma once
#include "image/image_reader.h"
#include "image/sink.h"

#include <cstddef>
#include <memory>
#include <string>

namespace strata {

class VerifiedLayer {
public:
  // copy, if given, receives the stored bytes as they are read (all of them, by verify()).
  VerifiedLayer(const ImageSource& image, size_t layer_index, ByteSink* copy = nullptr);
  VerifiedLayer(const VerifiedLayer&) = delete;
  VerifiedLayer& operator=(const VerifiedLayer&) = delete;
  ~VerifiedLayer();

  // The uncompressed tar (gzip, zstd, bzip2 and xz are undone): fills up to capacity
  // bytes, returns 0 at the end. A corrupt compressed stream is an InputError.
  size_t read(void* buffer, size_t capacity);

  // Reads what is left of both streams, then checks them: InputError
  // "<image>: layer N (<diff_id>) is corrupt: …" when a digest differs. Call once. On
  // success the image notes the layer as verified (ImageSource::note_verified).
  void verify();

  // "<image>: layer N (<diff_id>)".
  const std::string& name() const { return name_; }

private:
  class Stream;
  const ImageSource& image_;
  size_t index_;
  std::string name_;
  std::unique_ptr<Stream> stream_;
};

} // namespace strata
