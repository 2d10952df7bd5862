// Hand-derived cases of dockerAutoLayer (image/closure/auto_layer.h). Each comment walks
// the steps: largest path first; P's key becomes {P}; each dependency D of P drops the
// primaries that depend on P and gains P unless a primary P depends on is left in D's key;
// a step making more than the limit of distinct keys is undone and ends the growth.
#include "image/closure/auto_layer.h"
#include "layering_test_graph.h"

#include <gtest/gtest.h>

namespace strata::closure {
namespace {

using test::index_of;
using test::layer_graph;
using Layers = StoreLayers;

// T -> L, R; L -> B; R -> B.
LayerGraph diamond() {
  return layer_graph({{"T", 10, {"L", "R"}}, {"L", 40, {"B"}}, {"R", 30, {"B"}}, {"B", 20, {}}});
}

TEST(AutoLayer, DiamondGrowsToOneLayerPerPath) {
  // L: {L}; B (below L) gets L.            keys: T{} R{} L{L} B{L}        2
  // R: {R}; B keeps L (not above R), no primary of B is below R, so B gets R: B{L,R}  4
  // B: {B}.                                keys: T{} L{L} R{R} B{B}       4
  // T: {T}; L, R, B each keep their own key, a primary T depends on.       4
  // Closure sizes: B 20, R 50, L 60, T 100.
  EXPECT_EQ(auto_layers(diamond(), {}, 10), (Layers{{"B"}, {"R"}, {"L"}, {"T"}}));
}

TEST(AutoLayer, DiamondBudgetStopsTheGrowth) {
  // As above, but R's step makes 4 keys > 3: undone, and the growth ends with
  // T{} R{} L{L} B{L}. Closure sizes: {L, B} 60, {R, T} 100.
  EXPECT_EQ(auto_layers(diamond(), {}, 3), (Layers{{"B", "L"}, {"R", "T"}}));
  EXPECT_EQ(auto_layers(diamond(), {}, 2), (Layers{{"B", "L"}, {"R", "T"}}));
  // L's step already makes 2 keys > 1: everything stays in the one layer of the empty key.
  EXPECT_EQ(auto_layers(diamond(), {}, 1), (Layers{{"B", "L", "R", "T"}}));
}

// Two roots A and B share a large path Big, which references d.
LayerGraph shared_big_path() {
  return layer_graph({{"A", 5, {"Big", "a1"}},
                      {"B", 6, {"Big", "b1"}},
                      {"Big", 1000, {"d"}},
                      {"a1", 3, {}},
                      {"b1", 4, {}},
                      {"d", 2, {}}});
}

TEST(AutoLayer, LargePathSharedByTwoRootsKeepsALayerOfItsOwn) {
  // Big: {Big}, d gets Big.                 keys: {} {Big}                2
  // B: {B}; Big and d keep Big (below B), b1 gets B.   {} {Big} {B}       3
  // A: {A}; a1 gets A.                      {Big}: Big d, {B}: B b1, {A}: A a1   3
  // b1: {b1} makes 4 > 3: undone. Closure sizes: {Big, d} 1002, {A, a1} 1010,
  // {B, b1} 1012. ("Big" < "d": 'B' sorts before 'd'.)
  EXPECT_EQ(auto_layers(shared_big_path(), {}, 3), (Layers{{"Big", "d"}, {"A", "a1"}, {"B", "b1"}}));
  // With room for everything: b1 {b1}, a1 {a1}, then d becomes a primary of its own and
  // Big's layer is Big alone. Closure sizes d 2, a1 3, b1 4, Big 1002, A 1010, B 1012.
  EXPECT_EQ(auto_layers(shared_big_path(), {}, 10), (Layers{{"d"}, {"a1"}, {"b1"}, {"Big"}, {"A"}, {"B"}}));
}

TEST(AutoLayer, SharedLayerIsTheSameForAnotherImageOfTheSameBigPath) {
  // Another image: a root C (7) -> Big, c1 (3), c2 (4).
  // Big: d gets Big. C: c1, c2 get C. c2: {c2}, 3 keys. c1: 4 > 3, undone.
  // Big's layer is the same paths as in the first image, so the same layer bytes.
  LayerGraph other = layer_graph(
      {{"C", 7, {"Big", "c1", "c2"}}, {"Big", 1000, {"d"}}, {"c1", 3, {}}, {"c2", 4, {}}, {"d", 2, {}}});
  EXPECT_EQ(auto_layers(other, {}, 3), (Layers{{"c2"}, {"Big", "d"}, {"C", "c1"}}));
}

TEST(AutoLayer, DependencyOfAPrimaryBelowStaysWithThatPrimary) {
  // Top (50) -> Mid (10) -> Low (1); Low is also referenced by Top directly.
  // Top: {Top}; Mid and Low get Top.                   {Top}: all      1
  // Mid: {Mid}; Low loses Top (above Mid) and gets Mid.  {Top} {Mid}: Mid Low   2
  // Low: {Low}; 3 keys > 2: undone.
  LayerGraph g = layer_graph({{"Top", 50, {"Mid", "Low"}}, {"Mid", 10, {"Low"}}, {"Low", 1, {}}});
  EXPECT_EQ(auto_layers(g, {}, 2), (Layers{{"Low", "Mid"}, {"Top"}}));
}

TEST(AutoLayer, TiesInSizeTakeTheLaterPathFirst) {
  // Three unrelated paths of size 5, in graph order z@aaa, y@bbb, x@ccc (sorted by path):
  // nixpkgs pops the largest from the end of a stable sort, so x goes first, then y.
  LayerGraph g = layer_graph({{"/s/aaa-z", 5, {}}, {"/s/bbb-y", 5, {}}, {"/s/ccc-x", 5, {}}});
  // x: {} {x}  2;  y: 3 > 2, undone. Closure sizes: {x} 5, {y, z} 10.
  EXPECT_EQ(auto_layers(g, {}, 2), (Layers{{"/s/ccc-x"}, {"/s/bbb-y", "/s/aaa-z"}}));
  // Layers of equal closure size go by their paths' names (then hashes): x, y, z.
  EXPECT_EQ(auto_layers(g, {}, 5), (Layers{{"/s/ccc-x"}, {"/s/bbb-y"}, {"/s/aaa-z"}}));
}

TEST(AutoLayer, PathsInALayerAreSortedByNameThenHash) {
  // auto-layer.py's path_key compares (name, hash): "lib" before "lib+x" although
  // "lib-…" > "lib+x-…" as whole strings.
  LayerGraph g = layer_graph({{"/s/bbb-lib", 1, {}}, {"/s/aaa-lib+x", 1, {}}, {"/s/ccc-lib", 1, {}}});
  EXPECT_EQ(auto_layers(g, {}, 1), (Layers{{"/s/bbb-lib", "/s/ccc-lib", "/s/aaa-lib+x"}}));
}

TEST(AutoLayer, IgnoredPathsCountButAreLeftOut) {
  // As LargePathSharedByTwoRoots with budget 3, A left out: its layer keeps a1 only.
  LayerGraph g = shared_big_path();
  EXPECT_EQ(auto_layers(g, {index_of(g, "A")}, 3), (Layers{{"Big", "d"}, {"a1"}, {"B", "b1"}}));
  // A layer holding only ignored paths disappears; the key still counted against the limit.
  LayerGraph lone = layer_graph({{"x", 9, {}}, {"config", 1, {}}});
  EXPECT_EQ(auto_layers(lone, {index_of(lone, "config")}, 1), (Layers{{"x"}}));
  EXPECT_EQ(auto_layers(lone, {index_of(lone, "config")}, 2), (Layers{{"x"}}));
}

TEST(AutoLayer, EmptyGraphHasNoLayers) { EXPECT_TRUE(auto_layers(LayerGraph{}, {}, 5).empty()); }

TEST(AutoLayer, PathKeyOrder) {
  EXPECT_TRUE(path_key_less("/s/zzz-a", "/s/aaa-b"));
  EXPECT_TRUE(path_key_less("/s/aaa-a", "/s/bbb-a"));
  EXPECT_TRUE(path_key_less("/s/zzz-lib", "/s/aaa-lib+x"));
  EXPECT_FALSE(path_key_less("/s/aaa-a", "/s/aaa-a"));
}

} // namespace
} // namespace strata::closure
