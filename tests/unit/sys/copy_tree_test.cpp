#include "sys/copy_tree.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace strata;

namespace {

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

} // namespace

TEST(CopyTree, KeepsModesLinksHolesAndTimes) {
  TempDir src("copy-src"), dst("copy-dst");
  const std::string s = src.path();
  make_dirs(s + "/bin");
  make_dirs(s + "/ro/inner");
  write_file(s + "/bin/tool", "#!/bin/sh\n", 0755);
  write_file(s + "/ro/inner/f", "x", 0444);
  ASSERT_EQ(::link((s + "/bin/tool").c_str(), (s + "/bin/tool-again").c_str()), 0);
  ASSERT_EQ(::symlink("tool", (s + "/bin/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((s + "/fifo").c_str(), 0640), 0);
  {
    Fd fd(::open((s + "/sparse").c_str(), O_WRONLY | O_CREAT, 0600));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::pwrite(fd.get(), "end", 3, 64 << 20), 3);
  }
  timespec old[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (s + "/bin/tool").c_str(), old, 0), 0);
  ASSERT_EQ(::chmod((s + "/ro").c_str(), 0555), 0);

  CopyStats stats = copy_tree_contents(s, dst.path());
  const std::string d = dst.path();
  EXPECT_EQ(read_file(d + "/bin/tool"), "#!/bin/sh\n");
  EXPECT_EQ(lstat_of(d + "/bin/tool").st_mode & 07777, 0755u);
  EXPECT_EQ(lstat_of(d + "/bin/tool").st_mtim.tv_sec, 1000);
  EXPECT_EQ(lstat_of(d + "/bin/tool").st_ino, lstat_of(d + "/bin/tool-again").st_ino) << "a hard link stays one";
  EXPECT_TRUE(S_ISLNK(lstat_of(d + "/bin/link").st_mode));
  EXPECT_TRUE(S_ISFIFO(lstat_of(d + "/fifo").st_mode));
  EXPECT_EQ(lstat_of(d + "/fifo").st_mode & 07777, 0640u);
  EXPECT_EQ(lstat_of(d + "/ro").st_mode & 07777, 0555u);
  EXPECT_EQ(lstat_of(d + "/ro/inner/f").st_mode & 07777, 0444u);
  struct stat sparse = lstat_of(d + "/sparse");
  EXPECT_EQ(sparse.st_size, (64 << 20) + 3);
  EXPECT_LT(sparse.st_blocks * 512, 1 << 20) << "the hole was written out";
  EXPECT_EQ(stats.hardlinks, 1u);
  EXPECT_EQ(stats.symlinks, 1u);
  ::chmod((d + "/ro").c_str(), 0755);
  ::chmod((s + "/ro").c_str(), 0755);
}

TEST(CopyTree, MergesDirectoriesAndReplacesWhatIsInTheWay) {
  TempDir a("copy-a"), b("copy-b"), dst("copy-dst");
  make_dirs(a.path() + "/etc");
  write_file(a.path() + "/etc/one", "a");
  write_file(a.path() + "/etc/both", "a");
  make_dirs(b.path() + "/etc");
  write_file(b.path() + "/etc/two", "b");
  write_file(b.path() + "/etc/both", "b");
  // A symlink in the way is replaced, never written through.
  write_file(dst.path() + "/outside", "keep");
  ASSERT_EQ(::symlink((dst.path() + "/outside").c_str(), (dst.path() + "/evil").c_str()), 0);
  write_file(b.path() + "/evil", "copied");

  copy_tree_contents(a.path(), dst.path());
  copy_tree_contents(b.path(), dst.path());
  EXPECT_EQ(read_file(dst.path() + "/etc/one"), "a");
  EXPECT_EQ(read_file(dst.path() + "/etc/two"), "b");
  EXPECT_EQ(read_file(dst.path() + "/etc/both"), "b");
  EXPECT_EQ(read_file(dst.path() + "/outside"), "keep");
  EXPECT_EQ(read_file(dst.path() + "/evil"), "copied");
  EXPECT_FALSE(S_ISLNK(lstat_of(dst.path() + "/evil").st_mode));
}

TEST(CopyTree, RefusesAFileOntoADirectory) {
  TempDir a("copy-a"), dst("copy-dst");
  write_file(a.path() + "/etc", "a file");
  make_dirs(dst.path() + "/etc");
  EXPECT_THROW(copy_tree_contents(a.path(), dst.path()), InputError);
}

TEST(CopyTree, CopiesOneFileByName) {
  TempDir a("copy-a"), dst("copy-dst");
  write_file(a.path() + "/conf", "c", 0640);
  copy_into(a.path() + "/conf", dst.path());
  EXPECT_EQ(read_file(dst.path() + "/conf"), "c");
  EXPECT_EQ(lstat_of(dst.path() + "/conf").st_mode & 07777, 0640u);
}
