// The store paths a new layer carries, as Nix finds them for dockerTools, where the
// customisation layer is itself a store path: the copyToRoot entries that are store
// paths, the store paths the layer's files name (contents, symlink targets, entry names)
// once extraCommands, fakeRootCommands and runAsRoot ran, and their closure; from a
// graph file (closureGraph) or a scan of the store.
#pragma once
#include "image/closure/graph.h"
#include "image/spec.h"

#include <string>
#include <vector>

namespace strata {

struct ContentsClosure {
  closure::ClosureGraph graph{{}, "/nix/store", "no store paths"};
  std::vector<std::string> roots; // the store paths the layer is or names

  // Sorted store paths (full paths such as /nix/store/abc…-hello).
  std::vector<std::string> paths() const;
};

// layer_trees: the dirs holding the layer's files after its scripts (a staging copy, a
// root script's upper dir); empty: copyToRoot's entries themselves are read.
ContentsClosure contents_store_closure(const Spec& spec, const std::vector<std::string>& layer_trees = {});

} // namespace strata
