#include "image/closure/layering_pipeline.h"

#include "image/closure/popularity.h"
#include "sys/error.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace strata::closure {

using nlohmann::json;

enum class Op {
  popularity_contest,
  limit_layers,
  split_every,
  subcomponent_in,
  subcomponent_out,
  split_paths,
  over,
  pipe,
  map,
  flatten,
  remove_paths,
  reverse
};

// A split_paths argument: a path, or the references of some paths (children_of).
struct SplitSpec {
  std::vector<std::string> paths;
  bool children_of = false;
};

struct LayeringPipeline::Step {
  Op op;
  std::string name;     // as written
  std::string position; // "[1][2]"
  size_t count = 0;     // limit_layers, split_every
  std::vector<std::string> paths;  // subcomponent_*, remove_paths
  std::vector<SplitSpec> splits;   // split_paths
  std::string key;                 // over
  std::vector<Step> steps;         // over and map: one; pipe: all
};

namespace {

using Step = LayeringPipeline::Step;

const std::vector<std::pair<std::string_view, Op>> operators = {
    {"popularity_contest", Op::popularity_contest}, {"limit_layers", Op::limit_layers},
    {"split_every", Op::split_every},               {"subcomponent_in", Op::subcomponent_in},
    {"subcomponent_out", Op::subcomponent_out},     {"split_paths", Op::split_paths},
    {"over", Op::over},                             {"pipe", Op::pipe},
    {"map", Op::map},                               {"flatten", Op::flatten},
    {"remove_paths", Op::remove_paths},             {"reverse", Op::reverse},
};

std::string kind_of(const json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  return "null";
}

class Parser {
public:
  explicit Parser(const std::string& what) : what_(what) {}

  std::vector<Step> steps(const json& list, const std::string& position) const {
    if (!list.is_array()) fail_input("{}{}: a pipeline must be a list of steps, not {}", what_, position, kind_of(list));
    std::vector<Step> out;
    for (size_t i = 0; i < list.size(); ++i) out.push_back(step(list[i], fmt::format("{}[{}]", position, i)));
    return out;
  }

  Step step(const json& v, const std::string& position) const {
    if (!v.is_array() || v.empty() || !v[0].is_string())
      fail_input("{}{}: a step must be a list [\"operator\", arguments…], not {}", what_, position,
                 v.is_array() && v.empty() ? "an empty list" : kind_of(v));
    Step s;
    s.name = v[0].get<std::string>();
    s.position = position;
    auto known = std::find_if(operators.begin(), operators.end(), [&](const auto& o) { return o.first == s.name; });
    if (known == operators.end()) {
      std::string names;
      for (const auto& o : operators) names += (names.empty() ? "" : ", ") + std::string(o.first);
      fail_input("{}{}: unknown operator \"{}\" (known: {})", what_, position, s.name, names);
    }
    s.op = known->second;
    size_t args = v.size() - 1;
    auto want_args = [&](size_t n, const char* form) {
      if (args != n) fail_input("{}{}: \"{}\" takes {}, but has {} argument{}", what_, position, s.name, form, args, args == 1 ? "" : "s");
    };
    auto wrong = [&](size_t i, const char* expected) {
      fail_input("{}{}[{}]: \"{}\" needs {}, not {}", what_, position, i, s.name, expected, kind_of(v[i]));
    };
    auto strings = [&](size_t i, bool single_allowed) {
      const json& a = v[i];
      if (single_allowed && a.is_string()) return std::vector<std::string>{a.get<std::string>()};
      if (!a.is_array()) wrong(i, single_allowed ? "a path or a list of paths" : "a list of paths");
      std::vector<std::string> out;
      for (size_t j = 0; j < a.size(); ++j) {
        if (!a[j].is_string())
          fail_input("{}{}[{}][{}]: \"{}\" needs paths (strings), not {}", what_, position, i, j, s.name, kind_of(a[j]));
        out.push_back(a[j].get<std::string>());
      }
      return out;
    };
    switch (s.op) {
    case Op::popularity_contest:
    case Op::flatten:
    case Op::reverse:
      want_args(0, "no arguments");
      break;
    case Op::limit_layers:
    case Op::split_every:
      want_args(1, "one argument (a count)");
      if (!v[1].is_number_integer()) wrong(1, "a whole number greater than 0");
      if (v[1].get<int64_t>() < 1)
        fail_input("{}{}[1]: \"{}\" needs a whole number greater than 0, not {}", what_, position, s.name, v[1].get<int64_t>());
      s.count = v[1].get<size_t>();
      break;
    case Op::subcomponent_in:
    case Op::subcomponent_out:
      want_args(1, "one argument (a list of paths)");
      s.paths = strings(1, false);
      break;
    case Op::remove_paths:
      want_args(1, "one argument (a path or a list of paths)");
      s.paths = strings(1, true);
      break;
    case Op::split_paths: {
      want_args(1, "one argument (a list of paths or {\"children_of\": …})");
      if (!v[1].is_array()) wrong(1, "a list of paths or {\"children_of\": …}");
      for (size_t j = 0; j < v[1].size(); ++j) {
        const json& spec = v[1][j];
        std::string at = fmt::format("{}{}[1][{}]", what_, position, j);
        if (spec.is_string()) {
          s.splits.push_back({{spec.get<std::string>()}, false});
        } else if (spec.is_object()) {
          if (spec.size() != 1 || !spec.contains("children_of"))
            fail_input("{}: \"split_paths\" takes objects with the one key \"children_of\"", at);
          const json& of = spec["children_of"];
          SplitSpec split{{}, true};
          if (of.is_string()) split.paths.push_back(of.get<std::string>());
          else if (of.is_array() && std::all_of(of.begin(), of.end(), [](const json& p) { return p.is_string(); }))
            split.paths = of.get<std::vector<std::string>>();
          else
            fail_input("{}: \"children_of\" needs a path or a list of paths, not {}", at, kind_of(of));
          s.splits.push_back(std::move(split));
        } else {
          fail_input("{}: \"split_paths\" needs a path or {{\"children_of\": …}}, not {}", at, kind_of(spec));
        }
      }
      break;
    }
    case Op::over:
      want_args(2, "two arguments (a key and a step)");
      if (!v[1].is_string()) wrong(1, "a key (\"main\", \"common\" or \"rest\")");
      s.key = v[1].get<std::string>();
      s.steps.push_back(step(v[2], position + "[2]"));
      break;
    case Op::map:
      want_args(1, "one argument (a step)");
      s.steps.push_back(step(v[1], position + "[1]"));
      break;
    case Op::pipe:
      want_args(1, "one argument (a list of steps)");
      s.steps = steps(v[1], position + "[1]");
      break;
    }
    return s;
  }

private:
  const std::string& what_;
};

// A graph value: nodes of the LayerGraph in their order, and its own edges by position.
struct Graph {
  std::vector<uint32_t> nodes;
  std::vector<std::vector<uint32_t>> out;
};

struct Value {
  enum class Kind { graph, record, list } kind = Kind::graph;
  Graph graph;
  std::vector<std::pair<std::string, Value>> record;
  std::vector<Value> list;
  // Declared here, defaulted below where Value is complete: clang (the sanitizer build)
  // refuses to instantiate pair<string, Value>'s destructor inside the class.
  Value() = default;
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;
  ~Value();
};
Value::Value(const Value&) = default;
Value::Value(Value&&) noexcept = default;
Value& Value::operator=(const Value&) = default;
Value& Value::operator=(Value&&) noexcept = default;
Value::~Value() = default;

Value graph_value(Graph g) {
  Value v;
  v.graph = std::move(g);
  return v;
}
Value list_value(std::vector<Value> items) {
  Value v;
  v.kind = Value::Kind::list;
  v.list = std::move(items);
  return v;
}
Value record_value(std::vector<std::pair<std::string, Value>> entries) {
  Value v;
  v.kind = Value::Kind::record;
  v.record = std::move(entries);
  return v;
}

const char* described(const Value& v) {
  switch (v.kind) {
  case Value::Kind::graph: return "a graph";
  case Value::Kind::record: return "a record of graphs (the result of split_paths or subcomponent)";
  case Value::Kind::list: return "a list";
  }
  return "?";
}

// The subgraph of the positions marked in `keep`, in order, with the edges among them.
Graph induced(const Graph& g, const std::vector<bool>& keep) {
  std::vector<uint32_t> renumber(g.nodes.size(), UINT32_MAX);
  Graph sub;
  for (uint32_t i = 0; i < g.nodes.size(); ++i)
    if (keep[i]) {
      renumber[i] = static_cast<uint32_t>(sub.nodes.size());
      sub.nodes.push_back(g.nodes[i]);
    }
  sub.out.resize(sub.nodes.size());
  for (uint32_t i = 0; i < g.nodes.size(); ++i)
    if (keep[i])
      for (uint32_t j : g.out[i])
        if (keep[j]) sub.out[renumber[i]].push_back(renumber[j]);
  return sub;
}

std::vector<bool> complement(std::vector<bool> marks) {
  marks.flip();
  return marks;
}

// Positions reachable from `starts` (themselves included), along the edges or against them.
std::vector<bool> reachable(const Graph& g, const std::vector<uint32_t>& starts, bool against) {
  std::vector<std::vector<uint32_t>> in;
  if (against) {
    in.resize(g.nodes.size());
    for (uint32_t i = 0; i < g.nodes.size(); ++i)
      for (uint32_t j : g.out[i]) in[j].push_back(i);
  }
  const auto& edges = against ? in : g.out;
  std::vector<bool> seen(g.nodes.size(), false);
  std::vector<uint32_t> work;
  for (uint32_t s : starts)
    if (!seen[s]) {
      seen[s] = true;
      work.push_back(s);
    }
  while (!work.empty()) {
    uint32_t v = work.back();
    work.pop_back();
    for (uint32_t next : edges[v])
      if (!seen[next]) {
        seen[next] = true;
        work.push_back(next);
      }
  }
  return seen;
}

class Evaluator {
public:
  Evaluator(const LayerGraph& graph, const std::string& what) : graph_(graph), what_(what) {
    for (uint32_t i = 0; i < graph.size(); ++i) by_path_.emplace(graph.paths[i], i);
  }

  Graph whole() const {
    Graph g;
    g.nodes.resize(graph_.size());
    std::iota(g.nodes.begin(), g.nodes.end(), 0);
    std::stable_sort(g.nodes.begin(), g.nodes.end(),
                     [&](uint32_t a, uint32_t b) { return graph_.nar_sizes[a] < graph_.nar_sizes[b]; });
    std::vector<uint32_t> position(graph_.size());
    for (uint32_t i = 0; i < g.nodes.size(); ++i) position[g.nodes[i]] = i;
    g.out.resize(g.nodes.size());
    for (uint32_t i = 0; i < g.nodes.size(); ++i)
      for (uint32_t r : graph_.references[g.nodes[i]]) g.out[i].push_back(position[r]);
    return g;
  }

  Value steps(const std::vector<Step>& steps, Value v) const {
    for (const Step& s : steps) v = apply(s, std::move(v));
    return v;
  }

  Value apply(const Step& s, Value v) const {
    switch (s.op) {
    case Op::popularity_contest: {
      const Graph& g = need_graph(s, v);
      std::vector<std::string> paths;
      for (uint32_t node : g.nodes) paths.push_back(graph_.paths[node]);
      std::vector<Value> items;
      for (uint32_t i : popularity_order_of_dag(g.out, paths)) items.push_back(graph_value(Graph{{g.nodes[i]}, {{}}}));
      return list_value(std::move(items));
    }
    case Op::limit_layers: {
      std::vector<Value>& items = need_list(s, v);
      std::vector<Value> out;
      size_t keep = std::min(items.size(), s.count - 1);
      for (size_t i = 0; i < keep; ++i) out.push_back(std::move(items[i]));
      Graph merged;
      for (size_t i = keep; i < items.size(); ++i) {
        if (items[i].kind != Value::Kind::graph)
          fail_input("{}{}: \"limit_layers\" merges the items after the first {}, but item {} is {}", what_, s.position,
                     keep, i, described(items[i]));
        auto offset = static_cast<uint32_t>(merged.nodes.size());
        const Graph& part = items[i].graph;
        merged.nodes.insert(merged.nodes.end(), part.nodes.begin(), part.nodes.end());
        for (const auto& edges : part.out) {
          merged.out.emplace_back();
          for (uint32_t j : edges) merged.out.back().push_back(j + offset);
        }
      }
      out.push_back(graph_value(std::move(merged)));
      return list_value(std::move(out));
    }
    case Op::split_every: {
      const Graph& g = need_graph(s, v);
      std::vector<Value> items;
      for (size_t begin = 0; begin < g.nodes.size(); begin += s.count) {
        std::vector<bool> keep(g.nodes.size(), false);
        std::fill(keep.begin() + static_cast<std::ptrdiff_t>(begin),
                  keep.begin() + static_cast<std::ptrdiff_t>(std::min(g.nodes.size(), begin + s.count)), true);
        items.push_back(graph_value(induced(g, keep)));
      }
      return list_value(std::move(items));
    }
    case Op::subcomponent_in:
    case Op::subcomponent_out: {
      const Graph& g = need_graph(s, v);
      std::vector<bool> main = reachable(g, positions_of(g, s.paths), s.op == Op::subcomponent_in);
      return record_value({{"main", graph_value(induced(g, main))}, {"rest", graph_value(induced(g, complement(main)))}});
    }
    case Op::split_paths: return split_paths(s, need_graph(s, v));
    case Op::over: {
      need_record(s, v);
      auto entry = std::find_if(v.record.begin(), v.record.end(), [&](const auto& e) { return e.first == s.key; });
      if (entry == v.record.end()) {
        std::string keys;
        for (const auto& e : v.record) keys += (keys.empty() ? "" : ", ") + e.first;
        fail_input("{}{}: \"over\" \"{}\": the record has no \"{}\" (it has: {})", what_, s.position, s.key, s.key,
                   keys.empty() ? "nothing" : keys);
      }
      entry->second = apply(s.steps[0], std::move(entry->second));
      return v;
    }
    case Op::pipe: return steps(s.steps, std::move(v));
    case Op::map: {
      std::vector<Value>& items = need_list(s, v);
      for (Value& item : items) item = apply(s.steps[0], std::move(item));
      return v;
    }
    case Op::flatten: {
      if (v.kind == Value::Kind::graph) need_list(s, v);
      std::vector<Value> leaves;
      flatten_into(v, leaves);
      return list_value(std::move(leaves));
    }
    case Op::remove_paths: {
      const Graph& g = need_graph(s, v);
      std::vector<bool> gone(g.nodes.size(), false);
      for (uint32_t i : positions_of(g, s.paths)) gone[i] = true;
      return graph_value(induced(g, complement(gone)));
    }
    case Op::reverse: {
      std::vector<Value>& items = need_list(s, v);
      std::reverse(items.begin(), items.end());
      return v;
    }
    }
    return v;
  }

  static void flatten_into(Value& v, std::vector<Value>& leaves) {
    switch (v.kind) {
    case Value::Kind::graph: leaves.push_back(std::move(v)); break;
    case Value::Kind::record:
      for (auto& e : v.record) flatten_into(e.second, leaves);
      break;
    case Value::Kind::list:
      for (auto& item : v.list) flatten_into(item, leaves);
      break;
    }
  }

  StoreLayers layers_of(Value result) const {
    if (result.kind == Value::Kind::graph)
      fail_input("{}: the pipeline ends with one graph, not a list of layers (end it with popularity_contest, "
                 "split_every or limit_layers, as nixpkgs needs)",
                 what_);
    std::vector<Value> leaves;
    flatten_into(result, leaves);
    StoreLayers out;
    for (const Value& leaf : leaves) {
      if (leaf.graph.nodes.empty()) continue;
      std::vector<std::string> paths;
      for (uint32_t node : leaf.graph.nodes) paths.push_back(graph_.paths[node]);
      out.push_back(std::move(paths));
    }
    return out;
  }

private:
  [[noreturn]] void wrong_input(const Step& s, const Value& v, const char* expected) const {
    fail_input("{}{}: \"{}\" needs {}, but is given {}", what_, s.position, s.name, expected, described(v));
  }
  const Graph& need_graph(const Step& s, const Value& v) const {
    if (v.kind != Value::Kind::graph) wrong_input(s, v, "a graph");
    return v.graph;
  }
  std::vector<Value>& need_list(const Step& s, Value& v) const {
    if (v.kind != Value::Kind::list) wrong_input(s, v, s.op == Op::flatten ? "a list or a record" : "a list");
    return v.list;
  }
  void need_record(const Step& s, const Value& v) const {
    if (v.kind != Value::Kind::record) wrong_input(s, v, "a record of graphs (the result of split_paths or subcomponent)");
  }

  std::vector<uint32_t> positions_of(const Graph& g, const std::vector<std::string>& paths) const {
    std::vector<uint32_t> position(graph_.size(), UINT32_MAX);
    for (uint32_t i = 0; i < g.nodes.size(); ++i) position[g.nodes[i]] = i;
    std::vector<uint32_t> out;
    for (const auto& path : paths) {
      auto it = by_path_.find(path);
      if (it != by_path_.end() && position[it->second] != UINT32_MAX) out.push_back(position[it->second]);
    }
    return out;
  }

  Value split_paths(const Step& s, const Graph& input) const {
    std::vector<uint32_t> split;
    for (const SplitSpec& spec : s.splits) {
      std::vector<uint32_t> found = positions_of(input, spec.paths);
      if (!spec.children_of) split.insert(split.end(), found.begin(), found.end());
      else
        for (uint32_t parent : found) split.insert(split.end(), input.out[parent].begin(), input.out[parent].end());
    }
    if (split.empty()) return record_value({{"rest", graph_value(input)}});

    // One root: the graph's own if it has exactly one, else a new one above all roots.
    Graph g = input;
    std::vector<bool> referenced(g.nodes.size(), false);
    for (const auto& edges : g.out)
      for (uint32_t j : edges) referenced[j] = true;
    std::vector<uint32_t> roots;
    for (uint32_t i = 0; i < g.nodes.size(); ++i)
      if (!referenced[i]) roots.push_back(i);
    uint32_t root;
    bool added_root = roots.size() != 1;
    if (!added_root) {
      root = roots[0];
      if (std::find(split.begin(), split.end(), root) != split.end()) return record_value({{"main", graph_value(input)}});
    } else {
      root = static_cast<uint32_t>(g.nodes.size());
      g.nodes.push_back(UINT32_MAX);
      g.out.push_back(roots);
    }

    std::vector<bool> split_off = reachable(g, split, false);
    std::vector<bool> is_split(g.nodes.size(), false);
    for (uint32_t i : split) is_split[i] = true;
    for (auto& edges : g.out) // cut every edge into a split path
      edges.erase(std::remove_if(edges.begin(), edges.end(), [&](uint32_t j) { return is_split[j]; }), edges.end());
    std::vector<bool> rest = reachable(g, {root}, false);
    std::vector<bool> main(g.nodes.size()), common(g.nodes.size());
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      common[i] = split_off[i] && rest[i];
      main[i] = split_off[i] && !rest[i];
      rest[i] = rest[i] && !split_off[i] && !(added_root && i == root);
    }
    std::vector<std::pair<std::string, Value>> parts;
    for (auto& [name, marks] : {std::pair{"main", &main}, std::pair{"common", &common}, std::pair{"rest", &rest}}) {
      Graph part = induced(g, *marks);
      if (!part.nodes.empty()) parts.emplace_back(name, graph_value(std::move(part)));
    }
    return record_value(std::move(parts));
  }

  const LayerGraph& graph_;
  const std::string& what_;
  std::unordered_map<std::string_view, uint32_t> by_path_;
};

} // namespace

LayeringPipeline::LayeringPipeline(const json& pipeline, std::string what) : what_(std::move(what)) {
  steps_ = Parser(what_).steps(pipeline, "");
}

LayeringPipeline::~LayeringPipeline() = default;
LayeringPipeline::LayeringPipeline(LayeringPipeline&&) noexcept = default;

StoreLayers LayeringPipeline::run(const LayerGraph& graph) const {
  Evaluator evaluator(graph, what_);
  return evaluator.layers_of(evaluator.steps(steps_, graph_value(evaluator.whole())));
}

} // namespace strata::closure
