// Stacking lower dirs: a dir listed twice stacked once, at its topmost place; an upper
// dir filled beforehand usable under fuse-overlayfs 1.10; what fuse-overlayfs leaves in
// the upper dir read back as the layer it means.
#include "mount/diff.h"
#include "mount/fuse_upper.h"
#include "mount/overlay.h"
#include "sys/files.h"
#include "sys/override_stat.h"
#include "sys/temp.h"
#include "tar_maker.h"

#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

using namespace strata;
using namespace strata::mount;
using namespace strata::mount::test;

namespace {

std::string xattr(const std::string& path, const char* name) {
  char value[256];
  ssize_t n = ::lgetxattr(path.c_str(), name, value, sizeof value);
  return n < 0 ? "" : std::string(value, static_cast<size_t>(n));
}

} // namespace

TEST(DistinctLowerDirs, KeepsEachDirAtItsTopmostPlace) {
  // Topmost first: the manifest [A, B, A, C] stacks as C, A, B (A at its last occurrence).
  EXPECT_EQ(distinct_lower_dirs({"/l/C", "/l/A", "/l/B", "/l/A"}), (std::vector<std::string>{"/l/C", "/l/A", "/l/B"}));
  EXPECT_EQ(distinct_lower_dirs({"/l/A", "/l/A"}), (std::vector<std::string>{"/l/A"}));
  EXPECT_EQ(distinct_lower_dirs({}), std::vector<std::string>{});
}

TEST(FuseUpper, RecordsWhatIsThereAndKeepsWhatIsRecorded) {
  TempDir tmp{"fuse-upper"};
  std::string upper = tmp.path();
  make_dirs(upper + "/bin");
  write_file(upper + "/bin/tool", "x", 0750);
  ASSERT_EQ(::symlink("tool", (upper + "/bin/link").c_str()), 0);
  write_file(upper + "/owned", "y", 0600);
  std::string recorded = encode_override_stat({1000, 100, 04755});
  ASSERT_EQ(::setxattr((upper + "/owned").c_str(), kOverrideStatXattr, recorded.data(), recorded.size(), 0), 0);

  EXPECT_EQ(record_upper_for_fuse(upper), 4u); // the upper dir, bin, bin/tool, owned
  struct stat st = lstat_of(upper + "/bin/tool");
  EXPECT_EQ(xattr(upper + "/bin/tool", kFuseOverrideStatXattr), encode_override_stat({st.st_uid, st.st_gid, 0750}));
  EXPECT_EQ(xattr(upper + "/owned", kFuseOverrideStatXattr), recorded);
  EXPECT_EQ(record_upper_for_fuse(upper), 0u) << "nothing left to record";
}

TEST(FuseUpper, Fuse_overlayfsShowsAFilledUpperDir) {
  ASSERT_EQ(std::system("command -v fuse-overlayfs >/dev/null && command -v fusermount3 >/dev/null"), 0)
      << "fuse-overlayfs and fusermount3 are test dependencies";
  if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/fuse is not usable by this user";
  TempDir tmp{"fuse-filled"};
  std::string lower = tmp.path() + "/lower", upper = tmp.path() + "/upper", work = tmp.path() + "/work",
              merged = tmp.path() + "/merged";
  for (const std::string& d : {lower, upper + "/bin", work, merged}) make_dirs(d);
  write_file(upper + "/bin/tool", "x", 0755);
  record_upper_for_fuse(upper);
  std::string mount = "fuse-overlayfs -o lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work +
                      ",xattr_permissions=2 " + merged + " 2>/dev/null";
  ASSERT_EQ(std::system(mount.c_str()), 0);
  struct stat st {};
  int rc = ::lstat((merged + "/bin/tool").c_str(), &st);
  int err = errno;
  std::system(("fusermount3 -u " + merged).c_str());
  ASSERT_EQ(rc, 0) << std::strerror(err); // 1.10 without the records: "No data available"
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST(FuseUpper, ItsOpaqueMarksAndOwnerRecordsReadBackAsTheLayerTheyMean) {
  // What fuse-overlayfs 1.10 makes of `rm -rf /d; mkdir /d; touch /d/f; chown 7:8 /d/f`.
  TempDir tmp{"fuse-diff"};
  std::string upper = tmp.path();
  make_dirs(upper + "/d");
  write_file(upper + "/d/.wh..wh..opq", "", 0700);
  write_file(upper + "/d/f", "", 0755);
  std::string record = "7:8:644";
  ASSERT_EQ(::setxattr((upper + "/d/f").c_str(), kFuseOverrideStatXattr, record.data(), record.size(), 0), 0);
  (void)::mknod((upper + "/d/.wh..opq").c_str(), S_IFCHR | 0700, makedev(0, 0)); // made where permitted (root)
  std::vector<std::string> seen;
  DiffOptions options;
  walk_diff(upper, options, [&](LayerEntry& e) {
    seen.push_back(fmt::format("{} {:04o} {}:{}", e.path, e.mode, e.owner.uid, e.owner.gid));
  });
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  EXPECT_EQ(seen, (std::vector<std::string>{fmt::format("d {:04o} {}:{}", lstat_of(upper + "/d").st_mode & 07777, uid, gid),
                                            fmt::format("d/.wh..wh..opq {:04o} {}:{}", lstat_of(upper + "/d").st_mode & 0777, uid, gid),
                                            "d/f 0644 7:8"}));
}
