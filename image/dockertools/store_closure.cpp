#include "image/dockertools/store_closure.h"

#include "image/closure/graph_file.h"
#include "image/closure/scanner.h"
#include "image/closure/store_path.h"
#include "sys/error.h"
#include "sys/files.h"

#include <optional>
#include <set>

namespace strata {

std::vector<std::string> ContentsClosure::paths() const {
  std::vector<std::string> out;
  for (const auto& node : graph.nodes()) out.push_back(node.path);
  return out; // nodes are sorted by path
}

ContentsClosure contents_store_closure(const Spec& spec, const std::vector<std::string>& layer_trees) {
  if (spec.copy_to_root.empty() && layer_trees.empty()) return {};
  bool have_store = is_directory(spec.store_dir);
  if (!have_store && spec.closure_graph.empty()) return {}; // nothing can be referenced

  std::set<std::string> roots;
  std::vector<std::string> trees = layer_trees;
  for (const auto& path : spec.copy_to_root) {
    std::string entry = closure::follow_links_to_store(path, spec.store_dir, "copyToRoot path");
    if (auto store_path = closure::containing_store_path(entry, spec.store_dir)) roots.insert(*store_path);
    else if (layer_trees.empty()) trees.push_back(entry);
  }
  std::optional<closure::ClosureGraph> given;
  if (!spec.closure_graph.empty()) given = closure::load_graph_file(spec.closure_graph, spec.store_dir);
  std::optional<closure::StoreScanner> scanner;
  if (have_store) scanner.emplace(closure::StoreLocation{spec.store_dir, ""});
  for (const auto& tree : trees)
    for (auto& ref : scanner ? scanner->references_of_tree(tree) : closure::find_graph_references(tree, *given))
      roots.insert(ref);
  if (roots.empty()) return {};

  ContentsClosure out;
  out.roots.assign(roots.begin(), roots.end());
  out.graph = given ? given->closure_of(out.roots) : scanner->closure(out.roots);
  for (const auto& node : out.graph.nodes())
    if (!path_exists(node.path)) fail_input("store path {} (in the closure of the new layer) is missing on disk", node.path);
  return out;
}

} // namespace strata
