#include "image/digest.h"
#include "image/nix/base32.h"
#include "image/nix/nix_db.h"
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

std::string fake_store_path(const std::string& name, const std::string& store_dir = "/nix/store") {
  Hasher h;
  h.update(name);
  return store_dir + "/" + base32_encode(h.finish().substr(0, 20)) + "-" + name;
}

PathRegistration reg(const std::string& name, std::vector<std::string> refs = {}, std::string deriver = "") {
  Hasher h;
  h.update("nar of " + name);
  PathRegistration r;
  r.path = fake_store_path(name);
  r.nar_hash = h.finish();
  r.nar_size = 1000 + name.size() * 8;
  r.references = std::move(refs);
  r.deriver = std::move(deriver);
  r.registration_time = 1700000000;
  return r;
}

// glibc <- coreutils <- hello; hello also references itself; an unrelated leaf.
std::vector<PathRegistration> sample() {
  auto glibc = reg("glibc-2.37");
  auto coreutils = reg("coreutils-9.1", {glibc.path});
  auto hello = reg("hello-2.12", {coreutils.path, glibc.path}, fake_store_path("hello-2.12.drv"));
  hello.references.push_back(hello.path);
  auto leaf = reg("leaf");
  return {hello, leaf, coreutils, glibc};
}

std::string sql(const std::string& db, const std::string& query) {
  return run("sqlite3 -batch " + quote(db) + " " + quote(query));
}

TEST(NixSqlite, SameInputsGiveIdenticalBytesWhateverTheOrder) {
  TempDir a("strata-nixdb-a"), b("strata-nixdb-b");
  auto paths = sample();
  write_nix_sqlite(a.path() + "/db.sqlite", paths);
  std::reverse(paths.begin(), paths.end());
  std::reverse(paths[0].references.begin(), paths[0].references.end());
  ::umask(077);
  write_nix_sqlite(b.path() + "/db.sqlite", paths);
  ::umask(022);
  std::string bytes_a = read_file(a.path() + "/db.sqlite");
  EXPECT_GT(bytes_a.size(), 4096u);
  EXPECT_EQ(bytes_a, read_file(b.path() + "/db.sqlite"));
  EXPECT_FALSE(path_exists(a.path() + "/db.sqlite-journal"));
  struct stat st;
  ASSERT_EQ(::stat((b.path() + "/db.sqlite").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  // A different registration time changes the bytes: the time is really recorded.
  paths[0].registration_time += 1;
  write_nix_sqlite(a.path() + "/other.sqlite", paths);
  EXPECT_NE(bytes_a, read_file(a.path() + "/other.sqlite"));
}

TEST(NixSqlite, RecordsPathsAsNixDoes) {
  TempDir dir("strata-nixdb");
  std::string db = dir.path() + "/db.sqlite";
  auto paths = sample();
  write_nix_sqlite(db, paths);
  const auto& hello = paths[0];
  EXPECT_EQ(trim(sql(db, "select hash, registrationTime, deriver, narSize, ultimate is null, sigs is null, ca is null "
                         "from ValidPaths where path = '" +
                             hello.path + "'")),
            "sha256:" + to_hex(hello.nar_hash) + "|1700000000|" + hello.deriver + "|" + std::to_string(hello.nar_size) +
                "|1|1|1");
  EXPECT_EQ(trim(sql(db, "select count(*) from ValidPaths where deriver is null")), "3");
  // Ids in path order.
  std::vector<std::string> sorted;
  for (auto& p : paths) sorted.push_back(p.path);
  std::sort(sorted.begin(), sorted.end());
  std::string expected;
  for (size_t i = 0; i < sorted.size(); ++i) expected += std::to_string(i + 1) + "|" + sorted[i] + "\n";
  EXPECT_EQ(sql(db, "select id, path from ValidPaths order by id"), expected);
  std::string refs = sql(db, "select r.path from Refs join ValidPaths p on p.id = referrer "
                             "join ValidPaths r on r.id = reference where p.path = '" +
                                 hello.path + "' order by r.path");
  std::vector<std::string> hello_refs = hello.references;
  std::sort(hello_refs.begin(), hello_refs.end());
  std::string expected_refs;
  for (auto& r : hello_refs) expected_refs += r + "\n";
  EXPECT_EQ(refs, expected_refs);
  EXPECT_EQ(trim(sql(db, "select count(*) from Refs")), "4");
  EXPECT_EQ(trim(sql(db, "pragma journal_mode")), "delete");
  EXPECT_EQ(trim(sql(db, "pragma page_size")), "4096");
  EXPECT_EQ(trim(sql(db, "pragma freelist_count")), "0");
  EXPECT_EQ(trim(sql(db, "pragma integrity_check")), "ok");
  EXPECT_EQ(trim(sql(db, "pragma foreign_key_check")), "");
}

TEST(NixSqlite, SchemaMatchesTheOneNixCreates) {
  test::NixEnvironment env;
  TempDir root("strata-nixdb-nixroot"), ours("strata-nixdb-ours"), src("strata-nixdb-src");
  write_file(src.path() + "/f", "x");
  run("nix-store --store " + quote("local?root=" + root.path()) + " --add " + quote(src.path() + "/f") + " >/dev/null");
  std::string nix_db = root.path() + "/nix/var/nix/db/db.sqlite";
  write_nix_sqlite(ours.path() + "/db.sqlite", sample());
  const std::string objects = "select type, name, tbl_name from sqlite_master order by type, name";
  EXPECT_EQ(sql(ours.path() + "/db.sqlite", objects), sql(nix_db, objects));
  for (const char* table : {"ValidPaths", "Refs", "DerivationOutputs"}) {
    std::string q = std::string("pragma table_info(") + table + ")";
    EXPECT_EQ(sql(ours.path() + "/db.sqlite", q), sql(nix_db, q)) << table;
    std::string fk = std::string("pragma foreign_key_list(") + table + ")";
    EXPECT_EQ(sql(ours.path() + "/db.sqlite", fk), sql(nix_db, fk)) << table;
  }
  for (const char* index : {"IndexReferrer", "IndexReference", "IndexDerivationOutputs"}) {
    std::string q = std::string("pragma index_info(") + index + ")";
    EXPECT_EQ(sql(ours.path() + "/db.sqlite", q), sql(nix_db, q)) << index;
  }
  EXPECT_EQ(read_file(root.path() + "/nix/var/nix/db/schema"), std::to_string(nix_schema_version));
}

TEST(NixSqlite, RejectsInconsistentInput) {
  TempDir dir("strata-nixdb");
  auto paths = sample();
  auto dup = paths;
  dup.push_back(paths[1]);
  EXPECT_THROW(write_nix_sqlite(dir.path() + "/1", dup), InputError);
  auto dangling = paths;
  dangling[1].references.push_back(fake_store_path("not-registered"));
  try {
    write_nix_sqlite(dir.path() + "/2", dangling);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not-registered"), std::string::npos) << e.what();
  }
  auto short_hash = paths;
  short_hash[0].nar_hash = "abc";
  EXPECT_THROW(write_nix_sqlite(dir.path() + "/3", short_hash), InputError);
  for (const char* f : {"/1", "/2", "/3"}) EXPECT_FALSE(path_exists(dir.path() + f));
}

class NixStateTest : public ::testing::Test {
protected:
  std::string state(const std::string& rel) { return root_.path() + "/nix/var/nix/" + rel; }
  TempDir root_{"strata-nixstate"};
};

TEST_F(NixStateTest, WritesDbSchemaDirsAndGcRoots) {
  auto paths = sample();
  ::umask(077);
  write_nix_state(root_.path(), paths, NixStateOptions{"/nix/store", {paths[0].path, paths[1].path}});
  ::umask(022);
  EXPECT_EQ(read_file(state("db/schema")), "10");
  EXPECT_TRUE(path_exists(state("db/db.sqlite")));
  for (const char* dir : {"db", "profiles/per-user", "gcroots/per-user", "gcroots/docker", "temproots"}) {
    struct stat st;
    ASSERT_EQ(::lstat(state(dir).c_str(), &st), 0) << dir;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << dir;
    EXPECT_EQ(st.st_mode & 07777, 0755u) << dir; // not the umask's 0700
  }
  EXPECT_TRUE(is_directory(root_.path() + "/nix/store/.links"));
  char target[4096];
  ssize_t n = ::readlink(state("gcroots/profiles").c_str(), target, sizeof target);
  EXPECT_EQ(std::string(target, n > 0 ? n : 0), "/nix/var/nix/profiles");
  for (const auto* p : {&paths[0], &paths[1]}) {
    std::string link = state("gcroots/docker/") + basename_of(p->path);
    n = ::readlink(link.c_str(), target, sizeof target);
    EXPECT_EQ(std::string(target, n > 0 ? n : 0), p->path);
  }
  // Nothing but the db itself is left in the db dir or beside it.
  EXPECT_EQ(run("ls -A " + quote(state("db"))), "db.sqlite\nschema\n");
  EXPECT_EQ(run("ls -A " + quote(state(""))), "db\ngcroots\nprofiles\ntemproots\n");
}

TEST_F(NixStateTest, ReplacesAnEarlierDb) {
  auto paths = sample();
  write_nix_state(root_.path(), {paths[1]}, NixStateOptions{"/nix/store", {paths[1].path}});
  std::string first = read_file(state("db/db.sqlite"));
  write_nix_state(root_.path(), paths, NixStateOptions{"/nix/store", {paths[1].path}});
  EXPECT_NE(read_file(state("db/db.sqlite")), first);
  EXPECT_EQ(trim(sql(state("db/db.sqlite"), "select count(*) from ValidPaths")), "4");
  EXPECT_EQ(run("ls -A " + quote(state(""))), "db\ngcroots\nprofiles\ntemproots\n");
}

TEST_F(NixStateTest, BadInputWritesNothing) {
  auto paths = sample();
  auto outside = paths;
  outside[1].path = "/elsewhere/" + basename_of(outside[1].path);
  EXPECT_THROW(write_nix_state(root_.path(), outside, {}), InputError);
  EXPECT_THROW(write_nix_state(root_.path(), paths, NixStateOptions{"/nix/store", {fake_store_path("absent")}}),
               InputError);
  EXPECT_THROW(write_nix_state(root_.path(), paths, NixStateOptions{"/nix/store/", {}}), InputError);
  auto dangling = paths;
  dangling[0].references.push_back(fake_store_path("absent"));
  EXPECT_THROW(write_nix_state(root_.path(), dangling, {}), InputError);
  EXPECT_EQ(run("ls -A " + quote(root_.path()) + " | wc -l"), "0\n");
  EXPECT_THROW(write_nix_state(root_.path() + "/missing", paths, {}), InputError);
}

} // namespace
} // namespace strata::nix
