#include "image/dockertools/store_closure.h"

#include "image/closure/graph_file.h"
#include "image/closure/scanner.h"
#include "image/closure/store_path.h"
#include "sys/error.h"
#include "sys/files.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>

namespace strata {
namespace {

} // namespace

std::vector<std::string> ContentsClosure::paths() const {
  std::vector<std::string> out;
  for (const auto& node : graph.nodes()) out.push_back(node.path);
  return out; // nodes are sorted by path
}

ContentsClosure contents_store_closure(const Spec& spec) {
  if (spec.copy_to_root.empty()) return {};
  bool have_store = is_directory(spec.store_dir);
  if (!have_store && spec.closure_graph.empty()) return {}; // nothing can be referenced

  // Roots: copyToRoot entries that are store paths, and store paths their files name.
  std::set<std::string> roots;
  std::optional<closure::StoreScanner> scanner;
  if (have_store) scanner.emplace(closure::StoreLocation{spec.store_dir, ""});
  for (const auto& path : spec.copy_to_root) {
    std::string real = resolved_path(path, "copyToRoot path");
    if (auto store_path = closure::containing_store_path(real, spec.store_dir)) {
      roots.insert(*store_path);
      continue;
    }
    if (scanner)
      for (auto& ref : scanner->references_of_tree(real)) roots.insert(ref);
  }
  if (roots.empty()) return {};

  ContentsClosure out;
  out.roots.assign(roots.begin(), roots.end());
  out.graph = spec.closure_graph.empty() ? scanner->closure(out.roots)
                                         : closure::load_graph_file(spec.closure_graph, spec.store_dir).closure_of(out.roots);
  for (const auto& node : out.graph.nodes())
    if (!path_exists(node.path)) fail_input("store path {} (in the closure of copyToRoot) is missing on disk", node.path);
  return out;
}

} // namespace strata
