// Test helper: a LayerGraph from named nodes, in name order (as a graph file is sorted by
// path). Names are used as paths as they are, so ties by name are easy to read.
#pragma once
#include "image/closure/layer_graph.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace strata::closure::test {

struct TestNode {
  std::string name;
  uint64_t nar_size;
  std::vector<std::string> references;
};

inline LayerGraph layer_graph(std::vector<TestNode> nodes) {
  std::sort(nodes.begin(), nodes.end(), [](const TestNode& a, const TestNode& b) { return a.name < b.name; });
  std::map<std::string, uint32_t> index;
  for (uint32_t i = 0; i < nodes.size(); ++i) index[nodes[i].name] = i;
  LayerGraph g;
  for (const auto& node : nodes) {
    std::vector<uint32_t> refs;
    for (const auto& r : node.references)
      if (r != node.name) refs.push_back(index.at(r));
    g.add(node.name, refs, node.nar_size);
  }
  return g;
}

inline uint32_t index_of(const LayerGraph& g, const std::string& name) {
  return static_cast<uint32_t>(std::find(g.paths.begin(), g.paths.end(), name) - g.paths.begin());
}

} // namespace strata::closure::test
