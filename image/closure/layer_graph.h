// The closure graph as the layering algorithms see it: nodes by index in the graph's
// order (sorted by path, as Nix's exportReferencesGraph writes them), references as
// indices without self-references, and every node's NAR size. Nodes that are not store
// paths (dockerTools' image config and customisation layer) may be added to it.
#pragma once
#include "image/closure/graph.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata::closure {

// Store-path layers, in image order, each a list of store paths.
using StoreLayers = std::vector<std::vector<std::string>>;

struct LayerGraph {
  std::vector<std::string> paths;
  std::vector<std::vector<uint32_t>> references; // sorted, unique, no self-reference
  std::vector<uint64_t> nar_sizes;

  size_t size() const { return paths.size(); }
  // Appends a node; `references` must name existing nodes. Returns its index.
  uint32_t add(std::string path, std::vector<uint32_t> references, uint64_t nar_size);
  // Each node's referrers (the reverse edges), sorted.
  std::vector<std::vector<uint32_t>> referrers() const;
};

// `nar_sizes` in graph.nodes() order; InputError naming the first path whose size is 0
// (unknown).
LayerGraph layer_graph_of(const ClosureGraph& graph, const std::vector<uint64_t>& nar_sizes);

} // namespace strata::closure
