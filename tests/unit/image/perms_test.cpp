#include "image/perms.h"

#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>

using namespace strata;
using nlohmann::json;

namespace {

std::vector<PermRule> parse(const std::string& text) {
  return parse_perms(json::parse(text), "spec", [](const std::string& s) { return s; });
}

LayerEntry entry(const std::string& path, uint32_t mode, EntryType type = EntryType::File) {
  LayerEntry e;
  e.path = path;
  e.mode = mode;
  e.type = type;
  return e;
}

} // namespace

TEST(Perms, SetsModeAndOwnerOnTheEntriesOfItsPathThatMatch) {
  TempDir pkg("perms-test");
  make_dirs(pkg.path() + "/bin");
  write_file(pkg.path() + "/bin/sudo", "x");
  write_file(pkg.path() + "/bin/ls", "x");
  auto rules = parse(R"([{"path": ")" + pkg.path() + R"(", "regex": "/bin/sudo$", "mode": "4755", "uid": 0,
                         "gid": 7, "gname": "wheel"}])");
  std::vector<LayerEntry> seen;
  EntryVisitor visit = apply_perms(rules, [&](LayerEntry& e) { seen.push_back(e); });
  for (LayerEntry e : {entry("bin/sudo", 0555), entry("bin/ls", 0555), entry("etc/bin/sudo", 0644)}) visit(e);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].mode, 04755u);
  EXPECT_EQ(seen[0].owner.gid, 7u);
  EXPECT_EQ(seen[0].owner.gname, "wheel");
  EXPECT_EQ(seen[1].mode, 0555u);   // no match
  EXPECT_EQ(seen[2].mode, 0644u);   // matches the regex, but the package has no etc/bin/sudo
}

// nix2container matches `regex` against the file's source path: the anchored forms its
// perms producers write (an exact path, a subtree) select the same files here.
TEST(Perms, MatchesTheSourcePathAsNix2containerDoes) {
  TempDir pkg("perms-test");
  make_dirs(pkg.path() + "/etc/ssl");
  write_file(pkg.path() + "/etc/passwd", "x");
  write_file(pkg.path() + "/etc/ssl/cert", "x");
  write_file(pkg.path() + "/etc/passwd2", "x");
  json given = json::array({{{"path", pkg.path()}, {"regex", "^" + pkg.path() + "/etc/passwd$"}, {"mode", "0600"}},
                            {{"path", pkg.path()}, {"regex", "^" + pkg.path() + "/etc/ssl(/|$)"}, {"mode", "0700"}}});
  auto rules = parse(given.dump());
  std::map<std::string, uint32_t> modes;
  EntryVisitor visit = apply_perms(rules, [&](LayerEntry& e) { modes[e.path] = e.mode; });
  for (LayerEntry e : {entry("etc/passwd", 0644), entry("etc/passwd2", 0644), entry("etc/ssl", 0755, EntryType::Directory),
                       entry("etc/ssl/cert", 0644)})
    visit(e);
  EXPECT_EQ(modes["etc/passwd"], 0600u);
  EXPECT_EQ(modes["etc/passwd2"], 0644u);
  EXPECT_EQ(modes["etc/ssl"], 0700u);
  EXPECT_EQ(modes["etc/ssl/cert"], 0700u);
}

// orMode adds bits after mode set them, rule after rule in list order (nix2container's
// `{ mode = "0444"; orMode = "0200"; }` gives 0644).
TEST(Perms, OrModeAddsBitsAfterMode) {
  TempDir pkg("perms-test");
  make_dirs(pkg.path() + "/bin");
  write_file(pkg.path() + "/bin/tool", "x");
  write_file(pkg.path() + "/README", "x");
  auto rules = parse(R"([{"path": ")" + pkg.path() + R"(", "regex": "README$", "mode": "0444", "orMode": "0200"},
                         {"path": ")" + pkg.path() + R"(", "regex": "/bin/", "orMode": "4000"}])");
  std::map<std::string, uint32_t> modes;
  EntryVisitor visit = apply_perms(rules, [&](LayerEntry& e) { modes[e.path] = e.mode; });
  for (LayerEntry e : {entry("README", 0555), entry("bin/tool", 0555)}) visit(e);
  EXPECT_EQ(modes["README"], 0644u);
  EXPECT_EQ(modes["bin/tool"], 04555u);
  EXPECT_THROW(parse(R"([{"path": "/x", "regex": ".*", "orMode": "0o200"}])"), InputError);
}

TEST(Perms, BadRulesAreInputErrorsNamingTheRule) {
  EXPECT_THROW(parse(R"({"path": "/x"})"), InputError);
  EXPECT_THROW(parse(R"([{"regex": ".*"}])"), InputError);
  EXPECT_THROW(parse(R"([{"path": "/x"}])"), InputError);
  EXPECT_THROW(parse(R"([{"path": "/x", "regex": "("}])"), InputError);
  EXPECT_THROW(parse(R"([{"path": "/x", "regex": ".*", "mode": "9755"}])"), InputError);
  EXPECT_THROW(parse(R"([{"path": "/x", "regex": ".*", "mode": "17777"}])"), InputError);
  EXPECT_THROW(parse(R"([{"path": "/x", "regex": ".*", "uid": -1}])"), InputError);
  EXPECT_THROW(parse(R"([{"path": "/x", "regex": ".*", "owner": 1}])"), InputError);
  try {
    check_perm_paths(parse(R"([{"path": "/x", "regex": ".*"}])"), {"/y"}, "spec s.json");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("perms[0]"), std::string::npos) << e.what();
  }
}
