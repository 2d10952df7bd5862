#include "sys/files.h"

#include "sys/temp.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace strata {
namespace {

TEST(LexicallyNormalRelative, ResolvesDotsAndClampsAtTheTop) {
  EXPECT_EQ(lexically_normal_relative("a/./b/../c"), "a/c");
  EXPECT_EQ(lexically_normal_relative("/../x"), "x");
  EXPECT_EQ(lexically_normal_relative("a/.."), "");
  EXPECT_EQ(lexically_normal_relative("../../a//b/"), "a/b");
}

TEST(LinkTargetPath, RelativeToTheLinkAbsoluteFromTheRoot) {
  EXPECT_EQ(link_target_path("lib", "usr/lib"), "usr/lib");
  EXPECT_EQ(link_target_path("a/b/link", "../c"), "a/c");
  EXPECT_EQ(link_target_path("a/b/link", "/nix/store/x"), "nix/store/x");
  EXPECT_EQ(link_target_path("a/link", "../../../etc/passwd"), "etc/passwd");
}

// As a user without CAP_DAC_OVERRIDE (nobody, when the test runs as root): directories
// without read, write or search permission are opened up on the way and removed.
TEST(RemoveTree, RemovesDirectoriesTheOwnerLockedItselfOutOf) {
  TempDir dir("strata-remove-tree");
  std::string top = dir.path() + "/tree";
  bool as_root = ::getuid() == 0;
  if (as_root) ASSERT_EQ(::chown(dir.path().c_str(), 65534, 65534), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (as_root && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(10);
    for (const char* d : {"", "/locked", "/locked/inner", "/readonly", "/plain"})
      if (::mkdir((top + d).c_str(), 0755) != 0) ::_exit(11);
    for (const char* f : {"/locked/inner/file", "/readonly/file", "/plain/file"})
      if (::close(::open((top + f).c_str(), O_CREAT | O_WRONLY, 0644)) != 0) ::_exit(12);
    ::chmod((top + "/locked/inner").c_str(), 0);
    ::chmod((top + "/locked").c_str(), 0);
    ::chmod((top + "/readonly").c_str(), 0555);
    if (::access((top + "/locked/inner").c_str(), F_OK) == 0) ::_exit(13);  // really locked out
    try {
      remove_tree(top);
    } catch (...) {
      ::_exit(14);
    }
    ::_exit(path_exists(top) ? 15 : 0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

} // namespace
} // namespace strata
