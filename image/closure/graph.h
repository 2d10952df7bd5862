// The reference graph of a set of store paths (a closure): each path with the store
// paths its files reference, as Nix records them. Built from a graph file
// (graph_file.h) or by scanning a store (scanner.h); always validated: every path and
// reference a store path in one store dir, every reference in the graph, and no cycle
// other than a path referencing itself.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::closure {

struct PathNode {
  std::string path;
  std::vector<std::string> references; // sorted, unique; may include `path` itself
  // The NAR hash as the source wrote it ("sha256:<nix base32>" in closureInfo and JSON
  // graphs, 64 hex digits from `nix-store --dump-db`); "" when unknown (scanned).
  std::string nar_hash;
  uint64_t nar_size = 0;  // 0 when unknown
  std::string deriver;    // store path of the .drv; "" when unknown

  bool operator==(const PathNode&) const = default;
};

class ClosureGraph {
public:
  ClosureGraph() = default;
  // Sorts the nodes by path and their references, merges identical duplicates and checks
  // the graph (see the header comment). InputError naming `source` (the file or store
  // the nodes came from) and the offending path, or the cycle as "a -> b -> a".
  ClosureGraph(std::vector<PathNode> nodes, std::string_view store_dir, std::string_view source);

  const std::string& store_dir() const { return store_dir_; }
  const std::string& source() const { return source_; }
  const std::vector<PathNode>& nodes() const { return nodes_; } // sorted by path
  size_t size() const { return nodes_.size(); }
  bool empty() const { return nodes_.empty(); }

  const PathNode* find(std::string_view path) const;
  bool contains(std::string_view path) const { return find(path) != nullptr; }
  // Index of a path in nodes(), or npos.
  size_t index_of(std::string_view path) const;
  static constexpr size_t npos = static_cast<size_t>(-1);

  // The paths no other path references (self-references ignored), sorted.
  std::vector<std::string> roots() const;
  // The given paths and everything they reference, transitively; sorted. InputError
  // when a given path is not in the graph.
  std::vector<std::string> requisites(const std::vector<std::string>& paths) const;
  // The subgraph holding requisites(paths).
  ClosureGraph closure_of(const std::vector<std::string>& paths) const;

private:
  std::string store_dir_;
  std::string source_;
  std::vector<PathNode> nodes_;
};

} // namespace strata::closure
