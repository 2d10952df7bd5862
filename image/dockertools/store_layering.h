// How streamLayeredImage's store paths become layers, by the spec's layeringPipeline:
//  - "auto": nixpkgs' dockerAutoLayer (image/closure/auto_layer.h) on the closure graph
//    of the image config and the customisation layer, both in the graph as nixpkgs has
//    them (with their NAR sizes) and left out of the layers; maxLayers less the base
//    layers and the customisation layer is the layer limit.
//  - "popularity": referencesByPopularity cut as the 2020 dockerTools cut it
//    (closure::assign_layers).
//  - a pipeline: run on the closure graph without those two nodes, as dockerMakeLayers
//    runs it; maxLayers does not apply (as in nixpkgs).
// NAR sizes come from the graph, else from the store paths on disk (metadata only).
#pragma once
#include "image/closure/graph.h"
#include "image/closure/layer_graph.h"
#include "image/closure/popularity.h"
#include "image/spec.h"

#include <functional>
#include <string>

namespace strata {

struct StoreLayeringInput {
  const closure::ClosureGraph& graph; // the image's store closure
  const closure::ImageRoots& roots;
  // Bytes of the customisation layer's tar, asked for only by "auto".
  std::function<uint64_t()> customisation_tar_size;
};

// What can be checked before any work: maxLayers leaves room beside the base image's
// layers and the customisation layer (auto, popularity), or the pipeline is well formed.
// InputError.
void check_store_layering(const Spec& spec, int base_layer_count);

closure::StoreLayers cut_store_layers(const Spec& spec, int base_layer_count, const StoreLayeringInput& input);

} // namespace strata
