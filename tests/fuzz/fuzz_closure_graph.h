// What a build does with a closure graph read from a file: its roots, their requisites
// and subgraph, the popularity order layering uses.
#pragma once
#include "image/closure/graph.h"
#include "image/closure/popularity.h"

namespace strata::fuzz {

inline void use_graph(const closure::ClosureGraph& graph) {
  std::vector<std::string> roots = graph.roots();
  graph.closure_of(roots);
  closure::popularity_order(graph);
  if (!graph.empty()) graph.requisites({graph.nodes().front().path});
}

} // namespace strata::fuzz
