// Popularity layering exactly as nixpkgs' referencesByPopularity
// (pkgs/build-support/references-by-popularity/closure-graph.py) and dockerTools'
// buildLayeredImage / streamLayeredImage use it.
//
// nixpkgs expands each root (a path no other path references, self-references ignored)
// into a tree in which a shared path appears once under every parent, then scores it:
// contest(tree) gives each (path, subtree) at the top level 1, plus s + 1 for every
// (p, s) of contest(subtree). Unrolled, the score of p is the number of nodes of that
// forest whose subtree contains p (the node itself or a descendant), which is
//     score(p) = sum over the ancestors-or-self a of p of routes(a),
// routes(a) being the number of paths from a root to a in the graph. That is what is
// computed here, in O(edges * paths / 64) without building the tree, with exact integers
// of any size (routes grow exponentially with diamond depth). Order: descending score,
// ties in ascending order of tie_key(path) (nixpkgs' package_name).
#pragma once
#include "image/closure/graph.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::closure {

// nixpkgs' package_name: the path split at its first '-', the part before it moved to the
// end: "/nix/store/abc…-hello-2.1" -> "hello-2.1-/nix/store/abc…".
std::string tie_key(std::string_view path);

struct RankedPath {
  std::string path;
  std::string score; // decimal; may exceed 64 bits
};

// referencesByPopularity on the whole graph: every path, most popular first.
std::vector<RankedPath> popularity_ranking(const ClosureGraph& graph);
std::vector<std::string> popularity_order(const ClosureGraph& graph);

// popularity_contest on any DAG given by index: children[i] are the nodes i references
// (no self-references), paths[i] its path (for ties). The node indices, most popular first.
std::vector<uint32_t> popularity_order_of_dag(const std::vector<std::vector<uint32_t>>& children,
                                              const std::vector<std::string>& paths);

// What dockerTools roots the graph with: one synthetic root referencing two synthetic
// nodes, the image config (referencing every store path named in `config`) and the
// customisation layer (referencing every `contents` entry, and whatever its files
// reference). The synthetic nodes are scored but are not in the result.
struct ImageRoots {
  std::vector<std::string> config_references;
  std::vector<std::string> customisation_references;
};

// The store paths of the image (requisites of both reference lists, taken from `graph`,
// which may hold more) in dockerTools' layer order. InputError when a reference is not
// in the graph.
std::vector<RankedPath> image_popularity_ranking(const ClosureGraph& graph, const ImageRoots& roots);
std::vector<std::string> image_popularity_order(const ClosureGraph& graph, const ImageRoots& roots);

// Store-path layers as streamLayeredImage cuts them. With B base layers and one
// customisation layer (added last by the caller), maxLayers - B - 1 layers are left for
// store paths: the first maxLayers - B - 2 paths of `order` get a layer each and all the
// rest share one, so the image has at most maxLayers layers. No empty layer is returned.
// InputError when max_layers <= 1, or when base_layer_count + 1 >= max_layers (nixpkgs:
// "at least 1 layer is required to store contents").
std::vector<std::vector<std::string>> assign_layers(const std::vector<std::string>& order, int max_layers,
                                                    int base_layer_count = 0);

} // namespace strata::closure
