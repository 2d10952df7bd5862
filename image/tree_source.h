// Produces layer entries from host directories mapped into a layer: copyToRoot trees
// merged at the root as `rsync -a` merges them, store paths under nix/store, a
// staging dir. Walks in layer order and streams: only one directory listing per level
// is held in memory.
#pragma once
#include "image/layer_entry.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace strata {

struct TreeMapping {
  // A directory (its contents are merged) or a file/symlink; empty: a directory made
  // by the walk (like the parents of every mapped path).
  std::string host_path;
  std::string layer_path; // "" for the layer root, else e.g. "nix/store/abc-foo"
};

struct TreeOptions {
  int64_t mtime = 1;
  // Owner of every entry; without it, the owner on disk (ids only).
  std::optional<Owner> owner;
  // Mode of directories the walk synthesizes (parents of mapped paths).
  uint32_t synthesized_dir_mode = 0755;
  // Keep a symlink to a directory when a later tree has a real directory at the same
  // path, and merge that directory's contents where the link points (rsync --keep-dirlinks).
  bool keep_dirlinks = false;
  // Paths (layer-relative) to leave out; a directory left out is still descended into.
  std::function<bool(const std::string& layer_path)> exclude;
};

struct TreeStats {
  uint64_t entries = 0;
  uint64_t file_bytes = 0;
};

// Calls visit for every entry, in layer order. Later mappings win over earlier ones at
// the same path, except that directories merge.
TreeStats walk_trees(const std::vector<TreeMapping>& mappings, const TreeOptions& options, const EntryVisitor& visit);

} // namespace strata
