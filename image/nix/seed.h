// Seeding an image's Nix database from store paths on the building machine: hashes each
// path's NAR (read from the host store) and writes nix/var/nix under the image root.
// This is what includeNixDB and `strata nix-db` call.
#pragma once
#include "image/nix/nix_db.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strata::nix {

// A store path of the closure with what the graph knows about it.
struct ClosurePath {
  std::string path;                    // <store_dir>/<hash>-<name>
  std::vector<std::string> references; // store paths (the closure must hold them all)
  std::string deriver;                 // "" when unknown
  std::string nar_hash;                // raw SHA-256 when the graph gives one, else ""
  std::optional<uint64_t> nar_size;    // when the graph gives one
};

struct SeedOptions {
  std::string store_dir = "/nix/store";
  // Where the paths' contents are read from; "" means store_dir itself. (Lets a store
  // kept under another root, e.g. Nix's `local?root=`, stand in for store_dir.)
  std::string real_store_dir;
  int64_t registration_time = 0; // SOURCE_DATE_EPOCH or the image's `created`, never the clock
  // Store paths linked from nix/var/nix/gcroots/docker/<basename>: the image's contents.
  std::vector<std::string> gc_roots;
};

// Hashes every path of the closure (in parallel) into registrations. InputError when a
// path is not a store path in store_dir, is missing on disk, or does not match the
// narHash/narSize its graph gave.
std::vector<PathRegistration> register_closure(const std::vector<ClosurePath>& closure, const SeedOptions& options);

// register_closure, then write_nix_state under `root`.
void seed_nix_db(const std::string& root, const std::vector<ClosurePath>& closure, const SeedOptions& options);

// The paths reachable from `roots` through references (roots included), in closure
// order; InputError when a root or a reference is not in `closure`.
std::vector<ClosurePath> restrict_closure(const std::vector<ClosurePath>& closure,
                                          const std::vector<std::string>& roots);

} // namespace strata::nix
