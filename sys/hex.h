// Base16 text of bytes, as digests and owner tables write them.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace strata {

// Lower-case hex, two digits a byte.
std::string to_hex(std::string_view bytes);
// The bytes of hex text (either case); nullopt for an odd length or a non-hex digit.
std::optional<std::string> from_hex(std::string_view hex);

} // namespace strata
