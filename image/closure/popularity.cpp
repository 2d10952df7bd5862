#include "image/closure/popularity.h"

#include "sys/error.h"

#include <algorithm>
#include <cstdint>
#include <numeric>

namespace strata::closure {

namespace {

// Memory for the ancestor bitsets of one pass; wider graphs take several passes.
constexpr size_t bitset_budget_bytes = 32u << 20;

// A DAG by index: children without self-edges, and each node's tie key.
struct Dag {
  std::vector<std::vector<uint32_t>> children;
  std::vector<std::string> keys;
};

// Unsigned integers of any size, little-endian 64-bit limbs, no leading zero limbs.
using Big = std::vector<uint64_t>;

void add_to(Big& a, const Big& b) {
  if (a.size() < b.size()) a.resize(b.size(), 0);
  uint64_t carry = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    uint64_t add = i < b.size() ? b[i] : 0;
    if (add == 0 && carry == 0 && i >= b.size()) break;
    unsigned __int128 s = static_cast<unsigned __int128>(a[i]) + add + carry;
    a[i] = static_cast<uint64_t>(s);
    carry = static_cast<uint64_t>(s >> 64);
  }
  if (carry) a.push_back(carry);
}

// Fixed-width numbers side by side: number i is limbs [i*width, (i+1)*width).
struct Numbers {
  size_t width;
  std::vector<uint64_t> limbs;
  Numbers(size_t count, size_t w) : width(w), limbs(count * w, 0) {}
  uint64_t* at(size_t i) { return limbs.data() + i * width; }
  const uint64_t* at(size_t i) const { return limbs.data() + i * width; }
};

inline void add_fixed(uint64_t* a, const uint64_t* b, size_t width) {
  if (width == 1) {
    a[0] += b[0];
    return;
  }
  uint64_t carry = 0;
  for (size_t i = 0; i < width; ++i) {
    unsigned __int128 s = static_cast<unsigned __int128>(a[i]) + b[i] + carry;
    a[i] = static_cast<uint64_t>(s);
    carry = static_cast<uint64_t>(s >> 64);
  }
}

int compare_fixed(const uint64_t* a, const uint64_t* b, size_t width) {
  for (size_t i = width; i-- > 0;)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

std::string to_decimal(const uint64_t* limbs, size_t width) {
  std::vector<uint64_t> n(limbs, limbs + width);
  while (!n.empty() && n.back() == 0) n.pop_back();
  if (n.empty()) return "0";
  constexpr uint64_t chunk = 10000000000000000000ull; // 10^19
  std::vector<uint64_t> parts;                        // base 10^19, least significant first
  while (!n.empty()) {
    unsigned __int128 rem = 0;
    for (size_t i = n.size(); i-- > 0;) {
      unsigned __int128 cur = (rem << 64) | n[i];
      n[i] = static_cast<uint64_t>(cur / chunk);
      rem = cur % chunk;
    }
    parts.push_back(static_cast<uint64_t>(rem));
    while (!n.empty() && n.back() == 0) n.pop_back();
  }
  std::string out = std::to_string(parts.back());
  for (size_t i = parts.size() - 1; i-- > 0;) {
    std::string digits = std::to_string(parts[i]);
    out += std::string(19 - digits.size(), '0') + digits;
  }
  return out;
}

// For columns [begin, end) in groups of 8: the sum of routes over every subset of the
// group (256 per group), indexed by group * 256 + the subset's bit mask.
Numbers subset_sums(const Numbers& routes, size_t begin, size_t end) {
  size_t groups = (end - begin + 7) / 8;
  Numbers sums(groups * 256, routes.width);
  std::vector<uint64_t> zero(routes.width, 0);
  for (size_t g = 0; g < groups; ++g)
    for (size_t mask = 1; mask < 256; ++mask) {
      size_t low = static_cast<size_t>(__builtin_ctzll(mask));
      size_t column = begin + g * 8 + low;
      uint64_t* sum = sums.at(g * 256 + mask);
      const uint64_t* rest = sums.at(g * 256 + (mask & (mask - 1)));
      std::copy(rest, rest + routes.width, sum);
      add_fixed(sum, column < end ? routes.at(column) : zero.data(), routes.width);
    }
  return sums;
}

// Kahn's algorithm: parents before children.
std::vector<uint32_t> topological_order(const Dag& dag) {
  size_t n = dag.children.size();
  std::vector<uint32_t> indegree(n, 0);
  for (const auto& kids : dag.children)
    for (uint32_t c : kids) ++indegree[c];
  std::vector<uint32_t> order;
  order.reserve(n);
  for (uint32_t v = 0; v < n; ++v)
    if (indegree[v] == 0) order.push_back(v);
  for (size_t head = 0; head < order.size(); ++head)
    for (uint32_t c : dag.children[order[head]])
      if (--indegree[c] == 0) order.push_back(c);
  if (order.size() != n) fail_work("popularity: the reference graph has a cycle"); // ClosureGraph forbids this
  return order;
}

// Scores of every node (see the header for the formula), ordered as nixpkgs orders them.
struct Ranking {
  std::vector<uint32_t> order; // node indices, most popular first
  Numbers scores{0, 1};
};

Ranking rank(const Dag& dag) {
  size_t n = dag.children.size();
  Ranking result;
  if (n == 0) return result;

  // Relabel so that every parent comes before its children.
  std::vector<uint32_t> topo = topological_order(dag);
  std::vector<uint32_t> position(n);
  for (uint32_t t = 0; t < n; ++t) position[topo[t]] = t;
  std::vector<std::vector<uint32_t>> parents(n); // by position
  for (uint32_t v = 0; v < n; ++v)
    for (uint32_t c : dag.children[v]) parents[position[c]].push_back(position[v]);

  // routes(t): number of paths from a root to t; roots have one.
  std::vector<Big> routes(n);
  Big total;
  for (uint32_t t = 0; t < n; ++t) {
    if (parents[t].empty()) routes[t] = {1};
    for (uint32_t u : parents[t]) add_to(routes[t], routes[u]);
    add_to(total, routes[t]);
  }
  size_t width = std::max<size_t>(1, total.size()); // no score exceeds the total of routes
  Numbers route_numbers(n, width);
  for (uint32_t t = 0; t < n; ++t) std::copy(routes[t].begin(), routes[t].end(), route_numbers.at(t));
  routes.clear();

  // score(t) = sum of routes over t's ancestors-or-self, with ancestor sets as bitsets over
  // a block of columns per pass. Ancestors precede t, so only rows >= the block start matter.
  Numbers scores(n, width);
  size_t words_per_row = std::max<size_t>(1, bitset_budget_bytes / 8 / n);
  size_t block_columns = words_per_row * 64;
  std::vector<uint64_t> rows;
  for (size_t begin = 0; begin < n; begin += block_columns) {
    size_t end = std::min(n, begin + block_columns);
    size_t words = (end - begin + 63) / 64;
    rows.assign((n - begin) * words, 0);
    for (size_t t = begin; t < n; ++t) {
      uint64_t* row = rows.data() + (t - begin) * words;
      if (t < end) row[(t - begin) / 64] |= uint64_t{1} << ((t - begin) % 64);
      for (uint32_t u : parents[t]) {
        if (u < begin) continue; // its ancestors all precede the block
        const uint64_t* from = rows.data() + (u - begin) * words;
        for (size_t w = 0; w < words; ++w) row[w] |= from[w];
      }
    }
    // Column word by column word, so the subset sums of its 64 routes stay in cache; a
    // row adds one number per non-zero byte. Rows before the word's first column have no
    // bits in it.
    for (size_t w = 0; w < words; ++w) {
      size_t first_column = begin + w * 64;
      Numbers sums = subset_sums(route_numbers, first_column, std::min(end, first_column + 64));
      for (size_t t = first_column; t < n; ++t) {
        uint64_t bits = rows[(t - begin) * words + w];
        uint64_t* score = scores.at(t);
        for (size_t byte = 0; bits; ++byte, bits >>= 8)
          if (size_t mask = bits & 0xff) add_fixed(score, sums.at(byte * 256 + mask), width);
      }
    }
  }

  // Order original indices: descending score, then ascending tie key.
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    int c = compare_fixed(scores.at(position[a]), scores.at(position[b]), width);
    if (c != 0) return c > 0;
    return dag.keys[a] < dag.keys[b];
  });
  result.order = std::move(order);
  result.scores = Numbers(n, width);
  for (uint32_t v = 0; v < n; ++v) std::copy(scores.at(position[v]), scores.at(position[v]) + width, result.scores.at(v));
  return result;
}

// The graph's nodes as a Dag; node i is graph.nodes()[i].
Dag dag_of(const ClosureGraph& graph, const std::vector<size_t>& keep, std::vector<uint32_t>& dag_index) {
  Dag dag;
  dag_index.assign(graph.size(), UINT32_MAX);
  for (size_t i : keep) {
    dag_index[i] = static_cast<uint32_t>(dag.keys.size());
    dag.keys.push_back(tie_key(graph.nodes()[i].path));
  }
  dag.children.resize(keep.size());
  for (size_t i : keep)
    for (const auto& ref : graph.nodes()[i].references) {
      size_t j = graph.index_of(ref);
      if (j != i) dag.children[dag_index[i]].push_back(dag_index[j]);
    }
  return dag;
}

std::vector<size_t> all_indices(const ClosureGraph& graph) {
  std::vector<size_t> v(graph.size());
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::vector<RankedPath> ranked(const Ranking& r, const std::vector<std::string>& paths) {
  std::vector<RankedPath> out;
  for (uint32_t v : r.order)
    if (!paths[v].empty()) out.push_back({paths[v], to_decimal(r.scores.at(v), r.scores.width)});
  return out;
}

std::vector<std::string> paths_only(const std::vector<RankedPath>& ranking) {
  std::vector<std::string> out;
  out.reserve(ranking.size());
  for (const auto& r : ranking) out.push_back(r.path);
  return out;
}

} // namespace

std::string tie_key(std::string_view path) {
  size_t dash = path.find('-');
  if (dash == std::string_view::npos) return std::string(path);
  return std::string(path.substr(dash + 1)) + "-" + std::string(path.substr(0, dash));
}

std::vector<RankedPath> popularity_ranking(const ClosureGraph& graph) {
  std::vector<uint32_t> dag_index;
  Dag dag = dag_of(graph, all_indices(graph), dag_index);
  std::vector<std::string> paths;
  for (const auto& node : graph.nodes()) paths.push_back(node.path);
  return ranked(rank(dag), paths);
}

std::vector<std::string> popularity_order(const ClosureGraph& graph) { return paths_only(popularity_ranking(graph)); }

std::vector<uint32_t> popularity_order_of_dag(const std::vector<std::vector<uint32_t>>& children,
                                              const std::vector<std::string>& paths) {
  Dag dag;
  dag.children = children;
  for (const auto& path : paths) dag.keys.push_back(tie_key(path));
  return rank(dag).order;
}

std::vector<RankedPath> image_popularity_ranking(const ClosureGraph& graph, const ImageRoots& roots) {
  std::vector<std::string> wanted = roots.config_references;
  wanted.insert(wanted.end(), roots.customisation_references.begin(), roots.customisation_references.end());
  std::vector<size_t> keep;
  for (const auto& path : graph.requisites(wanted)) keep.push_back(graph.index_of(path));

  std::vector<uint32_t> dag_index;
  Dag dag = dag_of(graph, keep, dag_index);
  std::vector<std::string> paths;
  for (size_t i : keep) paths.push_back(graph.nodes()[i].path);

  // Synthetic nodes: their paths stay empty, so they take part in scoring only.
  auto add_synthetic = [&](std::string key, const std::vector<uint32_t>& children) {
    dag.children.push_back(children);
    dag.keys.push_back(std::move(key));
    paths.emplace_back();
    return static_cast<uint32_t>(dag.children.size() - 1);
  };
  auto indices_of = [&](const std::vector<std::string>& refs) {
    std::vector<uint32_t> out;
    for (const auto& ref : refs) out.push_back(dag_index[graph.index_of(ref)]);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  };
  uint32_t config = add_synthetic("image-base.json", indices_of(roots.config_references));
  uint32_t customisation = add_synthetic("image-customisation-layer", indices_of(roots.customisation_references));
  add_synthetic("closure", {config, customisation});
  return ranked(rank(dag), paths);
}

std::vector<std::string> image_popularity_order(const ClosureGraph& graph, const ImageRoots& roots) {
  return paths_only(image_popularity_ranking(graph, roots));
}

std::vector<std::vector<std::string>> assign_layers(const std::vector<std::string>& order, int max_layers,
                                                    int base_layer_count) {
  if (max_layers <= 1) fail_input("maxLayers must be greater than 1 (got {})", max_layers);
  if (base_layer_count < 0) fail_input("the base image's layer count cannot be negative (got {})", base_layer_count);
  int used = base_layer_count + 1; // the base layers and the customisation layer
  if (used >= max_layers)
    fail_input("maxLayers is {}, but the base image's {} layers and the customisation layer already use {}: "
               "at least one layer is needed for the store paths",
               max_layers, base_layer_count, used);
  size_t single = static_cast<size_t>(max_layers - used - 1);
  std::vector<std::vector<std::string>> layers;
  for (size_t i = 0; i < order.size() && i < single; ++i) layers.push_back({order[i]});
  if (order.size() > single) layers.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(single), order.end());
  return layers;
}

} // namespace strata::closure
