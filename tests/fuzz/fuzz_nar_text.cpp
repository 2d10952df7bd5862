// The NAR hash texts graph files carry (base16, Nix base32, base64, SRI) and Nix base32
// itself: whatever parses must print back to what parses to the same digest.
#include "fuzz_support.h"
#include "image/nix/base32.h"
#include "image/nix/nar_hash_text.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata::nix;
  std::string_view text = strata::fuzz::as_text(data, size);
  if (auto raw = parse_sha256_text(text)) {
    if (raw->size() != sha256_size) std::abort();
    if (parse_sha256_text(sha256_base32_text(*raw)) != raw || parse_sha256_text(sha256_base16_text(*raw)) != raw)
      std::abort();
  }
  for (size_t bytes : {size_t(20), size_t(32), size_t(64)})
    if (auto decoded = base32_decode(text, bytes)) {
      if (decoded->size() != bytes || base32_encode(*decoded) != text) std::abort();
    }
  if (base32_decode(base32_encode(text), size) != std::string(text)) std::abort();
  return 0;
}
