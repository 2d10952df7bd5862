// Nix archives (NAR): the canonical serialisation of a store path that its narHash and
// narSize are computed over. Streams through one fixed buffer, whatever the file sizes.
#pragma once
#include "image/sink.h"

#include <cstdint>
#include <string>

namespace strata::nix {

// Writes the NAR of `path` (a regular file, executable file, symlink or directory,
// not followed if a symlink) to sink. Other file types are an InputError; a file that
// changes size while being read is a WorkError.
void dump_nar(const std::string& path, ByteSink& sink);

struct NarHash {
  std::string sha256; // raw digest, 32 bytes
  uint64_t size = 0;  // bytes in the NAR
};

// The SHA-256 and size of the NAR of `path`, without holding it.
NarHash nar_hash(const std::string& path);

} // namespace strata::nix
