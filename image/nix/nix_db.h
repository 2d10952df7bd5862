// The Nix database of an image: nix/var/nix/db/{db.sqlite,schema} as Nix itself would
// leave them after registering the paths, plus the state dirs and gcroots Nix expects,
// written byte-for-byte reproducibly (same registrations -> same db.sqlite).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace strata::nix {

// One valid store path as the Nix database records it.
struct PathRegistration {
  std::string path;     // full store path, e.g. /nix/store/<hash>-name
  std::string nar_hash; // raw SHA-256 of the path's NAR (32 bytes)
  uint64_t nar_size = 0;
  std::vector<std::string> references; // store paths, each registered too; itself allowed
  std::string deriver;                 // store path of its .drv, "" when unknown
  int64_t registration_time = 0;       // seconds since the epoch
};

// The schema version Nix 2.x writes to nix/var/nix/db/schema (accepted unchanged by
// nix-bin 2.8 and by current Nix, which migrates by named steps after 10).
inline constexpr int nix_schema_version = 10;

// Creates the SQLite database at `file` (which must not exist) holding `paths`:
// ValidPaths, Refs and DerivationOutputs with Nix's indexes and trigger; rows inserted in
// path order; rollback journal (Nix switches to WAL itself when it opens the store); page
// size 4096; vacuumed. Throws InputError for a duplicate path, a reference to a path not
// in `paths`, or a hash that is not 32 bytes.
void write_nix_sqlite(const std::string& file, const std::vector<PathRegistration>& paths);

struct NixStateOptions {
  std::string store_dir = "/nix/store";
  // Store paths linked from nix/var/nix/gcroots/docker/<basename> (registered paths).
  std::vector<std::string> gc_roots;
};

// Under `root` (an image's root dir): nix/var/nix/db (db.sqlite + schema, built beside it
// under a temporary name and renamed into place, replacing an earlier db), gcroots/docker
// links, gcroots/{per-user,profiles}, profiles/per-user, temproots, and <store_dir>/.links.
// Every path, reference, deriver and gc root must be a store path in store_dir
// (InputError otherwise); nothing is written before all input is checked.
void write_nix_state(const std::string& root, const std::vector<PathRegistration>& paths,
                     const NixStateOptions& options);

} // namespace strata::nix
