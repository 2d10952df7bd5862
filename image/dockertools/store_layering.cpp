#include "image/dockertools/store_layering.h"

#include "image/closure/auto_layer.h"
#include "image/closure/layering_pipeline.h"
#include "image/nix/nar.h"
#include "sys/error.h"

namespace strata {

namespace {

int store_layer_budget(const Spec& spec, int base_layer_count) {
  int used = base_layer_count + 1; // the base layers and the customisation layer
  if (used >= spec.max_layers)
    fail_input("maxLayers is {}, but the base image's {} layers and the customisation layer already use {}: "
               "at least one layer is needed for the store paths",
               spec.max_layers, base_layer_count, used);
  return spec.max_layers - used;
}

std::vector<uint64_t> nar_sizes_of(const closure::ClosureGraph& graph) {
  std::vector<uint64_t> sizes;
  for (const auto& node : graph.nodes()) sizes.push_back(node.nar_size > 0 ? node.nar_size : nix::nar_size(node.path));
  return sizes;
}

std::vector<uint32_t> indices_of(const closure::ClosureGraph& graph, const std::vector<std::string>& paths) {
  std::vector<uint32_t> out;
  for (const auto& path : paths) out.push_back(static_cast<uint32_t>(graph.index_of(path)));
  return out;
}

// The graph dockerAutoLayer sees: the closure, plus nixpkgs' `<name>-base.json` (the
// image config as builtins.toJSON writes it, referencing the config's store paths) and
// the customisation layer's store path (a dir holding `checksum` and `layer.tar`, which
// GNU tar pads to 10240-byte records), referencing the contents.
closure::StoreLayers auto_layers_for(const Spec& spec, int budget, const StoreLayeringInput& input) {
  closure::LayerGraph graph = closure::layer_graph_of(input.graph, nar_sizes_of(input.graph));
  std::string base_json =
      nlohmann::json{{"architecture", spec.architecture}, {"config", spec.config}, {"os", spec.os}}.dump();
  uint32_t config = graph.add(spec.store_dir + "/" + spec.name + "-base.json",
                              indices_of(input.graph, input.roots.config_references),
                              nix::nar_size_of_file(base_json.size()));
  uint64_t tar = (input.customisation_tar_size() + 10239) / 10240 * 10240;
  uint32_t customisation = graph.add(spec.store_dir + "/" + spec.name + "-customisation-layer",
                                     indices_of(input.graph, input.roots.customisation_references),
                                     nix::nar_size_of_flat_dir({{"checksum", 65}, {"layer.tar", tar}}));
  return closure::auto_layers(graph, {config, customisation}, static_cast<size_t>(budget));
}

} // namespace

void check_store_layering(const Spec& spec, int base_layer_count) {
  if (spec.layering == "pipeline") closure::LayeringPipeline(spec.layering_pipeline, spec.layering_source);
  else store_layer_budget(spec, base_layer_count);
}

closure::StoreLayers cut_store_layers(const Spec& spec, int base_layer_count, const StoreLayeringInput& input) {
  if (spec.layering != "pipeline") {
    int budget = store_layer_budget(spec, base_layer_count);
    if (input.graph.empty()) return {};
    if (spec.layering == "auto") return auto_layers_for(spec, budget, input);
    return closure::assign_layers(closure::image_popularity_order(input.graph, input.roots), spec.max_layers,
                                  base_layer_count);
  }
  if (input.graph.empty()) return {};
  closure::LayeringPipeline pipeline(spec.layering_pipeline, spec.layering_source);
  return pipeline.run(closure::layer_graph_of(input.graph, nar_sizes_of(input.graph)));
}

} // namespace strata
