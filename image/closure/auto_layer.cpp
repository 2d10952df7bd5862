#include "image/closure/auto_layer.h"

#include <algorithm>
#include <numeric>
#include <unordered_set>

namespace strata::closure {

namespace {

// The keys of all nodes: a bitset over primary numbers per node, `words` words each.
class KeyTable {
public:
  KeyTable(size_t nodes, size_t words) : words_(words), bits_(nodes * words, 0) {}
  uint64_t* at(size_t node) { return bits_.data() + node * words_; }
  const uint64_t* at(size_t node) const { return bits_.data() + node * words_; }
  size_t words() const { return words_; }
  size_t nodes() const { return bits_.size() / std::max<size_t>(1, words_); }

  size_t distinct() const {
    auto hash = [this](const uint64_t* key) {
      uint64_t h = 0x9e3779b97f4a7c15ull;
      for (size_t w = 0; w < words_; ++w) h = (h ^ key[w]) * 0x100000001b3ull;
      return static_cast<size_t>(h);
    };
    auto equal = [this](const uint64_t* a, const uint64_t* b) { return std::equal(a, a + words_, b); };
    std::unordered_set<const uint64_t*, decltype(hash), decltype(equal)> seen(nodes() * 2, hash, equal);
    for (size_t v = 0; v < nodes(); ++v) seen.insert(at(v));
    return seen.size();
  }

private:
  size_t words_;
  std::vector<uint64_t> bits_;
};

// Nodes reachable from `start` along `edges`, `start` itself excluded, marked with `stamp`.
std::vector<uint32_t> reach(const std::vector<std::vector<uint32_t>>& edges, uint32_t start, std::vector<uint32_t>& mark,
                            uint32_t stamp) {
  std::vector<uint32_t> found, work{start};
  mark[start] = stamp;
  while (!work.empty()) {
    uint32_t v = work.back();
    work.pop_back();
    for (uint32_t next : edges[v])
      if (mark[next] != stamp) {
        mark[next] = stamp;
        found.push_back(next);
        work.push_back(next);
      }
  }
  return found;
}

} // namespace

bool path_key_less(std::string_view a, std::string_view b) {
  auto split = [](std::string_view p) {
    size_t dash = p.find('-');
    if (dash == std::string_view::npos) return std::pair{std::string_view(), p};
    return std::pair{p.substr(dash + 1), p.substr(0, dash)};
  };
  return split(a) < split(b);
}

StoreLayers auto_layers(const LayerGraph& graph, const std::vector<uint32_t>& ignored, size_t layer_limit) {
  const size_t n = graph.size();
  if (n == 0) return {};
  const auto referrers = graph.referrers();

  // Primaries are taken from the back: largest first, ties the later node first.
  std::vector<uint32_t> by_size(n);
  std::iota(by_size.begin(), by_size.end(), 0);
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](uint32_t a, uint32_t b) { return graph.nar_sizes[a] < graph.nar_sizes[b]; });

  // Every accepted primary makes a key of its own, so there are at most layer_limit of
  // them, plus the one whose step is undone.
  const size_t max_primaries = layer_limit >= n ? n : layer_limit + 1;
  const size_t words = (max_primaries + 63) / 64;
  KeyTable split(n, words);
  std::vector<uint32_t> primaries;
  std::vector<uint32_t> dep_mark(n, 0), user_mark(n, 0);
  std::vector<uint64_t> users_mask(words), deps_mask(words);

  for (size_t left = n; left-- > 0;) {
    uint32_t primary = by_size[left];
    size_t id = primaries.size();
    primaries.push_back(primary);
    auto stamp = static_cast<uint32_t>(id + 1);
    std::vector<uint32_t> deps = reach(graph.references, primary, dep_mark, stamp);
    reach(referrers, primary, user_mark, stamp);
    dep_mark[primary] = user_mark[primary] = 0; // P is neither its own dependency nor user
    std::fill(users_mask.begin(), users_mask.end(), 0);
    std::fill(deps_mask.begin(), deps_mask.end(), 0);
    for (size_t j = 0; j < id; ++j) {
      if (user_mark[primaries[j]] == stamp) users_mask[j / 64] |= uint64_t{1} << (j % 64);
      if (dep_mark[primaries[j]] == stamp) deps_mask[j / 64] |= uint64_t{1} << (j % 64);
    }
    KeyTable next = split;
    uint64_t* own = next.at(primary);
    std::fill(own, own + words, 0);
    own[id / 64] |= uint64_t{1} << (id % 64);
    for (uint32_t dep : deps) {
      uint64_t* key = next.at(dep);
      bool below = false;
      for (size_t w = 0; w < words; ++w) {
        key[w] &= ~users_mask[w];
        below = below || (key[w] & deps_mask[w]) != 0;
      }
      if (!below) key[id / 64] |= uint64_t{1} << (id % 64);
    }
    if (next.distinct() > layer_limit) break;
    split = std::move(next);
  }

  // Group nodes by key.
  std::vector<uint32_t> nodes(n);
  std::iota(nodes.begin(), nodes.end(), 0);
  auto key_less = [&](uint32_t a, uint32_t b) {
    return std::lexicographical_compare(split.at(a), split.at(a) + words, split.at(b), split.at(b) + words);
  };
  std::stable_sort(nodes.begin(), nodes.end(), key_less);
  struct Layer {
    std::vector<uint32_t> members;
    uint64_t closure_size = 0;
  };
  std::vector<Layer> layers;
  for (size_t i = 0; i < n; ++i) {
    if (i == 0 || key_less(nodes[i - 1], nodes[i])) layers.emplace_back();
    layers.back().members.push_back(nodes[i]);
  }
  std::vector<uint32_t> mark(n, 0);
  uint32_t stamp = 0;
  for (Layer& layer : layers) {
    std::sort(layer.members.begin(), layer.members.end(),
              [&](uint32_t a, uint32_t b) { return path_key_less(graph.paths[a], graph.paths[b]); });
    ++stamp;
    std::vector<uint32_t> work;
    for (uint32_t v : layer.members)
      if (mark[v] != stamp) {
        mark[v] = stamp;
        work.push_back(v);
      }
    while (!work.empty()) {
      uint32_t v = work.back();
      work.pop_back();
      layer.closure_size += graph.nar_sizes[v];
      for (uint32_t r : graph.references[v])
        if (mark[r] != stamp) {
          mark[r] = stamp;
          work.push_back(r);
        }
    }
  }
  std::sort(layers.begin(), layers.end(), [&](const Layer& a, const Layer& b) {
    if (a.closure_size != b.closure_size) return a.closure_size < b.closure_size;
    return std::lexicographical_compare(
        a.members.begin(), a.members.end(), b.members.begin(), b.members.end(),
        [&](uint32_t x, uint32_t y) { return path_key_less(graph.paths[x], graph.paths[y]); });
  });

  std::vector<bool> skip(n, false);
  for (uint32_t v : ignored) skip[v] = true;
  StoreLayers out;
  for (const Layer& layer : layers) {
    std::vector<std::string> paths;
    for (uint32_t v : layer.members)
      if (!skip[v]) paths.push_back(graph.paths[v]);
    if (!paths.empty()) out.push_back(std::move(paths));
  }
  return out;
}

} // namespace strata::closure
