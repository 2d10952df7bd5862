#include "image/closure/popularity.h"
#include "sys/error.h"
#include "test_paths.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>

namespace strata::closure {
namespace {

using test::sp;
using Strings = std::vector<std::string>;

// Builds a graph from {name: [referenced names]} with sp() paths.
ClosureGraph graph_of(const std::map<std::string, Strings>& refs) {
  std::vector<PathNode> nodes;
  for (const auto& [name, targets] : refs) {
    PathNode node{sp(name), {}};
    for (const auto& t : targets) node.references.push_back(sp(t));
    nodes.push_back(node);
  }
  return ClosureGraph(std::move(nodes), "/nix/store", "test");
}

Strings paths(const Strings& names) {
  Strings out;
  for (const auto& n : names) out.push_back(sp(n));
  return out;
}

std::map<std::string, std::string> scores_by_name(const std::vector<RankedPath>& ranking) {
  std::map<std::string, std::string> out;
  for (const auto& r : ranking) out[r.path.substr(r.path.find('-') + 1)] = r.score;
  return out;
}

TEST(TieKey, IsNixpkgsPackageName) {
  EXPECT_EQ(tie_key("/nix/store/abc-hello-2.1"), "hello-2.1-/nix/store/abc");
  EXPECT_EQ(tie_key("/nix/store/abc"), "/nix/store/abc");
}

// a -> b -> c. Each path has one route from the root a, so a scores 1, b 1+1, c 1+1+1.
TEST(Popularity, Chain) {
  auto g = graph_of({{"a", {"b"}}, {"b", {"c"}}, {"c", {}}});
  EXPECT_EQ(popularity_order(g), paths({"c", "b", "a"}));
  EXPECT_EQ(scores_by_name(popularity_ranking(g)), (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
}

// top -> left, right -> base. Tree: top{left{base}, right{base}}; contest of top's
// subtree gives left 1, right 1, base (1+1)+(1+1) = 4; at the top level top 1,
// left 2, right 2, base 5. left and right tie at 2: "left-…" sorts before "right-…".
TEST(Popularity, Diamond) {
  auto g = graph_of({{"top", {"left", "right"}}, {"left", {"base"}}, {"right", {"base"}}, {"base", {}}});
  EXPECT_EQ(popularity_order(g), paths({"base", "left", "right", "top"}));
  EXPECT_EQ(scores_by_name(popularity_ranking(g))["base"], "5");
}

// d is referenced at depth 2 (a -> d) and depth 4 (a -> b -> c -> d). Tree:
// a{b{c{d}}, d}. contest(c's children) = d:1; contest(b's) = c:1, d:2; contest(a's) =
// b:1, c:2, d:3 from b's branch, then d +1 as a direct child = 4; top level a 1, b 2,
// c 3, d 5.
TEST(Popularity, PathSharedAtSeveralDepths) {
  auto g = graph_of({{"a", {"b", "d"}}, {"b", {"c"}}, {"c", {"d"}}, {"d", {}}});
  EXPECT_EQ(popularity_order(g), paths({"d", "c", "b", "a"}));
  EXPECT_EQ(scores_by_name(popularity_ranking(g)),
            (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "5"}}));
}

// r -> zlib-1.3, acl-2.3, bash-5.2, bash: all four children score 2 and tie, so they
// sort by their keys "<name>-/nix/store/<hash>", whatever their hash parts are. "bash"
// comes before "bash-5.2": after "bash-" its key has '/' (0x2f), the other '5' (0x35).
TEST(Popularity, TiesBrokenByName) {
  auto g = graph_of({{"r", {"zlib-1.3", "acl-2.3", "bash-5.2", "bash"}}, {"zlib-1.3", {}}, {"acl-2.3", {}}, {"bash-5.2", {}}, {"bash", {}}});
  EXPECT_EQ(popularity_order(g), paths({"acl-2.3", "bash", "bash-5.2", "zlib-1.3", "r"}));
}

// Same name, different hashes: the key ends with "/nix/store/<hash>", so the hash decides.
TEST(Popularity, SameNameTiesBrokenByHash) {
  std::string h1 = "/nix/store/00000000000000000000000000000000-same";
  std::string h2 = "/nix/store/11111111111111111111111111111111-same";
  std::string root = "/nix/store/22222222222222222222222222222222-root";
  ClosureGraph g({{root, {h2, h1}}, {h1, {}}, {h2, {}}}, "/nix/store", "test");
  EXPECT_EQ(popularity_order(g), (Strings{h1, h2, root}));
}

// Roots r1 -> s and r2 -> s, t. s has two routes (via r1, via r2): 2 + 1 + 1 = 4;
// t: 1 + 1 = 2; the roots 1 each, tie broken by name.
TEST(Popularity, SeveralRoots) {
  auto g = graph_of({{"r1", {"s"}}, {"r2", {"s", "t"}}, {"s", {}}, {"t", {}}});
  EXPECT_EQ(popularity_order(g), paths({"s", "t", "r1", "r2"}));
}

// Self-references are dropped (make_lookup) and do not stop a path being a root:
// a -> a, b; b -> b is the chain a -> b: a 1, b 2.
TEST(Popularity, SelfReferencesIgnored) {
  auto g = graph_of({{"a", {"a", "b"}}, {"b", {"b"}}});
  EXPECT_EQ(popularity_order(g), paths({"b", "a"}));
  EXPECT_EQ(scores_by_name(popularity_ranking(g)), (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
}

// The worked example at the top of closure-graph.py: A-B-C-D-F, C-E-F, B-E, A-G gives
// A 1, B 2, C 3, D 4, E 5, F 9, G 2 and the order F E D C B G A.
TEST(Popularity, NixpkgsWorkedExample) {
  auto g = graph_of({{"A", {"B", "G"}}, {"B", {"C", "E"}}, {"C", {"D", "E"}}, {"D", {"F"}}, {"E", {"F"}}, {"F", {}}, {"G", {}}});
  EXPECT_EQ(popularity_order(g), paths({"F", "E", "D", "C", "B", "G", "A"}));
  EXPECT_EQ(scores_by_name(popularity_ranking(g)),
            (std::map<std::string, std::string>{{"A", "1"}, {"B", "2"}, {"C", "3"}, {"D", "4"}, {"E", "5"}, {"F", "9"}, {"G", "2"}}));
}

// A chain of 100 diamonds d0 -> {l1, r1} -> d1 -> … -> d100: routes(d_i) = 2^i and
// routes(l_i) = routes(r_i) = 2^(i-1), so score(d100) = sum 2^i (i = 0..100) +
// 2 * sum 2^(i-1) (i = 1..100) = 2^102 - 3, far beyond 64 bits.
TEST(Popularity, ScoresBeyondSixtyFourBits) {
  std::map<std::string, Strings> refs;
  for (int i = 1; i <= 100; ++i) {
    std::string prev = "d" + std::to_string(i - 1), l = "l" + std::to_string(i), r = "r" + std::to_string(i);
    refs[prev] = {l, r};
    refs[l] = {"d" + std::to_string(i)};
    refs[r] = {"d" + std::to_string(i)};
  }
  refs["d100"] = {};
  auto ranking = popularity_ranking(graph_of(refs));
  EXPECT_EQ(ranking.front().path, sp("d100"));
  EXPECT_EQ(ranking.front().score, "5070602400912917605986812821501"); // 2^102 - 3
}

// --- the reference implementation: closure-graph.py, literally, with the tree expanded ---

struct Tree {
  std::map<std::string, Tree> children;
};

Tree segment(const std::string& root, const std::map<std::string, Strings>& lookup) {
  Tree t;
  for (const auto& ref : lookup.at(root)) t.children[ref] = segment(ref, lookup);
  return t;
}

std::map<std::string, uint64_t> contest(const Tree& tree) {
  std::map<std::string, uint64_t> pop;
  for (const auto& [path, sub] : tree.children) {
    pop[path] += 1;
    for (const auto& [p, s] : contest(sub)) pop[p] += s + 1;
  }
  return pop;
}

Strings reference_order(const ClosureGraph& g) {
  std::map<std::string, Strings> lookup;
  for (const auto& n : g.nodes())
    for (const auto& r : n.references)
      if (r != n.path) lookup[n.path].push_back(r);
  for (const auto& n : g.nodes()) lookup[n.path];
  Tree full;
  for (const auto& root : g.roots()) full.children[root] = segment(root, lookup);
  auto pop = contest(full);
  std::map<uint64_t, Strings> by_pop;
  for (const auto& [p, s] : pop) by_pop[s].push_back(p);
  Strings flat;
  for (auto& [s, group] : by_pop) { // ascending popularity, each group sorted then reversed
    std::sort(group.begin(), group.end(), [](const auto& a, const auto& b) { return tie_key(a) < tie_key(b); });
    flat.insert(flat.end(), group.rbegin(), group.rend());
  }
  return Strings(flat.rbegin(), flat.rend());
}

// Random small DAGs with repeated names, self-references and several roots.
ClosureGraph random_dag(std::mt19937_64& rng, int n) {
  const Strings names = {"glibc", "bash", "zlib", "openssl", "bash-5.2", "libffi", "python3"};
  Strings ps;
  for (int i = 0; i < n; ++i) ps.push_back("/nix/store/" + test::fake_hash(std::to_string(rng())) + "-" + names[rng() % names.size()]);
  std::vector<PathNode> nodes;
  for (int i = 0; i < n; ++i) {
    PathNode node{ps[i], {}};
    for (int j = i + 1; j < n; ++j)
      if (rng() % 100 < 35) node.references.push_back(ps[j]);
    if (rng() % 3 == 0) node.references.push_back(ps[i]);
    nodes.push_back(node);
  }
  return ClosureGraph(std::move(nodes), "/nix/store", "random");
}

TEST(Popularity, EqualsTreeExpandingReferenceOnRandomDags) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 300; ++round) {
    auto g = random_dag(rng, 1 + static_cast<int>(rng() % 11));
    ASSERT_EQ(popularity_order(g), reference_order(g)) << "round " << round;
  }
}

// dockerTools' rooting, checked against the reference run on the same graph with the
// synthetic nodes as real store paths (then dropped, as the `grep -v`s in nixpkgs do).
TEST(Popularity, ImageRootingEqualsReferenceWithSyntheticPaths) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; ++round) {
    auto g = random_dag(rng, 1 + static_cast<int>(rng() % 9));
    ImageRoots roots;
    for (const auto& n : g.nodes()) {
      if (rng() % 3 == 0) roots.config_references.push_back(n.path);
      if (rng() % 2 == 0) roots.customisation_references.push_back(n.path);
    }
    std::vector<PathNode> nodes;
    for (const auto& p : g.requisites(roots.config_references)) nodes.push_back(*g.find(p));
    for (const auto& p : g.requisites(roots.customisation_references)) nodes.push_back(*g.find(p));
    std::string base = sp("img-base.json"), custom = sp("img-customisation-layer"), closure = sp("closure");
    nodes.push_back({base, roots.config_references});
    nodes.push_back({custom, roots.customisation_references});
    nodes.push_back({closure, {base, custom}});
    Strings expected;
    for (const auto& p : reference_order(ClosureGraph(nodes, "/nix/store", "with synthetic")))
      if (p != base && p != custom && p != closure) expected.push_back(p);
    ASSERT_EQ(image_popularity_order(g, roots), expected) << "round " << round;
  }
}

// alpha is only in the contents; beta is in the config and the contents. On their own
// both are roots scoring 1 (alpha first by name). Rooted as dockerTools roots them,
// beta has two routes (config, customisation) and scores 2 + 1 + 1 + 1 = 5 against
// alpha's 1 + 1 + 1 = 3, so beta comes first. gamma is in the graph but not the image.
TEST(Popularity, ImageRootingScoresSyntheticNodes) {
  auto g = graph_of({{"alpha", {}}, {"beta", {}}, {"gamma", {"beta"}}});
  ImageRoots roots{paths({"beta"}), paths({"alpha", "beta"})};
  EXPECT_EQ(image_popularity_order(g, roots), paths({"beta", "alpha"}));
  EXPECT_EQ(scores_by_name(image_popularity_ranking(g, roots)),
            (std::map<std::string, std::string>{{"alpha", "3"}, {"beta", "5"}}));
  EXPECT_THROW(image_popularity_order(g, ImageRoots{{sp("absent")}, {}}), InputError);
}

TEST(Popularity, TenThousandPathsWithoutExpandingTheTree) {
  // Each path references up to 6 random later paths: the expanded tree would have far
  // more than 2^64 nodes. The order must be a permutation with non-increasing scores.
  std::mt19937_64 rng(3);
  const int n = 10000;
  Strings ps;
  for (int i = 0; i < n; ++i) ps.push_back(sp("p" + std::to_string(i)));
  std::vector<PathNode> nodes;
  for (int i = 0; i < n; ++i) {
    PathNode node{ps[i], {ps[i]}};
    for (int k = 0; k < 6 && i + 1 < n; ++k) node.references.push_back(ps[i + 1 + rng() % std::min(n - i - 1, 500)]);
    nodes.push_back(node);
  }
  ClosureGraph g(std::move(nodes), "/nix/store", "big");
  auto start = std::chrono::steady_clock::now();
  auto ranking = popularity_ranking(g);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  std::printf("popularity of %d paths: %lld ms, top score %s\n", n, static_cast<long long>(ms), ranking.front().score.c_str());
  ASSERT_EQ(ranking.size(), static_cast<size_t>(n));
  std::set<std::string> seen;
  auto less = [](const std::string& a, const std::string& b) { return a.size() != b.size() ? a.size() < b.size() : a < b; };
  for (size_t i = 0; i < ranking.size(); ++i) {
    seen.insert(ranking[i].path);
    if (i > 0) {
      EXPECT_FALSE(less(ranking[i - 1].score, ranking[i].score)) << i;
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(n));
  EXPECT_GT(ranking.front().score.size(), 20u); // beyond 64 bits: exact big integers were needed
}

// --- layer assignment ---

Strings numbered(int n) {
  Strings out;
  for (int i = 0; i < n; ++i) out.push_back("p" + std::to_string(i));
  return out;
}

TEST(AssignLayers, MatchesStreamLayeredImage) {
  using Layers = std::vector<Strings>;
  // maxLayers 4, no base: 4 - 1 = 3 layers for store paths; 2 alone, the rest shared.
  EXPECT_EQ(assign_layers(numbered(5), 4), (Layers{{"p0"}, {"p1"}, {"p2", "p3", "p4"}}));
  // One base layer leaves 2: 1 alone, the rest shared.
  EXPECT_EQ(assign_layers(numbered(5), 4, 1), (Layers{{"p0"}, {"p1", "p2", "p3", "p4"}}));
  // Two base layers leave 1: everything in one layer.
  EXPECT_EQ(assign_layers(numbered(5), 4, 2), (Layers{{"p0", "p1", "p2", "p3", "p4"}}));
  EXPECT_EQ(assign_layers(numbered(5), 2), (Layers{{"p0", "p1", "p2", "p3", "p4"}}));
  // maxLayers 5 (4 store layers) around the boundary: 3, 4 and 5 paths.
  EXPECT_EQ(assign_layers(numbered(3), 5), (Layers{{"p0"}, {"p1"}, {"p2"}}));
  EXPECT_EQ(assign_layers(numbered(4), 5), (Layers{{"p0"}, {"p1"}, {"p2"}, {"p3"}}));
  EXPECT_EQ(assign_layers(numbered(5), 5), (Layers{{"p0"}, {"p1"}, {"p2"}, {"p3", "p4"}}));
  EXPECT_TRUE(assign_layers({}, 5).empty());
}

TEST(AssignLayers, NeverExceedsMaxLayers) {
  for (int max = 2; max <= 10; ++max)
    for (int base = 0; base + 1 < max; ++base)
      for (int n = 0; n <= 12; ++n) {
        auto layers = assign_layers(numbered(n), max, base);
        EXPECT_LE(static_cast<int>(layers.size()) + base + 1, max);
        Strings flat;
        for (const auto& l : layers) {
          EXPECT_FALSE(l.empty());
          flat.insert(flat.end(), l.begin(), l.end());
        }
        EXPECT_EQ(flat, numbered(n));
        // Every layer but the last holds one path; the limit is used when there are paths enough.
        if (n >= max - base - 1) {
          EXPECT_EQ(static_cast<int>(layers.size()), max - base - 1);
        }
      }
}

TEST(AssignLayers, BadLimitsAreInputErrors) {
  EXPECT_THROW(assign_layers(numbered(3), 1), InputError);
  EXPECT_THROW(assign_layers(numbered(3), 0), InputError);
  EXPECT_THROW(assign_layers(numbered(3), -5), InputError);
  EXPECT_THROW(assign_layers(numbered(3), 4, 3), InputError);
  try {
    assign_layers(numbered(3), 3, 2);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("maxLayers is 3"), std::string::npos) << e.what();
  }
}

} // namespace
} // namespace strata::closure
