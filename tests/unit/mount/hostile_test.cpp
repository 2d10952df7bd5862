// The hostile-layer corpus: tars that try to write, link or delete outside the unpack
// target, or are malformed. Each must unpack safely inside the target or fail with an
// InputError naming the problem; a sentinel tree beside the target must stay untouched.
#include "sys/override_stat.h"
#include "mount/rooted_fs.h"
#include "mount/unpack.h"
#include "sys/error.h"
#include "sys/temp.h"
#include "tar_maker.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <map>

using namespace strata;
using namespace strata::mount;
using namespace strata::mount::test;

namespace {

enum class How { LayerDir, Apply };

struct HostileTest : ::testing::TestWithParam<How> {
  TempDir tmp{"hostile"};
  std::string target = tmp.path() + "/target";
  std::string sentinel = tmp.path() + "/sentinel";
  std::map<std::string, std::string> before;

  void SetUp() override {
    make_dirs(target);
    make_dirs(sentinel + "/dir");
    write_file(sentinel + "/secret", "untouched");
    write_file(sentinel + "/dir/inner", "untouched too");
    before = snapshot(tmp.path());
  }
  void TearDown() override {
    EXPECT_EQ(snapshot(tmp.path()), before) << "something outside the target changed";
    // Deep trees outlive PATH_MAX: remove them fd-relatively.
    Fd parent = open_or_fail(tmp.path(), O_RDONLY | O_DIRECTORY);
    remove_tree_at(parent.get(), "target", target);
  }

  // Everything beside the target: names, types, modes, link counts, contents.
  static std::map<std::string, std::string> snapshot(const std::string& root) {
    std::map<std::string, std::string> out;
    std::vector<std::string> todo{""};
    while (!todo.empty()) {
      std::string rel = todo.back();
      todo.pop_back();
      std::string path = rel.empty() ? root : root + "/" + rel;
      DIR* d = ::opendir(path.c_str());
      if (!d) continue;
      while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == ".." || (rel.empty() && name == "target")) continue;
        std::string child = rel.empty() ? name : rel + "/" + name;
        struct stat st = lstat_of(root + "/" + child);
        std::string desc = std::to_string(st.st_mode) + "/" + std::to_string(st.st_nlink) + "/" +
                           std::to_string(st.st_mtim.tv_nsec);
        if (S_ISREG(st.st_mode)) desc += ":" + read_file(root + "/" + child);
        if (S_ISDIR(st.st_mode)) todo.push_back(child);
        out[child] = desc;
      }
      ::closedir(d);
    }
    out["target:mode"] = std::to_string(lstat_of(root + "/target").st_mode);
    return out;
  }

  std::string at(const std::string& p) const { return target + "/" + p; }

  // A layer dir is unpacked into an empty directory: each run gets one.
  void reset_target() {
    Fd fd = open_or_fail(target, O_RDONLY | O_DIRECTORY);
    for (const std::string& name : list_names_at(fd.get(), target)) remove_tree_at(fd.get(), name, target + "/" + name);
  }

  UnpackStats run_bytes(const std::string& bytes, const UnpackOptions& options = {}) {
    if (GetParam() == How::LayerDir) reset_target();
    LayerInput in = bytes_input(bytes, "hostile.tar");
    return GetParam() == How::LayerDir ? unpack_layer_dir(in, target, options) : apply_layer(in, target, options);
  }
  UnpackStats run(const std::vector<Member>& members, const UnpackOptions& options = {}) {
    return run_bytes(make_tar(members), options);
  }
  void expect_refused(const std::vector<Member>& members, const std::string& message) {
    expect_refused_bytes(make_tar(members), message);
  }
  void expect_refused_bytes(const std::string& bytes, const std::string& message) {
    try {
      run_bytes(bytes);
      ADD_FAILURE() << "accepted; expected an error containing: " << message;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("hostile.tar"), std::string::npos) << "names the input: " << e.what();
    }
  }
};

TEST_P(HostileTest, DotDotComponentsAreRefused) {
  expect_refused({tar_file("../escape", "x")}, "tar entry '../escape': a '..' path component is not allowed");
  expect_refused({tar_dir("a"), tar_file("a/../../escape", "x")}, "'a/../../escape'");
  expect_refused({tar_file("ok", "x"), tar_hardlink("h", "../sentinel/secret")}, "'..'");
}

TEST_P(HostileTest, AbsoluteNamesLandInsideTheTarget) {
  run({tar_file("/abs/file", "x"), tar_file(sentinel + "/secret", "pwned")});
  EXPECT_EQ(read_file(at("abs/file")), "x");
  EXPECT_EQ(read_file(at(sentinel.substr(1) + "/secret")), "pwned");
}

TEST_P(HostileTest, FilesWrittenThroughSymlinksStayInside) {
  // Symlinks leading out lead to nothing inside the target: refused.
  expect_refused({tar_symlink("link", sentinel), tar_file("link/secret", "pwned")},
                 "'link' is a symlink that leads to no directory inside the layer");
  expect_refused({tar_symlink("rel", "../sentinel"), tar_file("rel/secret", "pwned")}, "'rel' is a symlink");
  // "../.." from inside the target is the target itself.
  run({tar_symlink("up", "../../../../.."), tar_file("up/sentinel/secret", "inside")});
  EXPECT_EQ(read_file(at("sentinel/secret")), "inside");
  // One leading inside is followed with the target as "/".
  run({tar_dir("real"), tar_symlink("abs", "/real"), tar_symlink("dots", "../../real"), tar_file("abs/x", "1"),
       tar_file("dots/y", "2")});
  EXPECT_EQ(read_file(at("real/x")), "1");
  EXPECT_EQ(read_file(at("real/y")), "2");
}

TEST_P(HostileTest, AnEntryReplacingASymlinkDoesNotFollowIt) {
  run({tar_symlink("s", sentinel + "/secret"), tar_file("s", "mine"), tar_symlink("sd", sentinel + "/dir"),
       tar_dir("sd"), tar_file("sd/inner", "mine too")});
  struct stat st = lstat_of(at("s"));
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(read_file(at("s")), "mine");
  EXPECT_TRUE(S_ISDIR(lstat_of(at("sd")).st_mode));
}

TEST_P(HostileTest, HardlinksCannotReachOutside) {
  expect_refused({tar_hardlink("h", sentinel + "/secret")}, "its target '" + sentinel + "/secret' does not exist");
  expect_refused({tar_symlink("sd", sentinel), tar_hardlink("h", "sd/secret")}, "does not exist");
  expect_refused({tar_symlink("sd", "../sentinel"), tar_hardlink("h", "sd/secret")}, "does not exist");
  // A link to a symlink links the symlink itself, never its target.
  run({tar_symlink("s", sentinel + "/secret"), tar_hardlink("h", "s")});
  EXPECT_TRUE(S_ISLNK(lstat_of(at("h")).st_mode));
}

TEST_P(HostileTest, HardlinksToDirectoriesOrMissingFilesAreRefused) {
  expect_refused({tar_dir("d"), tar_hardlink("h", "d")}, "its target 'd' is a directory");
  expect_refused({tar_hardlink("h", "nowhere")}, "its target 'nowhere' does not exist");
  expect_refused({tar_hardlink("h", "/")}, "points at the layer root");
}

TEST_P(HostileTest, DeviceNodesAreNotCreatedUnlessAsked) {
  UnpackStats s = run({tar_device("dev/sda", 'b', 8, 0), tar_device("dev/mem", 'c', 1, 1)});
  EXPECT_TRUE(S_ISREG(lstat_of(at("dev/sda")).st_mode));
  EXPECT_TRUE(S_ISREG(lstat_of(at("dev/mem")).st_mode));
  EXPECT_EQ(xattr_of(at("dev/mem"), kOverrideStatXattr), "0:0:0666:char-1-1");
  EXPECT_EQ(s.devices_as_files, 2u);
  // Asked, but without CAP_MKNOD: still typed files.
  reset_target();
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  ASSERT_EQ(::chown(target.c_str(), 65534, 65534), 0);
  std::string tar = make_tar({tar_device("dev/kmem", 'c', 1, 2)});
  std::string r = as_unprivileged([&] {
    UnpackOptions o;
    o.create_devices = true;
    LayerInput in = bytes_input(tar, "hostile.tar");
    if (GetParam() == How::LayerDir) unpack_layer_dir(in, target, o);
    else apply_layer(in, target, o);
    return std::string();
  });
  EXPECT_EQ(r, "");
  EXPECT_TRUE(S_ISREG(lstat_of(at("dev/kmem")).st_mode));
  before["target:mode"] = std::to_string(lstat_of(target).st_mode);
  ::chmod(tmp.path().c_str(), 0700);
  before = snapshot(tmp.path());
}

TEST_P(HostileTest, SetuidBitsAreOnlyRecorded) {
  run({tar_file("bin/su", "x", 04755), tar_file("bin/wall", "y", 02755, 0, 5), tar_dir("shared", 03777)});
  EXPECT_EQ(lstat_of(at("bin/su")).st_mode & 07777, 0755u);
  EXPECT_EQ(lstat_of(at("bin/wall")).st_mode & 07777, 0755u);
  EXPECT_EQ(xattr_of(at("bin/su"), kOverrideStatXattr), "0:0:4755:file");
  EXPECT_EQ(xattr_of(at("bin/wall"), kOverrideStatXattr), "0:5:2755:file");
  EXPECT_EQ(lstat_of(at("shared")).st_mode & 07777, 01777u);
}

TEST_P(HostileTest, DuplicateEntriesLaterWins) {
  run({tar_file("a", "first"), tar_dir("a"), tar_file("a/b", "in dir"), tar_file("a", "last"), tar_dir("d"),
       tar_file("d/x", "x"), tar_symlink("d", "a"), tar_symlink("e", "d"), tar_dir("e"), tar_dir("e", 0700),
       tar_file("f", "1", 0600), tar_file("f", "22", 0640)});
  EXPECT_EQ(read_file(at("a")), "last");
  EXPECT_TRUE(S_ISLNK(lstat_of(at("d")).st_mode));
  EXPECT_TRUE(S_ISDIR(lstat_of(at("e")).st_mode));
  EXPECT_EQ(lstat_of(at("e")).st_mode & 0777, 0700u);
  EXPECT_EQ(read_file(at("f")), "22");
  EXPECT_EQ(lstat_of(at("f")).st_mode & 0777, 0640u);
}

TEST_P(HostileTest, AThousandDeepTree) {
  std::vector<Member> members;
  std::string path;
  for (int i = 0; i < 1000; ++i) {
    path += path.empty() ? "d" : "/d";
    members.push_back(tar_dir(path));
  }
  members.push_back(tar_file(path + "/bottom", "deep"));
  members.push_back(tar_file("e/" + path + "/implicit", "parents made on the way"));
  run(members);
  EXPECT_EQ(read_file(at(path + "/bottom")), "deep");
  EXPECT_EQ(read_file(at("e/" + path + "/implicit")), "parents made on the way");
  // Replacing its top removes the whole tree.
  run({tar_file("d", "flat")});
  EXPECT_EQ(read_file(at("d")), "flat");
}

TEST_P(HostileTest, PathsLongerThanPathMax) {
  std::string path;
  for (int i = 0; i < 500; ++i) path += (path.empty() ? "" : "/") + std::string(12, 'n');
  ASSERT_GT(path.size(), 4096u);
  run({tar_file(path + "/f", "long"), tar_hardlink("short", path + "/f")});
  EXPECT_EQ(read_file(at("short")), "long");
}

TEST_P(HostileTest, BadWhiteoutNamesAreRefused) {
  expect_refused({tar_file(".wh.", "")}, "whiteout '.wh.' names no file");
  expect_refused({tar_dir("x"), tar_file("x/.wh...", "")}, "whiteout 'x/.wh...' names no file");
  expect_refused({tar_file("x/.wh..", "")}, "names no file");
}

TEST_P(HostileTest, WhiteoutsAndOpaqueMarkersDoNotReachOutside) {
  if (GetParam() == How::Apply) {
    UnpackStats s = run({tar_symlink("link", sentinel), tar_file("link/.wh.secret", ""),
                         tar_file("link/.wh..wh..opq", ""), tar_symlink("up", "../../.."), tar_file("up/.wh.sentinel", ""),
                         tar_file(sentinel + "/.wh.secret", "")});
    EXPECT_EQ(s.whiteouts, 0u);
  } else {
    expect_refused({tar_symlink("link", sentinel), tar_file("link/.wh..wh..opq", "")}, "symlink");
  }
}

TEST_P(HostileTest, NamesWithNewlinesAndNul) {
  run({tar_file("new\nline", "n"), tar_file("tab\there", "t")});
  EXPECT_EQ(read_file(at("new\nline")), "n");
  // A raw ustar header whose name field holds "abc\0../../x": the name ends at the NUL.
  std::string header(512, '\0');
  auto put = [&](size_t at, const std::string& field) { header.replace(at, field.size(), field); };
  put(0, std::string("abc\0../../x", 11));
  put(100, "0000644");
  put(108, "0000000");
  put(116, "0000000");
  put(124, "00000000002");
  put(136, "00000000000");
  put(156, "0");
  put(257, std::string("ustar\0" "00", 8));
  put(148, "        ");
  unsigned sum = 0;
  for (unsigned char c : header) sum += c;
  char chk[8];
  std::snprintf(chk, sizeof chk, "%06o", sum);
  put(148, std::string(chk, 6) + '\0');
  std::string tar = header + std::string("hi") + std::string(510, '\0') + std::string(1024, '\0');
  run_bytes(tar);
  EXPECT_EQ(read_file(at("abc")), "hi");
  EXPECT_FALSE(exists(tmp.path() + "/x"));
}

TEST_P(HostileTest, SymlinkLoopsAndFilesAsParentsAreRefused) {
  expect_refused({tar_symlink("loop", "loop"), tar_file("loop/x", "")}, "'loop' is a symlink");
  expect_refused({tar_file("f", ""), tar_file("f/x", "")}, "'f' is not a directory");
  expect_refused({tar_file(".", "")}, "names the layer root but is not a directory");
}

TEST_P(HostileTest, TruncatedAndCorruptTarsAreInputErrors) {
  std::string good = make_tar({tar_file("big", std::string(100000, 'b'))});
  expect_refused_bytes(good.substr(0, 50000), "entry 'big'");
  expect_refused_bytes(good.substr(0, 1200), "hostile.tar");
  expect_refused_bytes(good.substr(0, 300), "hostile.tar");
  expect_refused_bytes(std::string(4096, 'z'), "not a readable tar");
  expect_refused_bytes("", "not a readable tar");
  std::string bad_checksum = good;
  bad_checksum[0] = 'c'; // the header no longer matches its checksum
  expect_refused_bytes(bad_checksum, "hostile.tar");
  std::string gz = make_tar({tar_file("big", std::string(100000, 'b'))}, Filter::Gzip);
  expect_refused_bytes(gz.substr(0, gz.size() / 2), "hostile.tar");
  std::string zst = make_tar({tar_file("big", std::string(100000, 'b'))}, Filter::Zstd);
  expect_refused_bytes(zst.substr(0, zst.size() - 10), "hostile.tar");
}

INSTANTIATE_TEST_SUITE_P(BothModes, HostileTest, ::testing::Values(How::LayerDir, How::Apply),
                         [](const auto& info) { return info.param == How::LayerDir ? "LayerDir" : "Apply"; });

} // namespace
