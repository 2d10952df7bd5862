#include "image/closure/graph.h"
#include "image/closure/graph_file.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"
#include "test_paths.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace strata::closure {
namespace {

using test::sp;
using Strings = std::vector<std::string>;

// Expects an InputError whose message contains every one of `parts`.
template <typename F>
void expect_input_error(F&& f, const Strings& parts) {
  try {
    f();
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    for (const auto& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what() << "\nmissing: " << part;
  }
}

ClosureGraph diamond_closure() {
  // top -> left, right; left, right -> base; base -> base (self)
  return ClosureGraph({{sp("top"), {sp("left"), sp("right")}},
                       {sp("left"), {sp("base")}},
                       {sp("right"), {sp("base")}},
                       {sp("base"), {sp("base")}}},
                      "/nix/store", "test");
}

TEST(ClosureGraph, SortsNodesAndReferences) {
  ClosureGraph g({{sp("b"), {sp("c"), sp("a"), sp("a")}}, {sp("a"), {}}, {sp("c"), {}}}, "/nix/store", "test");
  ASSERT_EQ(g.size(), 3u);
  EXPECT_TRUE(std::is_sorted(g.nodes().begin(), g.nodes().end(),
                             [](const PathNode& x, const PathNode& y) { return x.path < y.path; }));
  Strings refs{sp("a"), sp("c")};
  std::sort(refs.begin(), refs.end());
  EXPECT_EQ(g.find(sp("b"))->references, refs);
  EXPECT_EQ(g.find(sp("zzz")), nullptr);
}

TEST(ClosureGraph, RootsIgnoreSelfReferences) {
  auto g = diamond_closure();
  EXPECT_EQ(g.roots(), Strings{sp("top")});
  ClosureGraph self_only({{sp("x"), {sp("x")}}}, "/nix/store", "test");
  EXPECT_EQ(self_only.roots(), Strings{sp("x")});
}

TEST(ClosureGraph, RequisitesAreTheTransitiveClosure) {
  auto g = diamond_closure();
  Strings left{sp("left"), sp("base")};
  std::sort(left.begin(), left.end());
  EXPECT_EQ(g.requisites({sp("left")}), left);
  EXPECT_EQ(g.requisites({sp("top")}).size(), 4u);
  EXPECT_EQ(g.closure_of({sp("right")}).size(), 2u);
  expect_input_error([&] { g.requisites({sp("absent")}); }, {sp("absent"), "not in the closure graph"});
}

TEST(ClosureGraph, RejectsReferencesOutsideTheGraph) {
  expect_input_error([] { ClosureGraph({{sp("a"), {sp("b")}}}, "/nix/store", "g.json"); },
                     {"g.json", sp("a"), sp("b"), "not in the graph"});
}

TEST(ClosureGraph, RejectsPathsOutsideTheStore) {
  expect_input_error([] { ClosureGraph({{"/usr/lib/x", {}}}, "/nix/store", "g.json"); },
                     {"g.json", "/usr/lib/x", "not in the store dir /nix/store"});
  expect_input_error([] { ClosureGraph({{sp("a"), {"/opt/b"}}}, "/nix/store", "g.json"); },
                     {"g.json", "reference of " + sp("a"), "/opt/b"});
  expect_input_error([] { ClosureGraph({{sp("a", "/gnu/store"), {}}}, "/nix/store", "g.json"); }, {"/gnu/store"});
}

TEST(ClosureGraph, NamesTheCycle) {
  expect_input_error(
      [] {
        ClosureGraph({{sp("a"), {sp("b")}}, {sp("b"), {sp("c")}}, {sp("c"), {sp("a"), sp("c")}}, {sp("d"), {sp("a")}}},
                     "/nix/store", "g.json");
      },
      {"g.json", "cycle", sp("a") + " -> " + sp("b") + " -> " + sp("c") + " -> " + sp("a")});
}

TEST(ClosureGraph, DuplicatesMustAgree) {
  ClosureGraph same({{sp("a"), {}}, {sp("a"), {}}}, "/nix/store", "g");
  EXPECT_EQ(same.size(), 1u);
  expect_input_error([] { ClosureGraph({{sp("a"), {}}, {sp("a"), {sp("a")}}, {sp("b"), {}}}, "/nix/store", "g"); },
                     {sp("a"), "twice"});
}

// --- files ---

const std::string hash_b32 = "sha256:11hap619k9yv29jfxdq44d7fxwks93qsw8w8iwbgdjwxni9zsxlj";
const std::string hash_hex = "9276fd53b49dcbf6168f8823aef1487af2ee4e2304b7ee6412dba79982b90a86";

TEST(GraphFile, ReadsDumpDbRegistration) {
  // nix-store --dump-db: path, base16 hash, size, deriver, count, references.
  std::string text = sp("a") + "\n" + hash_hex + "\n120\n" + sp("a.drv") + "\n0\n" +
                     sp("b") + "\n" + hash_hex + "\n160\n\n2\n" + sp("a") + "\n" + sp("b") + "\n";
  auto g = parse_registration_text(text, "reg", "/nix/store");
  ASSERT_EQ(g.size(), 2u);
  const PathNode* a = g.find(sp("a"));
  EXPECT_EQ(a->nar_hash, hash_hex);
  EXPECT_EQ(a->nar_size, 120u);
  EXPECT_EQ(a->deriver, sp("a.drv"));
  const PathNode* b = g.find(sp("b"));
  EXPECT_EQ(b->deriver, "");
  EXPECT_EQ(b->references.size(), 2u);
}

TEST(GraphFile, ReadsExportReferencesGraphText) {
  // exportReferencesGraph: path, empty deriver, count, references.
  std::string text = sp("a") + "\n\n0\n" + sp("c") + "\n\n2\n" + sp("a") + "\n" + sp("b") + "\n" + sp("b") + "\n\n1\n" + sp("a") + "\n";
  auto g = parse_registration_text(text, "graph", "/nix/store");
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g.roots(), Strings{sp("c")});
  EXPECT_EQ(g.find(sp("c"))->nar_hash, "");
}

TEST(GraphFile, TextErrorsNameFileAndLine) {
  expect_input_error([] { parse_registration_text(sp("a") + "\n\nmany\n", "graph", "/nix/store"); },
                     {"graph:3", "number of references", "many"});
  expect_input_error([] { parse_registration_text(sp("a") + "\n\n2\n" + sp("b") + "\n", "graph", "/nix/store"); },
                     {"graph:5", "ends", "reference 2 of"});
  expect_input_error([] { parse_registration_text(sp("a") + "\nsha256:nothash\n", "graph", "/nix/store"); },
                     {"graph:2", "NAR hash"});
  expect_input_error([] { parse_registration_text("/etc/passwd\n\n0\n", "graph", "/nix/store"); },
                     {"graph:1", "/etc/passwd", "not in the store dir"});
}

TEST(GraphFile, ReadsJsonArrays) {
  std::string text = R"([{"path":")" + sp("a") + R"(","narHash":")" + hash_b32 + R"(","narSize":120,"references":[]},
    {"path":")" + sp("b") + R"(","references":[")" + sp("a") + R"("],"deriver":null,"closureSize":5}])";
  auto g = parse_json_graph(text, "g.json", "/nix/store");
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g.find(sp("a"))->nar_hash, hash_b32);
  EXPECT_EQ(g.find(sp("a"))->nar_size, 120u);
  EXPECT_EQ(g.roots(), Strings{sp("b")});
}

TEST(GraphFile, ReadsStructuredAttrsJson) {
  // .attrs.json of a derivation with __structuredAttrs and exportReferencesGraph.graph = [b]:
  // other members, including exportReferencesGraph itself (strings), are not graphs.
  std::string text = R"({"builder":"/bin/sh","exportReferencesGraph":{"graph":[")" + sp("b") + R"("]},
    "paths":["x"],"graph":[{"closureSize":1,"narHash":")" + hash_b32 + R"(","narSize":1,"path":")" + sp("a") +
                     R"(","references":[]},{"path":")" + sp("b") + R"(","references":[")" + sp("a") +
                     R"("]}],"outputs":{"out":"/nix/store/x"}})";
  auto g = parse_json_graph(text, "attrs", "/nix/store");
  EXPECT_EQ(g.size(), 2u);
}

TEST(GraphFile, JsonErrors) {
  expect_input_error([] { parse_json_graph("[{\"path\": 1}", "g.json", "/nix/store"); }, {"g.json", "not valid JSON"});
  expect_input_error([] { parse_json_graph("[{\"path\": \"" + sp("a") + "\"}]", "g.json", "/nix/store"); },
                     {"g.json", sp("a"), "references"});
  expect_input_error(
      [] { parse_json_graph("[{\"path\": \"" + sp("a") + "\", \"references\": [], \"narSize\": -1}]", "g.json", "/nix/store"); },
      {"narSize"});
  expect_input_error([] { parse_json_graph("{\"a\": 1}", "g.json", "/nix/store"); }, {"g.json", "no array"});
  expect_input_error([] { parse_json_graph("3", "g.json", "/nix/store"); }, {"g.json"});
}

TEST(GraphFile, LoadsByKind) {
  TempDir dir("closure-test");
  std::string reg = sp("a") + "\n" + hash_b32 + "\n120\n\n1\n" + sp("a") + "\n";
  make_dirs(dir.path() + "/info");
  write_file(dir.path() + "/info/registration", reg);
  write_file(dir.path() + "/info/store-paths", sp("a") + "\n");
  write_file(dir.path() + "/graph", reg);
  write_file(dir.path() + "/graph.json", "  \n[{\"path\":\"" + sp("a") + "\",\"references\":[]}]");

  EXPECT_EQ(load_graph_file(dir.path() + "/info", "/nix/store").find(sp("a"))->nar_size, 120u);
  EXPECT_EQ(load_graph_file(dir.path() + "/graph", "/nix/store").find(sp("a"))->references, Strings{sp("a")});
  EXPECT_EQ(load_graph_file(dir.path() + "/graph.json", "/nix/store").find(sp("a"))->references, Strings{});
  expect_input_error([&] { load_graph_file(dir.path() + "/missing", "/nix/store"); }, {"missing", "No such file"});

  write_file(dir.path() + "/info/store-paths", sp("a") + "\n" + sp("b") + "\n");
  expect_input_error([&] { load_graph_file(dir.path() + "/info", "/nix/store"); }, {"store-paths:2", sp("b")});
  write_file(dir.path() + "/info/store-paths", "");
  expect_input_error([&] { load_graph_file(dir.path() + "/info", "/nix/store"); }, {sp("a"), "not listed"});
  ::unlink((dir.path() + "/info/registration").c_str());
  expect_input_error([&] { load_graph_file(dir.path() + "/info", "/nix/store"); }, {"no file registration"});
}

} // namespace
} // namespace strata::closure
