// nixpkgs' automatic layering (dockerAutoLayer, pkgs/build-support/docker/auto-layer.py),
// what streamLayeredImage uses when no layeringPipeline is given.
//
// Every path is keyed by a set of "primary" paths; paths with the same key share a layer.
// At first every key is empty (one layer). Then, largest NAR size first (ties: the later
// path in graph order first), a path P becomes a primary: P's key becomes {P}, and each
// path D that P depends on (transitively) loses from its key the primaries that depend
// on P, then gains P unless its key still holds a primary that P depends on. As soon as
// a step would make more than `layer_limit` distinct keys, that step is undone and the
// growth stops. Layers come out in ascending order of closure size (the NAR sizes of the
// layer's paths and everything they depend on); nixpkgs leaves ties to Python's set
// order, strata orders them by their path lists (see path_key_less). Within a layer the
// paths are sorted by path_key_less. Paths in `ignored` take part in all of it but are
// left out of the result, and a layer left empty by that is dropped.
#pragma once
#include "image/closure/layer_graph.h"

#include <string_view>

namespace strata::closure {

// auto-layer.py's path_key: a path split at its first '-', compared as (after, before).
bool path_key_less(std::string_view a, std::string_view b);

StoreLayers auto_layers(const LayerGraph& graph, const std::vector<uint32_t>& ignored, size_t layer_limit);

} // namespace strata::closure
