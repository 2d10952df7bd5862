// The textual forms of a NAR hash (SHA-256) that Nix writes and reads.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace strata::nix {

inline constexpr size_t sha256_size = 32;

// "sha256:<52 chars of Nix base32>", as `nix-store -q --hash` prints it.
std::string sha256_base32_text(std::string_view raw_digest);
// "sha256:<64 hex>", as Nix stores it in ValidPaths.hash.
std::string sha256_base16_text(std::string_view raw_digest);

// Parses a SHA-256 digest in any form Nix accepts: base16, Nix base32 or base64, each
// bare or after "sha256:", or SRI "sha256-<base64>". Returns the raw 32 bytes.
std::optional<std::string> parse_sha256_text(std::string_view text);

} // namespace strata::nix
