// Nix's base32: the alphabet without e, o, u, t, and Nix's own bit order (the last
// character holds the lowest bits of the first byte), as in store paths and narHash.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace strata::nix {

// Encodes raw bytes; a SHA-256 digest (32 bytes) becomes 52 characters.
std::string base32_encode(std::string_view bytes);
// Decodes into exactly `size` bytes; nullopt when the text has the wrong length, a
// character outside the alphabet, or bits beyond `size` bytes.
std::optional<std::string> base32_decode(std::string_view text, size_t size);
// Characters needed for `size` bytes.
size_t base32_length(size_t size);
bool is_base32_char(char c);

} // namespace strata::nix
