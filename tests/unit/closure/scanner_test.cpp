#include "image/closure/scanner.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"
#include "test_paths.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <unistd.h>

namespace strata::closure {
namespace {

using test::fake_hash;
using test::sp;
using Strings = std::vector<std::string>;

Strings sorted(Strings v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(HashCandidates, FindsByHashPart) {
  HashCandidates c;
  for (int i = 0; i < 1000; ++i) c.add(sp("p" + std::to_string(i)), "/nix/store");
  EXPECT_EQ(c.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    std::string h = fake_hash("p" + std::to_string(i));
    size_t index = c.find(h.data());
    ASSERT_NE(index, HashCandidates::npos);
    EXPECT_EQ(c.path(index), sp("p" + std::to_string(i)));
  }
  std::string absent = fake_hash("absent");
  EXPECT_EQ(c.find(absent.data()), HashCandidates::npos);
  // A second path with the same hash part is the same candidate.
  EXPECT_EQ(c.add("/nix/store/" + fake_hash("p1") + "-other", "/nix/store"), c.find(fake_hash("p1").data()));
  EXPECT_EQ(c.size(), 1000u);
}

TEST(ReferenceScanner, FindsHashesInBytes) {
  HashCandidates c;
  c.add(sp("a"), "/nix/store");
  c.add(sp("b"), "/nix/store");
  ReferenceScanner s(c);
  s.scan("#!" + sp("a") + "/bin/sh\nexec x");
  EXPECT_EQ(s.found_paths(), Strings{sp("a")});
  s.clear();
  // The hash alone is enough; the store dir and name need not follow.
  s.scan("xx" + fake_hash("b"));
  EXPECT_EQ(s.found_paths(), Strings{sp("b")});
  s.clear();
  // A hash inside a longer base32 run still matches (Nix does not require boundaries).
  s.scan("0000" + fake_hash("a") + "1111");
  EXPECT_EQ(s.found_paths(), Strings{sp("a")});
  s.clear();
  std::string broken = fake_hash("a");
  broken[10] = 'e';
  s.scan(broken);
  EXPECT_TRUE(s.found_paths().empty());
}

TEST(ReferenceScanner, MatchesSpanningEveryPieceBoundary) {
  HashCandidates c;
  c.add(sp("a"), "/nix/store");
  std::string stream = std::string(45, '0') + fake_hash("a") + std::string(45, 'x');
  for (size_t piece = 1; piece <= stream.size(); ++piece) {
    ReferenceScanner s(c);
    for (size_t pos = 0; pos < stream.size(); pos += piece)
      s.feed(stream.data() + pos, std::min(piece, stream.size() - pos));
    EXPECT_EQ(s.found_paths(), Strings{sp("a")}) << "piece size " << piece;
  }
}

TEST(ReferenceScanner, NoMatchAcrossSeparateStreams) {
  HashCandidates c;
  c.add(sp("a"), "/nix/store");
  std::string h = fake_hash("a");
  ReferenceScanner s(c);
  s.feed(h.data(), 16);
  s.end_stream();
  s.feed(h.data() + 16, 16);
  s.end_stream();
  EXPECT_TRUE(s.found_paths().empty());
}

// Random data dense in base32 runs, random hashes planted, random piece sizes: the scanner
// must find exactly what a plain substring search finds.
TEST(ReferenceScanner, AgreesWithNaiveSearchOnRandomStreams) {
  std::mt19937_64 rng(42);
  HashCandidates c;
  Strings hashes;
  for (int i = 0; i < 200; ++i) {
    hashes.push_back(fake_hash("r" + std::to_string(i)));
    c.add("/nix/store/" + hashes.back() + "-r" + std::to_string(i), "/nix/store");
  }
  for (int round = 0; round < 200; ++round) {
    std::string data;
    size_t length = rng() % 5000;
    while (data.size() < length) {
      switch (rng() % 4) {
      case 0: data += static_cast<char>(rng()); break;                          // any byte
      case 1: data += nix_base32_alphabet[rng() % 32]; break;                     // base32 noise
      case 2: data += std::string(rng() % 40, nix_base32_alphabet[rng() % 32]); break;
      case 3:
        if (rng() % 8 == 0) data += hashes[rng() % hashes.size()].substr(0, 32 - rng() % 3); // sometimes cut short
        break;
      }
    }
    std::set<std::string> expected;
    for (size_t i = 0; i < hashes.size(); ++i)
      if (data.find(hashes[i]) != std::string::npos) expected.insert("/nix/store/" + hashes[i] + "-r" + std::to_string(i));
    ReferenceScanner s(c);
    for (size_t pos = 0; pos < data.size();) {
      size_t piece = 1 + rng() % 100;
      piece = std::min(piece, data.size() - pos);
      s.feed(data.data() + pos, piece);
      pos += piece;
    }
    auto found = s.found_paths();
    EXPECT_EQ(std::set<std::string>(found.begin(), found.end()), expected) << "round " << round;
  }
}

// A fake store on disk under a root, as Nix's local?root= stores are.
class FakeStore : public ::testing::Test {
protected:
  TempDir root{"closure-store"};
  StoreLocation location = StoreLocation::with_root("/nix/store", root.path());

  void SetUp() override { make_dirs(location.disk_dir()); }
  std::string disk(const std::string& store_path) { return location.on_disk(store_path); }
  void file(const std::string& store_path, const std::string& contents) { write_file(disk(store_path), contents); }
};

TEST_F(FakeStore, ScansContentsSymlinkTargetsAndNames) {
  // app: a dir with a script naming lib, a symlink into tool, and a file whose *name*
  // holds data's hash. lib references itself. tool and data are plain.
  std::string app = sp("app"), lib = sp("lib"), tool = sp("tool"), data = sp("data"), unused = sp("unused");
  make_dirs(disk(app) + "/bin");
  make_dirs(disk(app) + "/share");
  write_file(disk(app) + "/bin/run", "#!/bin/sh\nexec " + lib + "/bin/x \"$@\"\n");
  ASSERT_EQ(::symlink((tool + "/bin/tool").c_str(), (disk(app) + "/bin/tool").c_str()), 0);
  write_file(disk(app) + "/share/" + fake_hash("data") + ".cache", "");
  make_dirs(disk(lib) + "/bin");
  write_file(disk(lib) + "/bin/x", "rpath=" + lib + "/lib");
  file(tool, "binary\x01\x02");
  file(data, "d");
  file(unused, "u");

  ClosureGraph g = scan_closure(location, {app});
  EXPECT_EQ(g.store_dir(), "/nix/store");
  EXPECT_EQ(g.size(), 4u);
  EXPECT_EQ(g.find(app)->references, sorted({lib, tool, data}));
  EXPECT_EQ(g.find(lib)->references, Strings{lib});
  EXPECT_TRUE(g.find(tool)->references.empty());
  EXPECT_FALSE(g.contains(unused));
  EXPECT_EQ(g.roots(), Strings{app});
}

TEST_F(FakeStore, FindsReferencesOfTreesOutsideTheStore) {
  std::string a = sp("a"), b = sp("b");
  file(a, "a");
  file(b, "b");
  TempDir contents("closure-contents");
  make_dirs(contents.path() + "/etc");
  write_file(contents.path() + "/etc/conf", "path=" + b + "\n");
  ASSERT_EQ(::symlink((a + "/bin/a").c_str(), (contents.path() + "/a").c_str()), 0);
  EXPECT_EQ(find_store_references(contents.path(), location), sorted({a, b}));
  EXPECT_EQ(find_store_references(contents.path() + "/etc/conf", location), Strings{b});
  StoreScanner scanner(location);
  EXPECT_EQ(scanner.references_of_bytes(R"({"Cmd":[")" + a + R"(/bin/a"]})"), Strings{a});
}

TEST(GraphReferences, FindsGraphPathsNamedInATree) {
  ClosureGraph g({{sp("a"), {}}, {sp("b"), {sp("a")}}}, "/nix/store", "g");
  TempDir contents("closure-contents");
  write_file(contents.path() + "/x", "uses " + sp("b") + "/bin and " + sp("not-in-graph"));
  EXPECT_EQ(find_graph_references(contents.path(), g), Strings{sp("b")});
}

TEST_F(FakeStore, SkipsLeftoverLockFiles) {
  std::string a = sp("a");
  file(a, "a");
  write_file(disk(sp("gone")) + ".lock", "");
  StoreScanner scanner(location);
  EXPECT_EQ(scanner.candidates().size(), 1u);
}

TEST_F(FakeStore, BadRootsAreInputErrors) {
  file(sp("a"), "a");
  EXPECT_THROW(scan_closure(location, {sp("missing")}), InputError);
  EXPECT_THROW(scan_closure(location, {"/usr/bin"}), InputError);
  EXPECT_THROW(scan_closure(StoreLocation::with_root("/nix/store", root.path() + "/nowhere"), {sp("a")}), InputError);
  EXPECT_THROW(find_store_references(root.path() + "/missing", location), InputError);
}

TEST_F(FakeStore, LargeFilesAreStreamed) {
  // A reference placed across the scanner's 256 KiB read boundary, in a 1 MiB file.
  std::string a = sp("a"), big = sp("big");
  file(a, "a");
  std::string contents(1 << 20, '\0');
  std::string ref = fake_hash("a");
  contents.replace(256 * 1024 - 10, ref.size(), ref);
  file(big, contents);
  EXPECT_EQ(scan_closure(location, {big}).find(big)->references, Strings{a});
}

} // namespace
} // namespace strata::closure
