#include "image/closure/graph.h"

#include "image/closure/store_path.h"
#include "sys/error.h"

#include <algorithm>

namespace strata::closure {

namespace {

void check_store_path(const std::string& path, const std::string& store_dir, std::string_view source,
                      std::string_view role) {
  if (!is_store_path(path, store_dir)) parse_store_path(path, store_dir, fmt::format("{}: {}", source, role));
}

// Sorts by path; identical duplicates collapse, differing ones are an error.
void sort_and_merge(std::vector<PathNode>& nodes, std::string_view source) {
  std::sort(nodes.begin(), nodes.end(), [](const PathNode& a, const PathNode& b) { return a.path < b.path; });
  auto out = nodes.begin();
  for (auto it = nodes.begin(); it != nodes.end(); ++it) {
    if (out != nodes.begin() && (out - 1)->path == it->path) {
      if (!(*(out - 1) == *it))
        fail_input("{}: store path {} appears twice with different references or hashes", source, it->path);
      continue;
    }
    if (out != it) *out = std::move(*it);
    ++out;
  }
  nodes.erase(out, nodes.end());
}

// The references of each node as indices, self-references dropped.
std::vector<std::vector<size_t>> edges_of(const ClosureGraph& graph) {
  std::vector<std::vector<size_t>> edges(graph.size());
  for (size_t i = 0; i < graph.size(); ++i)
    for (const auto& ref : graph.nodes()[i].references)
      if (size_t j = graph.index_of(ref); j != i) edges[i].push_back(j);
  return edges;
}

// Depth-first search with an explicit stack; the first edge back into the stack is a cycle.
void check_acyclic(const ClosureGraph& graph, std::string_view source) {
  auto edges = edges_of(graph);
  enum class Mark : uint8_t { unseen, on_stack, done };
  std::vector<Mark> mark(graph.size(), Mark::unseen);
  struct Frame {
    size_t node;
    size_t next_edge;
  };
  std::vector<Frame> stack;
  for (size_t start = 0; start < graph.size(); ++start) {
    if (mark[start] != Mark::unseen) continue;
    stack.push_back({start, 0});
    mark[start] = Mark::on_stack;
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next_edge == edges[top.node].size()) {
        mark[top.node] = Mark::done;
        stack.pop_back();
        continue;
      }
      size_t next = edges[top.node][top.next_edge++];
      if (mark[next] == Mark::on_stack) {
        std::string cycle;
        auto from = std::find_if(stack.begin(), stack.end(), [&](const Frame& f) { return f.node == next; });
        for (auto it = from; it != stack.end(); ++it) cycle += graph.nodes()[it->node].path + " -> ";
        cycle += graph.nodes()[next].path;
        fail_input("{}: the references form a cycle: {}", source, cycle);
      }
      if (mark[next] == Mark::unseen) {
        mark[next] = Mark::on_stack;
        stack.push_back({next, 0});
      }
    }
  }
}

} // namespace

ClosureGraph::ClosureGraph(std::vector<PathNode> nodes, std::string_view store_dir, std::string_view source)
    : store_dir_(normalize_store_dir(store_dir)), source_(source), nodes_(std::move(nodes)) {
  for (auto& node : nodes_) {
    check_store_path(node.path, store_dir_, source_, "path");
    std::sort(node.references.begin(), node.references.end());
    node.references.erase(std::unique(node.references.begin(), node.references.end()), node.references.end());
    for (const auto& ref : node.references)
      check_store_path(ref, store_dir_, source_, fmt::format("a reference of {}", node.path));
    if (!node.deriver.empty()) check_store_path(node.deriver, store_dir_, source_, fmt::format("the deriver of {}", node.path));
  }
  sort_and_merge(nodes_, source_);
  for (const auto& node : nodes_)
    for (const auto& ref : node.references)
      if (!contains(ref))
        fail_input("{}: {} references {}, which is not in the graph", source_, node.path, ref);
  check_acyclic(*this, source_);
}

size_t ClosureGraph::index_of(std::string_view path) const {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), path,
                             [](const PathNode& n, std::string_view p) { return n.path < p; });
  return it != nodes_.end() && it->path == path ? static_cast<size_t>(it - nodes_.begin()) : npos;
}

const PathNode* ClosureGraph::find(std::string_view path) const {
  size_t i = index_of(path);
  return i == npos ? nullptr : &nodes_[i];
}

std::vector<std::string> ClosureGraph::roots() const {
  std::vector<bool> referenced(nodes_.size(), false);
  for (const auto& node : nodes_)
    for (const auto& ref : node.references)
      if (ref != node.path) referenced[index_of(ref)] = true;
  std::vector<std::string> out;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (!referenced[i]) out.push_back(nodes_[i].path);
  return out;
}

std::vector<std::string> ClosureGraph::requisites(const std::vector<std::string>& paths) const {
  std::vector<bool> seen(nodes_.size(), false);
  std::vector<size_t> work;
  for (const auto& path : paths) {
    size_t i = index_of(path);
    if (i == npos) fail_input("store path {} is not in the closure graph {}", path, source_);
    if (!seen[i]) {
      seen[i] = true;
      work.push_back(i);
    }
  }
  while (!work.empty()) {
    size_t i = work.back();
    work.pop_back();
    for (const auto& ref : nodes_[i].references) {
      size_t j = index_of(ref);
      if (!seen[j]) {
        seen[j] = true;
        work.push_back(j);
      }
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (seen[i]) out.push_back(nodes_[i].path);
  return out;
}

ClosureGraph ClosureGraph::closure_of(const std::vector<std::string>& paths) const {
  std::vector<PathNode> sub;
  for (const auto& path : requisites(paths)) sub.push_back(*find(path));
  return ClosureGraph(std::move(sub), store_dir_, source_);
}

} // namespace strata::closure
