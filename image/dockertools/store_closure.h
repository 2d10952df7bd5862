// The store paths a new layer carries: the closure of copyToRoot contents (store paths
// among them, and store paths their files reference), from a graph file or a scan.
#pragma once
#include "image/closure/graph.h"
#include "image/spec.h"

#include <string>
#include <vector>

namespace strata {

struct ContentsClosure {
  closure::ClosureGraph graph{{}, "/nix/store", "no store paths"};
  std::vector<std::string> roots; // the store paths copyToRoot names or is

  // Sorted store paths (full paths such as /nix/store/abc…-hello).
  std::vector<std::string> paths() const;
};

ContentsClosure contents_store_closure(const Spec& spec);

} // namespace strata
