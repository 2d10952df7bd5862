#include "image/closure/store_path.h"
#include "sys/error.h"
#include "sys/temp.h"

#include <cstdlib>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::closure {
namespace {

const std::string hash = "0270xr8001sp245x2qc78hqkd8ibms1g";

TEST(StorePath, ParsesHashAndName) {
  auto p = try_parse_store_path("/nix/store/" + hash + "-hello-2.1", "/nix/store");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, "/nix/store/" + hash + "-hello-2.1");
  EXPECT_EQ(p->hash, hash);
  EXPECT_EQ(p->name, "hello-2.1");
  EXPECT_EQ(hash_part_of(p->path, "/nix/store"), hash);
}

TEST(StorePath, AcceptsEveryNameCharacterNixAccepts) {
  EXPECT_TRUE(is_store_path("/nix/store/" + hash + "-aZ09+-._?=", "/nix/store"));
  EXPECT_TRUE(is_store_path("/nix/store/" + hash + "-" + std::string(211, 'x'), "/nix/store"));
}

TEST(StorePath, RejectsMalformedPaths) {
  const std::string dir = "/nix/store";
  EXPECT_FALSE(is_store_path("/nix/store/" + hash, dir));                 // no name
  EXPECT_FALSE(is_store_path("/nix/store/" + hash + "-", dir));           // empty name
  EXPECT_FALSE(is_store_path("/nix/store/" + hash + "-.hidden", dir));    // leading dot
  EXPECT_FALSE(is_store_path("/nix/store/" + hash + "-a b", dir));        // space
  EXPECT_FALSE(is_store_path("/nix/store/" + hash + "-" + std::string(212, 'x'), dir));
  std::string bad_hash = hash;
  bad_hash[3] = 'e'; // e, o, u, t are not in Nix's base32
  EXPECT_FALSE(is_store_path("/nix/store/" + bad_hash + "-x", dir));
  EXPECT_FALSE(is_store_path("/nix/store/" + hash.substr(1) + "-x", dir)); // 31 chars
  EXPECT_FALSE(is_store_path("/nix/store/" + hash + "-x/bin", dir));       // inside, not the path
  EXPECT_FALSE(is_store_path("/other/" + hash + "-x", dir));
  EXPECT_FALSE(is_store_path("/nix/storex/" + hash + "-x", dir));
}

TEST(StorePath, Base32AlphabetIsNixs) {
  int count = 0;
  for (int c = 0; c < 256; ++c) count += is_nix_base32_char(static_cast<char>(c));
  EXPECT_EQ(count, 32);
  for (char c : std::string("eotuA-/")) EXPECT_FALSE(is_nix_base32_char(c)) << c;
}

TEST(StorePath, ParseErrorsSayWhatIsWrongAndWhere) {
  try {
    parse_store_path("/usr/bin/x", "/nix/store", "graph.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("graph.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("not in the store dir /nix/store"), std::string::npos);
  }
  EXPECT_THROW(parse_store_path("/nix/store/" + hash + "-x/y", "/nix/store"), InputError);
}

TEST(StorePath, MapsAPathInsideAStorePathToTheStorePath) {
  const std::string dir = "/nix/store";
  EXPECT_EQ(containing_store_path("/nix/store/" + hash + "-foo/bin/x", dir), "/nix/store/" + hash + "-foo");
  EXPECT_EQ(containing_store_path("/nix/store/" + hash + "-foo", dir), "/nix/store/" + hash + "-foo");
  EXPECT_EQ(containing_store_path("/nix/store/" + hash + "-foo/", dir), "/nix/store/" + hash + "-foo");
  EXPECT_FALSE(containing_store_path("/nix/store/.links/x", dir));
  EXPECT_FALSE(containing_store_path("/nix/store", dir));
  EXPECT_FALSE(containing_store_path("/etc/passwd", dir));
}

TEST(StorePath, FollowsLinksOnlyUntilThePathIsInTheStore) {
  TempDir root("store-path-test");
  std::string store = root.path() + "/store", target = store + "/" + hash + "-target",
              link = store + "/" + std::string(32, 's') + "-symlink";
  ASSERT_EQ(::mkdir(store.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  ASSERT_EQ(::symlink(link.c_str(), (root.path() + "/result").c_str()), 0);
  ASSERT_EQ(::symlink(("store/" + std::string(32, 's') + "-symlink/.").c_str(), (root.path() + "/relative").c_str()), 0);
  ASSERT_EQ(::symlink(root.path().c_str(), (root.path() + "/outside").c_str()), 0);
  // A store path that is a symlink stays itself; a link to it is followed to it, not past it.
  EXPECT_EQ(follow_links_to_store(link, store, "p"), link);
  EXPECT_EQ(follow_links_to_store(root.path() + "/result", store, "p"), link);
  EXPECT_EQ(follow_links_to_store(root.path() + "/relative", store, "p"), link);
  EXPECT_EQ(follow_links_to_store(store + "/../store/" + hash + "-target", store, "p"), target);
  // Outside the store: every link resolved.
  char* real = ::realpath(root.path().c_str(), nullptr);
  EXPECT_EQ(follow_links_to_store(root.path() + "/outside", store, "p"), std::string(real));
  std::free(real);
  EXPECT_THROW(follow_links_to_store(store + "/" + std::string(32, 'z') + "-missing", store, "p"), InputError);
}

TEST(StorePath, StoreDirIsConfigurable) {
  EXPECT_TRUE(is_store_path("/gnu/store/" + hash + "-guile", "/gnu/store"));
  EXPECT_FALSE(is_store_path("/nix/store/" + hash + "-guile", "/gnu/store"));
  EXPECT_EQ(normalize_store_dir("/gnu/store//"), "/gnu/store");
  EXPECT_THROW(normalize_store_dir("nix/store"), InputError);
  EXPECT_THROW(normalize_store_dir("/"), InputError);
}

TEST(StorePath, LocationWithRootReadsFromTheRoot) {
  auto loc = StoreLocation::with_root("/nix/store", "/tmp/r/");
  EXPECT_EQ(loc.store_dir, "/nix/store");
  EXPECT_EQ(loc.disk_dir(), "/tmp/r/nix/store");
  EXPECT_EQ(loc.on_disk("/nix/store/" + hash + "-a/bin"), "/tmp/r/nix/store/" + hash + "-a/bin");
  auto plain = StoreLocation::with_root("/nix/store", "");
  EXPECT_EQ(plain.disk_dir(), "/nix/store");
  EXPECT_EQ(plain.on_disk("/nix/store/" + hash + "-a"), "/nix/store/" + hash + "-a");
}

} // namespace
} // namespace strata::closure
