// Reading closure graphs from the files Nix and nixpkgs write:
//  - a closureInfo dir (files `store-paths` and `registration`);
//  - registration text: per path a block of lines
//      path / [narHash / narSize] / deriver ("" when none) / reference count / references…
//    as `nix-store --dump-db` writes it (hash in base16) and `nix-store --load-db` /
//    `--register-validity --hash-given` read it; without the two hash lines it is what
//    `exportReferencesGraph` writes (deriver line empty). Both kinds may be mixed;
//  - JSON: an array of {path, references, narHash?, narSize?, deriver?} (other members
//    ignored), or an object holding such arrays as members, as `exportReferencesGraph`
//    with `__structuredAttrs` writes to .attrs.json (several arrays are merged).
// Every error is an InputError naming the file (with the line number for text).
#pragma once
#include "image/closure/graph.h"

#include <string>
#include <string_view>

namespace strata::closure {

inline constexpr size_t max_graph_file_bytes = 1u << 30;

ClosureGraph parse_registration_text(std::string_view text, const std::string& source, std::string_view store_dir);
ClosureGraph parse_json_graph(std::string_view text, const std::string& source, std::string_view store_dir);
// A closureInfo dir; `store-paths` must list exactly the paths of `registration`.
ClosureGraph read_closure_info(const std::string& dir, std::string_view store_dir);

// Detects the kind: a dir is a closureInfo dir; a file whose first non-space character
// is '[' or '{' is JSON; any other file is registration text. A missing or unreadable
// path is an InputError.
ClosureGraph load_graph_file(const std::string& path, std::string_view store_dir);

} // namespace strata::closure
