// Nix archives (NAR): the canonical serialisation of a store path that its narHash and
// narSize are computed over. Streams through one fixed buffer, whatever the file sizes.
#pragma once
#include "image/sink.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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

// The size of the NAR of `path` from metadata alone (names, sizes, modes, link targets):
// no file content is read. Same errors as dump_nar.
uint64_t nar_size(const std::string& path);
// The size of the NAR of one regular file of `size` bytes.
uint64_t nar_size_of_file(uint64_t size, bool executable = false);
// The size of the NAR of a directory holding only regular, non-executable files, given
// as (name, size).
uint64_t nar_size_of_flat_dir(const std::vector<std::pair<std::string, uint64_t>>& files);

} // namespace strata::nix
