// closureInfo's `registration` file (the text `nix-store --load-db` reads and
// `nix-store --dump-db` writes): per path, lines path, narHash, narSize, deriver (may be
// empty), reference count, then the references.
#pragma once
#include "image/nix/seed.h"

#include <string>
#include <vector>

namespace strata::nix {

// Parses the text of a registration file; `source` names it in errors (InputError with
// the line number and what was expected).
std::vector<ClosurePath> parse_registration(std::string_view text, const std::string& source);
// Reads `path`: a registration file, or a closureInfo directory holding one.
std::vector<ClosurePath> read_registration(const std::string& path);

} // namespace strata::nix
