#include "sys/override_stat.h"
#include "mount/unpack.h"
#include "sys/error.h"
#include "sys/temp.h"
#include "tar_maker.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

using namespace strata;
using namespace strata::mount;
using namespace strata::mount::test;

namespace {

struct UnpackTest : ::testing::Test {
  TempDir tmp{"unpack-test"};
  std::string target = tmp.path() + "/layer";
  void SetUp() override { make_dirs(target); }
  std::string at(const std::string& p) const { return target + "/" + p; }

  UnpackStats unpack(const std::vector<Member>& members, const UnpackOptions& options = {}, Filter f = Filter::None) {
    LayerInput in = bytes_input(make_tar(members, f));
    return unpack_layer_dir(in, target, options);
  }
  UnpackStats apply(const std::vector<Member>& members, const UnpackOptions& options = {}) {
    LayerInput in = bytes_input(make_tar(members));
    return apply_layer(in, target, options);
  }
};

TEST_F(UnpackTest, WritesFilesDirsLinksWithOwnersModesAndTimes) {
  Member f = tar_file("etc/motd", "hello\n", 0640, 1000, 100);
  f.mtime = 1234567;
  Member d = tar_dir("var/empty", 0711, 5, 6);
  d.mtime = 7654321;
  UnpackStats s = unpack({tar_dir("etc"), f, d, tar_symlink("etc/link", "../var/empty"), tar_hardlink("etc/motd2", "etc/motd")});
  EXPECT_EQ(read_file(at("etc/motd")), "hello\n");
  struct stat st = lstat_of(at("etc/motd"));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 1000u); // root here: owners are real
  EXPECT_EQ(st.st_gid, 100u);
  EXPECT_EQ(st.st_mtime, 1234567);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(lstat_of(at("etc/motd2")).st_ino, st.st_ino);
  struct stat dst = lstat_of(at("var/empty"));
  EXPECT_TRUE(S_ISDIR(dst.st_mode));
  EXPECT_EQ(dst.st_mode & 07777, 0711u);
  EXPECT_EQ(dst.st_uid, 5u);
  EXPECT_EQ(dst.st_mtime, 7654321); // set after its contents
  char buf[64];
  ssize_t n = ::readlink(at("etc/link").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "../var/empty");
  EXPECT_EQ(xattr_of(at("etc/motd"), kOverrideStatXattr), "<none>");
  EXPECT_EQ(s.entries, 5u);
  EXPECT_EQ(s.files, 1u);
  EXPECT_EQ(s.directories, 2u);
  EXPECT_EQ(s.symlinks, 1u);
  EXPECT_EQ(s.hardlinks, 1u);
  EXPECT_EQ(s.bytes_written, 6u);
  EXPECT_EQ(s.recorded, 0u);
}

TEST_F(UnpackTest, DetectsGzipAndZstd) {
  for (Filter f : {Filter::Gzip, Filter::Zstd}) {
    TempDir t{"unpack-filter"};
    LayerInput in = bytes_input(make_tar({tar_file("a/b", std::string(100000, 'x'))}, f));
    unpack_layer_dir(in, t.path());
    EXPECT_EQ(read_file(t.path() + "/a/b"), std::string(100000, 'x'));
  }
}

TEST_F(UnpackTest, ReadsAByteRangeOfAnFd) {
  std::string tar = make_tar({tar_file("inner", "range")});
  std::string blob = "HEADER" + tar + "TRAILER";
  write_file(tmp.path() + "/archive", blob);
  Fd fd = open_or_fail(tmp.path() + "/archive", O_RDONLY);
  LayerInput in = LayerInput::from_fd_range(fd.get(), 6, tar.size(), "blob");
  unpack_layer_dir(in, target);
  EXPECT_EQ(read_file(at("inner")), "range");
  // A file that ends inside the range is a truncated layer.
  write_file(tmp.path() + "/cut", blob.substr(0, 6 + 700));
  Fd cut = open_or_fail(tmp.path() + "/cut", O_RDONLY);
  TempDir t{"unpack-short"};
  LayerInput short_in = LayerInput::from_fd_range(cut.get(), 6, tar.size(), "blob");
  try {
    unpack_layer_dir(short_in, t.path());
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer blob is truncated"), std::string::npos) << e.what();
  }
}

TEST_F(UnpackTest, RecordPolicyKeepsOwnersModesAndTypesInXattrs) {
  UnpackOptions o;
  o.owners = OwnerPolicy::Record;
  Member suid = tar_file("bin/su", "x", 04755, 0, 0);
  Member caps = tar_file("bin/ping", "y", 0755);
  caps.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8)}, {"user.note", "hi"}};
  UnpackStats s = unpack({tar_dir("bin", 0755), suid, caps, tar_file("home/u/f", "z", 0600, 1000, 1000),
                          tar_device("dev/null", 'c', 1, 3), tar_device("dev/sda", 'b', 8, 0, 0660), tar_device("fifo", 'p', 0, 0, 0644)},
                         o);
  EXPECT_EQ(xattr_of(at("bin"), kOverrideStatXattr), "0:0:0755:dir");
  EXPECT_EQ(xattr_of(at("bin/su"), kOverrideStatXattr), "0:0:4755:file");
  EXPECT_EQ(lstat_of(at("bin/su")).st_mode & 07000, 0u) << "no setuid bit on disk";
  EXPECT_EQ(xattr_of(at("home/u/f"), kOverrideStatXattr), "1000:1000:0600:file");
  EXPECT_EQ(xattr_of(at("home"), kOverrideStatXattr), "0:0:0755:dir") << "implicit parents are root's";
  struct stat null_st = lstat_of(at("dev/null"));
  EXPECT_TRUE(S_ISREG(null_st.st_mode)) << "no device node unless asked";
  EXPECT_EQ(null_st.st_size, 0);
  EXPECT_EQ(xattr_of(at("dev/null"), kOverrideStatXattr), "0:0:0666:char-1-3");
  EXPECT_EQ(xattr_of(at("dev/sda"), kOverrideStatXattr), "0:0:0660:block-8-0");
  EXPECT_TRUE(S_ISREG(lstat_of(at("fifo")).st_mode));
  EXPECT_EQ(xattr_of(at("fifo"), kOverrideStatXattr), "0:0:0644:pipe");
  EXPECT_EQ(xattr_of(at("bin/ping"), "user.note"), "hi");
  EXPECT_EQ(xattr_of(at("bin/ping"), "security.capability"), "<none>") << "privileges are not planted on disk";
  EXPECT_EQ(xattr_of(at("bin/ping"), "user.containers.override_security.capability"),
            std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8));
  EXPECT_NE(xattr_of(target, kOverrideStatXattr), "<none>") << "fuse-overlayfs needs the layer root marked";
  EXPECT_EQ(s.devices_as_files, 2u);
}

TEST_F(UnpackTest, RealDevicesOnlyWhenAskedAndPermitted) {
  UnpackOptions o;
  o.create_devices = true;
  unpack({tar_device("dev/null", 'c', 1, 3), tar_device("dev/zero-zero", 'c', 0, 0)}, o);
  struct stat st = lstat_of(at("dev/null"));
  ASSERT_TRUE(S_ISCHR(st.st_mode)); // the tests run as root
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 3u);
  // A 0:0 char device would be a whiteout to overlayfs: a typed file instead.
  EXPECT_TRUE(S_ISREG(lstat_of(at("dev/zero-zero")).st_mode));
  EXPECT_EQ(xattr_of(at("dev/zero-zero"), kOverrideStatXattr), "0:0:0666:char-0-0");
}

TEST_F(UnpackTest, LayerDirTurnsWhiteoutsIntoOverlayMarkers) {
  UnpackOptions o;
  o.trusted_opaque = true;
  UnpackStats s = unpack({tar_dir("etc"), tar_file("etc/.wh.passwd", ""), tar_dir("opt"), tar_file("opt/.wh..wh..opq", ""),
                          tar_file("opt/new", "n"), tar_file("gone/.wh.deep", "")},
                         o);
  struct stat st = lstat_of(at("etc/passwd"));
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(exists(at("etc/.wh.passwd")));
  EXPECT_EQ(xattr_of(at("opt"), kUserOpaqueXattr), "y");
  EXPECT_EQ(xattr_of(at("opt"), kTrustedOpaqueXattr), "y");
  EXPECT_FALSE(exists(at("opt/.wh..wh..opq")));
  EXPECT_EQ(read_file(at("opt/new")), "n");
  EXPECT_TRUE(S_ISCHR(lstat_of(at("gone/deep")).st_mode));
  EXPECT_EQ(s.whiteouts, 2u);
  EXPECT_EQ(s.opaque_dirs, 1u);
}

TEST_F(UnpackTest, ApplyDeletesWhiteoutsAndClearsOpaqueDirs) {
  apply({tar_dir("etc"), tar_file("etc/passwd", "root"), tar_file("etc/group", "g"), tar_dir("opt"), tar_file("opt/old", "o"),
         tar_dir("opt/sub"), tar_file("opt/sub/x", "x"), tar_file("keep", "k")});
  UnpackStats s = apply({tar_file("etc/.wh.passwd", ""), tar_dir("opt"), tar_file("opt/-early", "e"), tar_file("opt/.wh..wh..opq", ""),
                         tar_file("opt/new", "n"), tar_file(".wh.missing", ""), tar_file("nodir/.wh.x", "")});
  EXPECT_FALSE(exists(at("etc/passwd")));
  EXPECT_EQ(read_file(at("etc/group")), "g");
  EXPECT_FALSE(exists(at("opt/old")));
  EXPECT_FALSE(exists(at("opt/sub")));
  EXPECT_EQ(read_file(at("opt/-early")), "e") << "the opaque dir keeps what its own layer put there before it";
  EXPECT_EQ(read_file(at("opt/new")), "n");
  EXPECT_EQ(read_file(at("keep")), "k");
  EXPECT_FALSE(exists(at("opt/.wh..wh..opq")));
  EXPECT_FALSE(exists(at("etc/.wh.passwd")));
  EXPECT_FALSE(exists(at("nodir"))) << "a whiteout makes no directories";
  EXPECT_EQ(xattr_of(at("opt"), kUserOpaqueXattr), "<none>");
  EXPECT_EQ(s.whiteouts, 1u);
  EXPECT_EQ(s.opaque_dirs, 1u);
}

TEST_F(UnpackTest, ApplyReplacesDirsByFilesAndBack) {
  apply({tar_dir("a"), tar_file("a/inner", "1"), tar_file("b", "file")});
  apply({tar_file("a", "now a file"), tar_dir("b"), tar_file("b/c", "under")});
  EXPECT_EQ(read_file(at("a")), "now a file");
  EXPECT_EQ(read_file(at("b/c")), "under");
}

TEST_F(UnpackTest, LayerDirMustBeEmpty) {
  write_file(at("stale"), "x");
  LayerInput in = bytes_input(make_tar({tar_file("f", "")}));
  EXPECT_THROW(unpack_layer_dir(in, target), WorkError);
}

TEST_F(UnpackTest, MissingTargetIsAnInputError) {
  LayerInput in = bytes_input(make_tar({tar_file("f", "")}));
  EXPECT_THROW(unpack_layer_dir(in, tmp.path() + "/nope"), InputError);
}

// As an unprivileged user: no chown, so owners and true modes go to override_stat, and
// directories the tar makes unwritable stay owner-accessible on disk.
TEST_F(UnpackTest, UnprivilegedUserRecordsWhatItCannotSet) {
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  ASSERT_EQ(::chown(target.c_str(), 65534, 65534), 0);
  std::string result = as_unprivileged([&] {
    LayerInput in = bytes_input(make_tar({tar_dir("locked", 0555), tar_file("locked/f", "data", 0400, 1000, 1000),
                                          tar_dir("locked/none", 0000), tar_file("locked/none/deep", "d"),
                                          tar_file("s", "x", 06755), tar_file("w/.wh.gone", "", 0600)}));
    UnpackStats s = unpack_layer_dir(in, target);
    std::string r;
    if (s.whiteouts != 1) r += "whiteout char device not made unprivileged; ";
    return r;
  });
  EXPECT_EQ(result, "");
  EXPECT_EQ(xattr_of(at("locked"), kOverrideStatXattr), "0:0:0555:dir");
  EXPECT_EQ(lstat_of(at("locked")).st_mode & 0777, 0755u);
  EXPECT_EQ(xattr_of(at("locked/none"), kOverrideStatXattr), "0:0:0000:dir");
  EXPECT_EQ(lstat_of(at("locked/none")).st_mode & 0777, 0700u);
  EXPECT_EQ(read_file(at("locked/none/deep")), "d");
  EXPECT_EQ(xattr_of(at("locked/f"), kOverrideStatXattr), "1000:1000:0400:file");
  EXPECT_EQ(lstat_of(at("locked/f")).st_uid, 65534u);
  EXPECT_EQ(xattr_of(at("s"), kOverrideStatXattr), "0:0:6755:file");
  EXPECT_EQ(lstat_of(at("s")).st_mode & 07777, 0755u);
  EXPECT_TRUE(S_ISCHR(lstat_of(at("w/gone")).st_mode));
}

// In a user namespace mapping root to the caller: ids inside the map are real, the rest
// are recorded.
TEST_F(UnpackTest, SingleIdUserNamespaceSetsWhatItCanAndRecordsTheRest) {
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  ASSERT_EQ(::chown(target.c_str(), 65534, 65534), 0);
  std::string result = as_unprivileged(
      [&] {
        LayerInput in = bytes_input(make_tar({tar_file("root-owned", "r", 0644), tar_file("user-owned", "u", 0644, 1000, 1000)}));
        unpack_layer_dir(in, target);
        return std::string();
      },
      true);
  EXPECT_EQ(result, "");
  EXPECT_EQ(xattr_of(at("root-owned"), kOverrideStatXattr), "<none>") << "root maps to the caller: real";
  EXPECT_EQ(xattr_of(at("user-owned"), kOverrideStatXattr), "1000:1000:0644:file");
}

TEST_F(UnpackTest, IdMapShiftsOwners) {
  UnpackOptions o;
  o.id_map.uids = {{0, 100000, 65536}};
  o.id_map.gids = {{0, 200000, 65536}};
  unpack({tar_file("f", "", 0644, 1000, 5), tar_file("unmapped", "", 0644, 70000, 0)}, o);
  EXPECT_EQ(lstat_of(at("f")).st_uid, 101000u);
  EXPECT_EQ(lstat_of(at("f")).st_gid, 200005u);
  EXPECT_EQ(xattr_of(at("unmapped"), kOverrideStatXattr), "70000:0:0644:file");
}

TEST_F(UnpackTest, RestoresUserXattrsAndDropsForgedBookkeeping) {
  Member f = tar_file("f", "");
  f.xattrs = {{"user.mime", "text/plain"}, {"user.containers.override_stat", "0:0:4755:file"},
              {"user.overlay.opaque", "y"}, {"trusted.overlay.opaque", "y"}};
  Member d = tar_dir("d");
  d.xattrs = {{"user.overlay.opaque", "y"}};
  UnpackStats s = unpack({f, d});
  EXPECT_EQ(xattr_of(at("f"), "user.mime"), "text/plain");
  EXPECT_EQ(xattr_of(at("f"), kOverrideStatXattr), "<none>");
  EXPECT_EQ(xattr_of(at("d"), kUserOpaqueXattr), "<none>");
  EXPECT_EQ(xattr_of(at("d"), kTrustedOpaqueXattr), "<none>");
  EXPECT_EQ(s.skipped_xattrs, 4u);
}

} // namespace
