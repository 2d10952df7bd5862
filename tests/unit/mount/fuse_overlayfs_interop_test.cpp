// The records the unpacker writes are the ones fuse-overlayfs reads: mounted over a
// layer dir unpacked with OwnerPolicy::Record, it shows the tar's owners and modes.
#include "mount/unpack.h"
#include "sys/temp.h"
#include "tar_maker.h"

#include <cstdlib>
#include <gtest/gtest.h>

using namespace strata;
using namespace strata::mount;
using namespace strata::mount::test;

TEST(FuseOverlayfsInterop, ShowsRecordedOwnersAndModes) {
  ASSERT_EQ(std::system("command -v fuse-overlayfs >/dev/null && command -v fusermount3 >/dev/null"), 0)
      << "fuse-overlayfs and fusermount3 are test dependencies";
  if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/fuse is not usable by this user";
  TempDir tmp{"fuse-interop"};
  std::string lower = tmp.path() + "/lower", upper = tmp.path() + "/upper", work = tmp.path() + "/work",
              merged = tmp.path() + "/merged";
  for (const std::string& d : {lower, upper, work, merged}) make_dirs(d);
  UnpackOptions o;
  o.owners = OwnerPolicy::Record;
  LayerInput in = bytes_input(make_tar({tar_dir("d", 0555, 5, 6), tar_file("d/su", "x", 04755, 1000, 1000)}));
  unpack_layer_dir(in, lower, o);
  ASSERT_EQ(lstat_of(lower + "/d/su").st_uid, 0u) << "owner only recorded";

  std::string mount = "fuse-overlayfs -o lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work +
                      ",xattr_permissions=2 " + merged + " 2>/dev/null";
  ASSERT_EQ(std::system(mount.c_str()), 0);
  struct stat su {}, d {};
  int su_rc = ::lstat((merged + "/d/su").c_str(), &su);
  int d_rc = ::lstat((merged + "/d").c_str(), &d);
  std::system(("fusermount3 -u " + merged).c_str());
  ASSERT_EQ(su_rc, 0);
  ASSERT_EQ(d_rc, 0);
  EXPECT_EQ(su.st_uid, 1000u);
  EXPECT_EQ(su.st_gid, 1000u);
  EXPECT_EQ(su.st_mode & 07777, 04755u);
  EXPECT_EQ(d.st_uid, 5u);
  EXPECT_EQ(d.st_mode & 07777, 0555u);
}
