// Test helpers: valid store paths with deterministic hash parts.
#pragma once
#include "image/closure/store_path.h"

#include <cstdint>
#include <string>

namespace strata::closure::test {

// A 32-character Nix base32 hash part derived from `seed` (FNV-1a, then a tiny PRNG).
inline std::string fake_hash(const std::string& seed) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : seed) h = (h ^ c) * 1099511628211ull;
  std::string out;
  for (int i = 0; i < 32; ++i) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    out += nix_base32_alphabet[h % 32];
  }
  return out;
}

// "/nix/store/<fake_hash(name)>-<name>" (or in another store dir).
inline std::string sp(const std::string& name, const std::string& store_dir = "/nix/store") {
  return store_dir + "/" + fake_hash(name) + "-" + name;
}

} // namespace strata::closure::test
