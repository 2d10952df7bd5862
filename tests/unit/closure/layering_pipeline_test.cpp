// layeringPipeline cases, most from the tests of nixpkgs' flatten_references_graph
// package (their graphs and expected results), with NAR sizes that put the vertices in
// the order those tests build them in (nixpkgs orders the graph by NAR size).
#include "image/closure/layering_pipeline.h"
#include "layering_test_graph.h"
#include "sys/error.h"

#include <gtest/gtest.h>

namespace strata::closure {
namespace {

using nlohmann::json;
using test::layer_graph;
using test::TestNode;
using Layers = StoreLayers;

// Nodes sized 1, 2, 3… in the order the names first appear in `edges`, then `lone`.
LayerGraph from_edges(const std::vector<std::pair<std::string, std::string>>& edges,
                      const std::vector<std::string>& lone = {}) {
  std::vector<TestNode> nodes;
  auto node = [&](const std::string& name) -> TestNode& {
    for (auto& n : nodes)
      if (n.name == name) return n;
    nodes.push_back({name, nodes.size() + 1, {}});
    return nodes.back();
  };
  for (const auto& [from, to] : edges) {
    node(from);
    node(to);
    node(from).references.push_back(to);
  }
  for (const auto& name : lone) node(name);
  return layer_graph(nodes);
}

Layers run(const json& pipeline, const LayerGraph& g) { return LayeringPipeline(pipeline, "pipeline").run(g); }

std::string error_of(const json& pipeline, const LayerGraph& g) {
  try {
    run(pipeline, g);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

// flatten_references_graph_test: A (2) -> C; B (4) -> C, D; C (6); D (8).
LayerGraph abcd() {
  return layer_graph({{"A", 2, {"A", "C"}}, {"B", 4, {"C", "D"}}, {"C", 6, {"C"}}, {"D", 8, {"D"}}});
}

TEST(LayeringPipeline, SplitPathsGivesMainCommonRest) {
  EXPECT_EQ(run(json::parse(R"([["split_paths", ["B"]]])"), abcd()), (Layers{{"B", "D"}, {"C"}, {"A"}}));
  EXPECT_EQ(run(json::parse(R"([["split_paths", ["B"]], ["over", "main", ["subcomponent_in", ["B"]]]])"), abcd()),
            (Layers{{"B"}, {"D"}, {"C"}, {"A"}}));
}

TEST(LayeringPipeline, SplitPathsOfTheOnlyRootIsAllMain) {
  // nixpkgs' exclude_paths case: A left out, B is the one root, so all of it is "main".
  LayerGraph g = layer_graph({{"B", 4, {"C", "D"}}, {"C", 6, {}}, {"D", 8, {}}});
  EXPECT_EQ(run(json::parse(R"([["split_paths", ["B"]]])"), g), (Layers{{"B", "C", "D"}}));
}

// split_paths_test's graph.
LayerGraph split_graph() {
  return from_edges({{"Root1", "A"}, {"A", "B"}, {"A", "D"}, {"D", "E"}, {"B", "D"}, {"B", "F"}, {"Root2", "B"},
                     {"Root3", "C"}},
                    {"X"});
}

TEST(LayeringPipeline, SplitPathsSingle) {
  EXPECT_EQ(run(json::parse(R"([["split_paths", ["B"]]])"), split_graph()),
            (Layers{{"B", "F"}, {"D", "E"}, {"Root1", "A", "Root2", "Root3", "C", "X"}}));
}

TEST(LayeringPipeline, SplitPathsMulti) {
  EXPECT_EQ(run(json::parse(R"([["split_paths", ["B", "Root3"]]])"), split_graph()),
            (Layers{{"B", "F", "Root3", "C"}, {"D", "E"}, {"Root1", "A", "Root2", "X"}}));
}

TEST(LayeringPipeline, SplitPathsNoCommon) {
  EXPECT_EQ(run(json::parse(R"([["split_paths", ["D"]], ["over", "rest", ["split_every", 100]]])"), split_graph()),
            (Layers{{"D", "E"}, {"Root1", "A", "B", "F", "Root2", "Root3", "C", "X"}}));
  // No "common" part: over it is an error, as nixpkgs' KeyError.
  EXPECT_EQ(error_of(json::parse(R"([["split_paths", ["D"]], ["over", "common", ["popularity_contest"]]])"),
                     split_graph()),
            "pipeline[1]: \"over\" \"common\": the record has no \"common\" (it has: main, rest)");
}

TEST(LayeringPipeline, SplitPathsEmptyAndUnknownPathsLeaveTheRest) {
  Layers all{{"Root1", "A", "B", "D", "E", "F", "Root2", "Root3", "C", "X"}};
  EXPECT_EQ(run(json::parse(R"([["split_paths", []]])"), split_graph()), all);
  EXPECT_EQ(run(json::parse(R"([["split_paths", ["nowhere"]]])"), split_graph()), all);
}

TEST(LayeringPipeline, SplitPathsCutsTheEdgesIntoSplitPaths) {
  // split B and D: main is B, D, E, F without the edge B -> D, so within main both B and
  // D are roots: E and F score 2, B and D 1 (with the edge, E would score 3, D 2).
  EXPECT_EQ(run(json::parse(R"([["split_paths", ["B", "D"]], ["over", "main", ["popularity_contest"]]])"),
                split_graph()),
            (Layers{{"E"}, {"F"}, {"B"}, {"D"}, {"Root1", "A", "Root2", "Root3", "C", "X"}}));
}

TEST(LayeringPipeline, SplitPathsChildrenOf) {
  // children_of A: B and D are split.
  EXPECT_EQ(run(json::parse(R"([["split_paths", [{"children_of": "A"}]]])"), split_graph()),
            run(json::parse(R"([["split_paths", ["B", "D"]]])"), split_graph()));
  EXPECT_EQ(run(json::parse(R"([["split_paths", [{"children_of": ["Root3", "Root2"]}]]])"), split_graph()),
            run(json::parse(R"([["split_paths", ["C", "B"]]])"), split_graph()));
}

// subcomponent_test's graph.
LayerGraph sub_graph() {
  return from_edges({{"Root1", "A"}, {"A", "B"}, {"A", "C"}, {"B", "D"}, {"B", "E"}, {"Root2", "B"}, {"Root3", "C"}},
                    {"X"});
}

TEST(LayeringPipeline, SubcomponentOut) {
  EXPECT_EQ(run(json::parse(R"([["subcomponent_out", ["B"]]])"), sub_graph()),
            (Layers{{"B", "D", "E"}, {"Root1", "A", "C", "Root2", "Root3", "X"}}));
  EXPECT_EQ(run(json::parse(R"([["subcomponent_out", ["B", "Root3"]]])"), sub_graph()),
            (Layers{{"B", "C", "D", "E", "Root3"}, {"Root1", "A", "Root2", "X"}}));
}

TEST(LayeringPipeline, SubcomponentIn) {
  EXPECT_EQ(run(json::parse(R"([["subcomponent_in", ["B"]]])"), sub_graph()),
            (Layers{{"Root1", "A", "B", "Root2"}, {"C", "D", "E", "Root3", "X"}}));
  EXPECT_EQ(run(json::parse(R"([["subcomponent_in", ["B", "Root3"]]])"), sub_graph()),
            (Layers{{"Root1", "A", "B", "Root2", "Root3"}, {"C", "D", "E", "X"}}));
  // No paths: "main" is empty (dropped from the layers), "rest" is everything.
  EXPECT_EQ(run(json::parse(R"([["subcomponent_in", []]])"), sub_graph()),
            (Layers{{"Root1", "A", "B", "C", "D", "E", "Root2", "Root3", "X"}}));
}

TEST(LayeringPipeline, PopularityContest) {
  // popularity_contest_test: E, D, F, B, A, C, Root1, Root2, Root3, X.
  Layers expected;
  for (const char* p : {"E", "D", "F", "B", "A", "C", "Root1", "Root2", "Root3", "X"}) expected.push_back({p});
  EXPECT_EQ(run(json::parse(R"([["popularity_contest"]])"), split_graph()), expected);
}

// pipe_test's graph.
LayerGraph pipe_graph() {
  return from_edges({{"Root1", "A"}, {"A", "B"}, {"A", "C"}, {"B", "D"}, {"B", "E"}, {"E", "F"}, {"B", "G"},
                     {"Root2", "B"}, {"Root3", "C"}});
}

TEST(LayeringPipeline, PipeOfEveryKind) {
  // pipe_test test_1: B split off; B alone by subcomponent_in; its deps by popularity
  // (F first); Root3 removed; limit_layers merges G into what is left of "rest".
  json pipeline = json::parse(R"([
    ["split_paths", ["B"]],
    ["over", "main", ["pipe", [["subcomponent_in", ["B"]], ["over", "rest", ["popularity_contest"]]]]],
    ["flatten"],
    ["map", ["remove_paths", "Root3"]],
    ["limit_layers", 5]])");
  EXPECT_EQ(run(pipeline, pipe_graph()), (Layers{{"B"}, {"F"}, {"D"}, {"E"}, {"G", "Root1", "A", "C", "Root2"}}));
}

TEST(LayeringPipeline, LimitLayersAndReverse) {
  // pipe_test test_2: Root1 -> A -> B, Root2 alone.
  LayerGraph g = from_edges({{"Root1", "A"}, {"A", "B"}}, {"Root2"});
  EXPECT_EQ(run(json::parse(R"([["popularity_contest"]])"), g), (Layers{{"B"}, {"A"}, {"Root1"}, {"Root2"}}));
  EXPECT_EQ(run(json::parse(R"([["popularity_contest"], ["limit_layers", 3]])"), g),
            (Layers{{"B"}, {"A"}, {"Root1", "Root2"}}));
  EXPECT_EQ(run(json::parse(R"([["popularity_contest"], ["reverse"], ["limit_layers", 3]])"), g),
            (Layers{{"Root2"}, {"Root1"}, {"A", "B"}}));
  // limit_layers 1 merges everything; more room than items keeps them all.
  EXPECT_EQ(run(json::parse(R"([["popularity_contest"], ["limit_layers", 1]])"), g), (Layers{{"B", "A", "Root1", "Root2"}}));
  EXPECT_EQ(run(json::parse(R"([["popularity_contest"], ["limit_layers", 9]])"), g),
            (Layers{{"B"}, {"A"}, {"Root1"}, {"Root2"}}));
}

TEST(LayeringPipeline, SplitEveryAndMap) {
  LayerGraph g = from_edges({}, {"v1", "v2", "v3", "v4", "v5"});
  EXPECT_EQ(run(json::parse(R"([["split_every", 2]])"), g), (Layers{{"v1", "v2"}, {"v3", "v4"}, {"v5"}}));
  EXPECT_EQ(run(json::parse(R"([["split_every", 2], ["reverse"]])"), g), (Layers{{"v5"}, {"v3", "v4"}, {"v1", "v2"}}));
  // map: each chunk by popularity (unrelated paths: by name), nested lists flattened.
  EXPECT_EQ(run(json::parse(R"([["remove_paths", ["v3"]], ["split_every", 3], ["map", ["popularity_contest"]]])"), g),
            (Layers{{"v1"}, {"v2"}, {"v4"}, {"v5"}}));
}

TEST(LayeringPipeline, FlattenOfRecordsAndLists) {
  EXPECT_EQ(run(json::parse(R"([["subcomponent_out", ["B"]], ["flatten"], ["reverse"]])"), sub_graph()),
            (Layers{{"Root1", "A", "C", "Root2", "Root3", "X"}, {"B", "D", "E"}}));
}

TEST(LayeringPipeline, MalformedPipelinesNameTheStep) {
  LayerGraph g = sub_graph();
  EXPECT_EQ(error_of(json::parse(R"({"popularity_contest": 1})"), g),
            "pipeline: a pipeline must be a list of steps, not an object");
  EXPECT_EQ(error_of(json::parse(R"([["popularity_contest"], ["popularity"]])"), g),
            "pipeline[1]: unknown operator \"popularity\" (known: popularity_contest, limit_layers, split_every, "
            "subcomponent_in, subcomponent_out, split_paths, over, pipe, map, flatten, remove_paths, reverse)");
  EXPECT_EQ(error_of(json::parse(R"([[]])"), g), "pipeline[0]: a step must be a list [\"operator\", arguments…], not an empty list");
  EXPECT_EQ(error_of(json::parse(R"(["flatten"])"), g),
            "pipeline[0]: a step must be a list [\"operator\", arguments…], not a string");
  EXPECT_EQ(error_of(json::parse(R"([["popularity_contest"], ["limit_layers", 0]])"), g),
            "pipeline[1][1]: \"limit_layers\" needs a whole number greater than 0, not 0");
  EXPECT_EQ(error_of(json::parse(R"([["split_every", "2"]])"), g),
            "pipeline[0][1]: \"split_every\" needs a whole number greater than 0, not a string");
  EXPECT_EQ(error_of(json::parse(R"([["popularity_contest", 3]])"), g),
            "pipeline[0]: \"popularity_contest\" takes no arguments, but has 1 argument");
  EXPECT_EQ(error_of(json::parse(R"([["subcomponent_out", "B"]])"), g),
            "pipeline[0][1]: \"subcomponent_out\" needs a list of paths, not a string");
  EXPECT_EQ(error_of(json::parse(R"([["split_paths", [{"parents_of": "B"}]]])"), g),
            "pipeline[0][1][0]: \"split_paths\" takes objects with the one key \"children_of\"");
  EXPECT_EQ(error_of(json::parse(R"([["split_paths", ["B"]], ["over", "main", ["pipe", [["popularity_contest"], ["limit_layers"]]]]])"), g),
            "pipeline[1][2][1][1]: \"limit_layers\" takes one argument (a count), but has 0 arguments");
  EXPECT_EQ(error_of(json::parse(R"([["over", 1, ["flatten"]]])"), g),
            "pipeline[0][1]: \"over\" needs a key (\"main\", \"common\" or \"rest\"), not a number");
}

TEST(LayeringPipeline, OperatorsGivenTheWrongValueAreRefused) {
  LayerGraph g = sub_graph();
  EXPECT_EQ(error_of(json::parse(R"([["popularity_contest"], ["popularity_contest"]])"), g),
            "pipeline[1]: \"popularity_contest\" needs a graph, but is given a list");
  EXPECT_EQ(error_of(json::parse(R"([["over", "rest", ["flatten"]]])"), g),
            "pipeline[0]: \"over\" needs a record of graphs (the result of split_paths or subcomponent), but is "
            "given a graph");
  EXPECT_EQ(error_of(json::parse(R"([["subcomponent_out", ["B"]], ["map", ["flatten"]]])"), g),
            "pipeline[1]: \"map\" needs a list, but is given a record of graphs (the result of split_paths or "
            "subcomponent)");
  EXPECT_EQ(error_of(json::parse(R"([["split_every", 1], ["map", ["subcomponent_out", ["B"]]], ["limit_layers", 2]])"), g),
            "pipeline[2]: \"limit_layers\" merges the items after the first 1, but item 1 is a record of graphs (the "
            "result of split_paths or subcomponent)");
  EXPECT_EQ(error_of(json::parse(R"([["remove_paths", "B"]])"), g),
            "pipeline: the pipeline ends with one graph, not a list of layers (end it with popularity_contest, "
            "split_every or limit_layers, as nixpkgs needs)");
  EXPECT_EQ(error_of(json::parse("[]"), g), error_of(json::parse(R"([["remove_paths", "B"]])"), g));
}

} // namespace
} // namespace strata::closure
