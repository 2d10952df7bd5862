// nixpkgs' layeringPipeline: the small JSON language of the flatten_references_graph
// package (pkgs/by-name/fl/flattenReferencesGraph), which streamLayeredImage runs on the
// image's closure graph when a pipeline is given. A pipeline is a list of steps, each
// [operator, arguments…]; the value flowing through it is a graph, a list, or a record of
// graphs ({main, common, rest}). The graph starts as every path, ordered by NAR size
// (ties in graph order), as nixpkgs builds its igraph; every subgraph keeps that order.
//
//   popularity_contest        graph -> list of one-path graphs, most popular first
//   limit_layers N            list -> its first N-1 items, then all the others merged
//   split_every N             graph -> list of graphs of N consecutive paths
//   subcomponent_out PATHS    graph -> {main: PATHS and what they reference, rest}
//   subcomponent_in PATHS     graph -> {main: PATHS and what references them, rest}
//   split_paths SPECS         graph -> {main, common, rest}: SPECS (paths, or
//                             {"children_of": path(s)}) with what only they reach, what
//                             they share with the rest, and the rest; empty parts dropped
//   over KEY STEP             record -> the record with STEP applied to its KEY
//   pipe [STEP…]              the steps in turn
//   map STEP                  list -> STEP applied to each item
//   flatten                   list or record -> the list of graphs inside, in order
//   remove_paths PATH(S)      graph -> the graph without those paths
//   reverse                   list -> reversed
//
// The result (a list or a record, nested) is flattened into layers; empty ones are
// dropped. Paths not in the graph are ignored, as nixpkgs does. Where nixpkgs would fail
// or produce something that is not a layer list (an operator given the wrong kind of
// value, `over` a missing key, a pipeline that ends on one graph), strata refuses.
#pragma once
#include "image/closure/layer_graph.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace strata::closure {

class LayeringPipeline {
public:
  // Checks the pipeline's form: every operator known, with its arguments. InputError
  // "<what>[i][j]…: "<operator>" …" naming the step by its position in the JSON.
  LayeringPipeline(const nlohmann::json& pipeline, std::string what);
  ~LayeringPipeline();
  LayeringPipeline(LayeringPipeline&&) noexcept;

  // Runs it; InputError naming the step when it meets a value it cannot take.
  StoreLayers run(const LayerGraph& graph) const;

  struct Step;

private:
  std::string what_;
  std::vector<Step> steps_;
};

} // namespace strata::closure
