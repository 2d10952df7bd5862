// The members of an image (archive members or layout files) by name, as the
// docker-archive and OCI parsers of image_reader.cpp read them. Internal to the readers.
#pragma once
#include "image/compress.h"
#include "image/image_reader.h"
#include "image/sink.h"

#include <cstdint>
#include <optional>
#include <string>

namespace strata {

// The most a metadata member (manifest, index, config) may hold.
inline constexpr uint64_t max_metadata_bytes = 64u << 20;

class ImageMembers {
public:
  virtual ~ImageMembers() = default;
  // A whole metadata member; InputError when missing or larger than max_metadata_bytes.
  virtual std::string read(const std::string& name) const = 0;
  virtual bool exists(const std::string& name) const = 0;
  struct Facts {
    uint64_t size = 0;
    Compression compression = Compression::None; // sniffed from its first bytes
    std::string digest;                          // "sha256:…" when known without another read
  };
  virtual std::optional<Facts> facts(const std::string& name) const = 0;
};

// Members that stay readable after parsing: layers are read in place (and copied
// through image/verified_layer.h).
class BlobStore : public ImageMembers {
public:
  virtual ImageSource::BlobLocation location(const std::string& name) const = 0;
};

} // namespace strata
