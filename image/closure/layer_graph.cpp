#include "image/closure/layer_graph.h"

#include "sys/error.h"

#include <algorithm>

namespace strata::closure {

uint32_t LayerGraph::add(std::string path, std::vector<uint32_t> refs, uint64_t nar_size) {
  auto index = static_cast<uint32_t>(paths.size());
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  paths.push_back(std::move(path));
  references.push_back(std::move(refs));
  nar_sizes.push_back(nar_size);
  return index;
}

std::vector<std::vector<uint32_t>> LayerGraph::referrers() const {
  std::vector<std::vector<uint32_t>> out(size());
  for (uint32_t v = 0; v < size(); ++v)
    for (uint32_t r : references[v]) out[r].push_back(v); // v ascending: each list sorted
  return out;
}

LayerGraph layer_graph_of(const ClosureGraph& graph, const std::vector<uint64_t>& nar_sizes) {
  if (nar_sizes.size() != graph.size())
    fail_work("{} NAR sizes given for the {} paths of {}", nar_sizes.size(), graph.size(), graph.source());
  LayerGraph out;
  for (size_t i = 0; i < graph.size(); ++i) {
    const PathNode& node = graph.nodes()[i];
    if (nar_sizes[i] == 0) fail_input("{}: the NAR size of {} is unknown", graph.source(), node.path);
    std::vector<uint32_t> refs;
    for (const auto& ref : node.references)
      if (ref != node.path) refs.push_back(static_cast<uint32_t>(graph.index_of(ref)));
    out.add(node.path, std::move(refs), nar_sizes[i]);
  }
  return out;
}

} // namespace strata::closure
