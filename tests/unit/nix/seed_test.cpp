#include "image/closure/graph_file.h"
#include "image/digest.h"
#include "image/nix/nar_hash_text.h"
#include "image/nix/seed.h"
#include "nix_tool.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sys/stat.h>

namespace strata::nix {
namespace {

using test::quote;
using test::run;
using test::trim;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A store made by nix-bin under a temp root: a file, a directory tree and a symlink,
// added with `nix-store --add`; strata's image root gets copies of them.
class SeedTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string src = src_.path();
    write_file(src + "/greeting", "hello\n");
    make_dirs(src + "/tree/bin");
    make_dirs(src + "/tree/share/a b");
    write_file(src + "/tree/bin/run", "#!/bin/sh\n");
    ::chmod((src + "/tree/bin/run").c_str(), 0755);
    write_file(src + "/tree/share/a b/ü", "utf-8");
    ASSERT_EQ(::symlink("/nix/store/somewhere", (src + "/link").c_str()), 0);
    for (const char* name : {"greeting", "tree", "link"})
      added_.push_back(trim(run("nix-store --store " + quote(nix_store()) + " --add " + quote(src + "/" + name))));
    make_dirs(image_.path() + "/nix/store");
    for (const auto& p : added_) run("cp -a " + quote(host_.path() + p) + " " + quote(image_.path() + "/nix/store/"));
  }

  std::string nix_store() const { return "local?root=" + host_.path(); }
  std::string image_store() const { return "local?root=" + image_.path(); }
  std::string image_nix(const std::string& args) {
    return run("nix-store --store " + quote(image_store()) + " " + args);
  }

  // tree -> greeting, link; greeting -> itself.
  std::vector<closure::PathNode> nodes() const {
    return {closure::PathNode{added_[1], {added_[0], added_[2]}, "", 0, ""},
            closure::PathNode{added_[0], {added_[0]}, "", 0, ""}, closure::PathNode{added_[2], {}, "", 0, ""}};
  }
  closure::ClosureGraph closure() const { return graph(nodes()); }
  static closure::ClosureGraph graph(std::vector<closure::PathNode> nodes) {
    return closure::ClosureGraph(std::move(nodes), "/nix/store", "test graph");
  }

  SeedOptions options() const {
    SeedOptions o;
    o.store = closure::StoreLocation::with_root("/nix/store", host_.path());
    o.registration_time = 1234567;
    o.gc_roots = {added_[1]};
    return o;
  }

  test::NixEnvironment env_;
  TempDir src_{"strata-seed-src"}, host_{"strata-seed-host"}, image_{"strata-seed-image"};
  std::vector<std::string> added_;
};

TEST_F(SeedTest, NixStoreVerifiesTheSeededDb) {
  seed_nix_db(image_.path(), closure(), options());
  std::string db = read_file(image_.path() + "/nix/var/nix/db/db.sqlite");
  image_nix("--verify --check-contents 2>&1");
  for (const auto& p : added_) {
    SCOPED_TRACE(p);
    std::string host_q = "nix-store --store " + quote(nix_store()) + " -q ";
    EXPECT_EQ(image_nix("-q --hash " + p), run(host_q + "--hash " + p));
    EXPECT_EQ(image_nix("-q --size " + p), run(host_q + "--size " + p));
  }
  EXPECT_EQ(lines_of(image_nix("-q --references " + added_[1])), lines_of(added_[0] + "\n" + added_[2] + "\n"));
  EXPECT_EQ(lines_of(image_nix("-q --requisites " + added_[1])),
            lines_of(added_[0] + "\n" + added_[1] + "\n" + added_[2] + "\n"));
  EXPECT_EQ(lines_of(image_nix("-q --referrers " + added_[0])), lines_of(added_[0] + "\n" + added_[1] + "\n"));
  EXPECT_EQ(trim(image_nix("--gc --print-roots | grep -c gcroots/docker")), "1");
  // Seeding a second root from the same inputs gives the same db bytes.
  TempDir again("strata-seed-again");
  seed_nix_db(again.path(), closure(), options());
  EXPECT_EQ(read_file(again.path() + "/nix/var/nix/db/db.sqlite"), db);
}

TEST_F(SeedTest, MissingPathAndHashOrSizeMismatchWriteNothing) {
  auto missing = nodes();
  std::string gone = added_[2].substr(0, added_[2].size() - 4) + "gone";
  missing[0].references.push_back(gone);
  missing.push_back(closure::PathNode{gone, {}, "", 0, ""});
  try {
    seed_nix_db(image_.path(), graph(missing), options());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing on disk"), std::string::npos) << e.what();
  }
  auto wrong_hash = nodes();
  wrong_hash[1].nar_hash = "sha256:" + std::string(52, '1');
  EXPECT_THROW(seed_nix_db(image_.path(), graph(wrong_hash), options()), InputError);
  auto bad_hash = nodes();
  bad_hash[1].nar_hash = "md5:abc";
  EXPECT_THROW(seed_nix_db(image_.path(), graph(bad_hash), options()), InputError);
  auto wrong_size = nodes();
  wrong_size[1].nar_size = 1;
  EXPECT_THROW(seed_nix_db(image_.path(), graph(wrong_size), options()), InputError);
  SeedOptions other_store = options();
  other_store.store = closure::StoreLocation::with_root("/gnu/store", host_.path());
  EXPECT_THROW(seed_nix_db(image_.path(), closure(), other_store), InputError);
  EXPECT_FALSE(path_exists(image_.path() + "/nix/var"));
}

TEST_F(SeedTest, HashesAndSizesFromNixDumpDbAgreeWithTheDisk) {
  std::string dump =
      run("nix-store --store " + quote(nix_store()) + " --dump-db " + added_[0] + " " + added_[1] + " " + added_[2]);
  closure::ClosureGraph from_nix = closure::parse_registration_text(dump, "dump-db", "/nix/store");
  ASSERT_EQ(from_nix.size(), 3u);
  for (const auto& node : from_nix.nodes()) EXPECT_FALSE(node.nar_hash.empty()) << node.path;
  auto regs = register_closure(from_nix, options());
  for (size_t i = 0; i < regs.size(); ++i) {
    std::string hash = trim(run("nix-store --store " + quote(nix_store()) + " -q --hash " + regs[i].path));
    EXPECT_EQ(sha256_base32_text(regs[i].nar_hash), hash);
    EXPECT_EQ(regs[i].nar_size, from_nix.nodes()[i].nar_size);
  }
}

} // namespace
} // namespace strata::nix
