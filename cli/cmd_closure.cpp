// strata closure PATH…: the closure graph of store paths as JSON, scanned from the store
// or read from a graph file, its popularity order (referencesByPopularity), or the store
// layers a layering (auto-layer, popularity, a layeringPipeline) cuts it into.
#include "cli/commands.h"
#include "cli/common.h"
#include "image/closure/auto_layer.h"
#include "image/closure/graph_file.h"
#include "image/closure/layering_pipeline.h"
#include "image/closure/popularity.h"
#include "image/closure/scanner.h"
#include "image/json_input.h"
#include "image/nix/nar.h"
#include "image/spec.h"
#include "sys/error.h"
#include "sys/files.h"

#include <chrono>
#include <fmt/format.h>
#include <memory>
#include <optional>

namespace strata::cli {

namespace {

using closure::ClosureGraph;
using closure::StoreLocation;

struct ClosureOptions {
  std::vector<std::string> paths;
  std::string store_dir = std::string(closure::default_store_dir);
  std::string store_root;
  std::string graph_file;
  bool popularity = false;
  std::string layers;  // "auto", "popularity", a pipeline's JSON, or @FILE holding it
  unsigned budget = 0; // layers for auto and popularity
};

// The store path a command-line PATH names: a path in (or inside) the logical store dir,
// or one in the store's on-disk dir. nullopt for a path outside the store.
std::optional<std::string> store_path_of(const std::string& path, const StoreLocation& store) {
  const std::string& dir = store.store_dir;
  if (path.compare(0, dir.size() + 1, dir + "/") == 0) {
    auto found = closure::containing_store_path(path, dir);
    if (!found) fail_input("'{}' is in the store dir {} but not in a store path", path, dir);
    return found;
  }
  const std::string& disk = store.disk_dir();
  if (disk != dir && path.compare(0, disk.size() + 1, disk + "/") == 0)
    return store_path_of(dir + path.substr(disk.size()), store);
  return std::nullopt;
}

nlohmann::json graph_json(const ClosureGraph& graph) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& node : graph.nodes()) {
    nlohmann::json entry{{"path", node.path}, {"references", node.references}};
    if (!node.nar_hash.empty()) entry["narHash"] = node.nar_hash;
    if (!node.nar_hash.empty() || node.nar_size > 0) entry["narSize"] = node.nar_size;
    if (!node.deriver.empty()) entry["deriver"] = node.deriver;
    out.push_back(std::move(entry));
  }
  return out;
}

ClosureGraph closure_from_graph_file(const ClosureOptions& opts, const StoreLocation& store) {
  ClosureGraph graph = closure::load_graph_file(opts.graph_file, store.store_dir);
  if (opts.paths.empty()) return graph;
  std::vector<std::string> roots;
  for (const auto& path : opts.paths) {
    if (auto store_path = store_path_of(path, store)) {
      roots.push_back(*store_path);
    } else {
      auto refs = closure::find_graph_references(path, graph);
      verbose(fmt::format("{} references {} store paths of the graph", path, refs.size()));
      roots.insert(roots.end(), refs.begin(), refs.end());
    }
  }
  return graph.closure_of(roots);
}

ClosureGraph closure_from_scan(const ClosureOptions& opts, const StoreLocation& store) {
  if (opts.paths.empty()) fail_input("closure: give at least one PATH, or --graph FILE");
  closure::StoreScanner scanner(store);
  verbose(fmt::format("{} candidate store paths in {}", scanner.candidates().size(), store.disk_dir()));
  std::vector<std::string> roots;
  for (const auto& path : opts.paths) {
    if (auto store_path = store_path_of(path, store)) {
      roots.push_back(*store_path);
    } else {
      auto refs = scanner.references_of_tree(path);
      verbose(fmt::format("{} references {} store paths", path, refs.size()));
      roots.insert(roots.end(), refs.begin(), refs.end());
    }
  }
  return scanner.closure(roots);
}

// The graph's store layers, on the graph as given (no image config or customisation
// layer in it): what nixpkgs' auto-layer.py and flatten_references_graph print for it.
// -v prints how long the layering step alone took (scripts/bench/layering.sh reads it).
template <typename Step> closure::StoreLayers timed_layering(Step&& step) {
  auto start = std::chrono::steady_clock::now();
  closure::StoreLayers layers = step();
  std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  verbose(fmt::format("layering: {:.2f} ms, {} layers", took.count(), layers.size()));
  return layers;
}

nlohmann::json layers_json(const ClosureOptions& opts, const ClosureGraph& graph, const StoreLocation& store) {
  if (opts.layers == "popularity") {
    if (opts.budget < 1) fail_input("closure: --layers popularity needs --budget N (1 or more)");
    return timed_layering(
        [&] { return closure::assign_layers(closure::popularity_order(graph), static_cast<int>(opts.budget) + 1); });
  }
  std::vector<uint64_t> sizes;
  for (const auto& node : graph.nodes())
    sizes.push_back(node.nar_size > 0 ? node.nar_size
                                      : nix::nar_size(store.disk_dir() + node.path.substr(store.store_dir.size())));
  closure::LayerGraph layer_graph = closure::layer_graph_of(graph, sizes);
  if (opts.layers == "auto") {
    if (opts.budget < 1) fail_input("closure: --layers auto needs --budget N (1 or more)");
    return timed_layering([&] { return closure::auto_layers(layer_graph, {}, opts.budget); });
  }
  std::string source = "--layers", text = opts.layers;
  if (!text.empty() && text[0] == '@') {
    source = "--layers file " + text.substr(1);
    text = read_input_file(text.substr(1), "--layers file", max_spec_bytes, true);
  }
  if (auto first = text.find_first_not_of(" \t\r\n"); first == std::string::npos || text[first] != '[')
    fail_input("{}: not \"auto\", \"popularity\" or a JSON pipeline", source);
  closure::LayeringPipeline pipeline(parse_json_input(text, source), source);
  return timed_layering([&] { return pipeline.run(layer_graph); });
}

} // namespace

void define_closure_command(CommandLine& cmd) {
  auto opts = std::make_shared<ClosureOptions>();
  cmd.option("paths", opts->paths,
             "Store paths (or files inside them); a path outside the store is scanned for the store "
             "paths it references, as copyToRoot contents are");
  cmd.option("--store-dir", opts->store_dir, "The store dir paths are named in (default /nix/store)");
  cmd.option("--store-root", opts->store_root,
             "Read the store's entries from ROOT/<store dir>, as Nix's --store local?root=ROOT does; "
             "paths and file contents still name the store dir");
  cmd.option("--graph", opts->graph_file,
             "Read the graph from a closureInfo dir, exportReferencesGraph text, `nix-store --dump-db` "
             "output or JSON instead of scanning; with PATHs, only their closure is printed");
  cmd.flag("--popularity", opts->popularity, "Print the paths most popular first (referencesByPopularity)");
  cmd.option("--layers", opts->layers,
             "Print the store layers: 'auto' (nixpkgs' dockerAutoLayer) or 'popularity' with --budget, or a "
             "layeringPipeline as JSON (or @FILE); NAR sizes from the graph, else from the store");
  cmd.option("--budget", opts->budget, "The number of layers for --layers auto and popularity");
  add_global_flags(cmd);
  cmd.callback([opts] {
    StoreLocation store = StoreLocation::with_root(closure::normalize_store_dir(opts->store_dir, "--store-dir"),
                                                   opts->store_root.empty() ? "" : absolute_path(opts->store_root));
    ClosureGraph graph = opts->graph_file.empty() ? closure_from_scan(*opts, store) : closure_from_graph_file(*opts, store);
    if (!opts->layers.empty()) {
      print_json(layers_json(*opts, graph, store));
      return;
    }
    if (opts->popularity) {
      auto ranking = closure::popularity_ranking(graph);
      nlohmann::json out = nlohmann::json::array();
      for (const auto& ranked : ranking) out.push_back(ranked.path);
      for (const auto& ranked : ranking) verbose(fmt::format("{} {}", ranked.score, ranked.path));
      print_json(out);
      return;
    }
    print_json(graph_json(graph));
  });
}

} // namespace strata::cli
