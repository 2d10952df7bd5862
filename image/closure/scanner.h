// Finding store path references by scanning bytes, as Nix's reference scanner does: a
// store path P references Q when Q's 32-character hash part occurs anywhere in P's
// serialisation (file contents, symlink targets, entry names). Candidates are the hash
// parts of the entries of a store dir; bytes are streamed through a fixed buffer and a
// match may span buffer boundaries. Windows are skipped 32 bytes at a time over bytes
// outside Nix's base32 alphabet, so ordinary data is scanned at memory speed.
#pragma once
#include "image/closure/graph.h"
#include "image/closure/store_path.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::closure {

// Hash parts to look for, each standing for one store path.
class HashCandidates {
public:
  // Adds a store path (must be valid in store_dir); a second path with the same hash part
  // is ignored. Returns its index.
  size_t add(std::string_view store_path, std::string_view store_dir);
  size_t size() const { return paths_.size(); }
  const std::string& path(size_t index) const { return paths_[index]; }
  // Index of the candidate whose hash part is the 32 bytes at `window`, or npos.
  size_t find(const char* window) const;
  static constexpr size_t npos = static_cast<size_t>(-1);

private:
  void grow();
  std::vector<std::string> paths_;
  std::string hashes_;           // hash parts, 32 bytes each, in index order
  std::vector<uint32_t> slots_;  // open addressing: index + 1, 0 = empty
};

// Records which candidates occur in the byte streams fed to it.
class ReferenceScanner {
public:
  explicit ReferenceScanner(const HashCandidates& candidates);

  // Feeds one stream in pieces of any size; end_stream() before starting another, so no
  // match spans two unrelated streams.
  void feed(const char* data, size_t size);
  void end_stream();
  // One whole, independent stream (an entry name, a symlink target, a small file).
  void scan(std::string_view bytes);

  // Store paths found since the last clear(), sorted.
  std::vector<std::string> found_paths() const;
  const std::vector<size_t>& found_indices() const { return found_; }
  void clear();

private:
  void scan_block(const char* data, size_t size);
  const HashCandidates& candidates_;
  std::vector<uint8_t> seen_;
  std::vector<size_t> found_;
  char carry_[hash_part_length - 1];
  size_t carry_size_ = 0;
};

// Scans a tree on disk as Nix serialises it: a regular file's contents, a symlink's
// target, and for a directory the names of all entries below it (not the root's own
// name), their targets and contents, recursively. Other file types contribute their
// names only. InputError when `disk_path` does not exist; WorkError when a file cannot be
// read.
void scan_tree(const std::string& disk_path, ReferenceScanner& scanner);

// The store: its location and the hash parts of its entries (listed once).
class StoreScanner {
public:
  // Lists location.disk_dir(): every entry named `<hash>-<name>` is a candidate, except
  // empty `*.lock` files Nix leaves behind. InputError when the dir does not exist.
  explicit StoreScanner(StoreLocation location);

  const StoreLocation& location() const { return location_; }
  const HashCandidates& candidates() const { return candidates_; }

  // Store paths referenced by any tree (a store path on disk, a copyToRoot dir, a file).
  std::vector<std::string> references_of_tree(const std::string& disk_path) const;
  // Store paths referenced by some bytes (e.g. an image config's JSON).
  std::vector<std::string> references_of_bytes(std::string_view bytes) const;
  // The closure of store paths (logical paths, as named in store_dir), each path scanned
  // once; references include a path itself when its own hash occurs in it. InputError
  // when a root is not a store path or does not exist in the store.
  ClosureGraph closure(const std::vector<std::string>& root_paths) const;

private:
  StoreLocation location_;
  HashCandidates candidates_;
};

// Candidates for the paths of a graph (when a graph file stands in for the store).
HashCandidates candidates_of(const ClosureGraph& graph);
// Store paths of `graph` referenced by a tree (e.g. copyToRoot contents).
std::vector<std::string> find_graph_references(const std::string& dir_or_file, const ClosureGraph& graph);

// Shorthands for one-off use; each lists the store.
ClosureGraph scan_closure(const StoreLocation& store, const std::vector<std::string>& root_paths);
ClosureGraph scan_closure(std::string_view store_dir, const std::vector<std::string>& root_paths);
std::vector<std::string> find_store_references(const std::string& dir_or_file, const StoreLocation& store);
std::vector<std::string> find_store_references(const std::string& dir_or_file, std::string_view store_dir);

} // namespace strata::closure
