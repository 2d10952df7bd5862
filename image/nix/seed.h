// Seeding an image's Nix database from store paths on the building machine: hashes each
// path's NAR (read from the host store) and writes nix/var/nix under the image root.
// This is what includeNixDB and `strata nix-db` call.
#pragma once
#include "image/closure/graph.h"
#include "image/closure/store_path.h"
#include "image/nix/nix_db.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata::nix {

struct SeedOptions {
  // Where the graph's paths are read from; store.store_dir must be the graph's store dir
  // (paths are recorded as the graph names them, read from store.disk_dir()).
  closure::StoreLocation store;
  int64_t registration_time = 0; // SOURCE_DATE_EPOCH or the image's `created`, never the clock
  // Store paths linked from nix/var/nix/gcroots/docker/<basename>: the image's contents.
  std::vector<std::string> gc_roots;
};

// Hashes every path of the graph (in parallel) into registrations, with the graph's
// references and derivers. InputError when a path is missing on disk, or its NAR hash or
// size differs from what the graph says (where it says).
std::vector<PathRegistration> register_closure(const closure::ClosureGraph& graph, const SeedOptions& options);

// register_closure, then write_nix_state under `root` (the image's staging root dir).
void seed_nix_db(const std::string& root, const closure::ClosureGraph& graph, const SeedOptions& options);

} // namespace strata::nix
