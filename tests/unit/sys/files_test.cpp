#include "sys/files.h"

#include "sys/error.h"
#include "sys/temp.h"

#include <functional>

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

std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(InputFile, RefusesWhatWouldBlockOrNeverEnd) {
  TempDir dir("strata-test");
  std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // No writer: a blocking open would wait for ever.
  EXPECT_EQ(input_error([&] { open_input_file(fifo, "image"); }), "image " + fifo + " is a FIFO, not a regular file");
  EXPECT_EQ(input_error([&] { open_input_file("/dev/zero", "image"); }),
            "image /dev/zero is a character device, not a regular file");
  EXPECT_EQ(input_error([&] { open_input_file(dir.path(), "blob"); }), "blob " + dir.path() + " is a directory, not a regular file");
  EXPECT_EQ(input_error([&] { open_input_file(dir.path() + "/none", "spec"); }), "spec " + dir.path() + "/none does not exist");
  EXPECT_EQ(input_error([&] { open_input_file(std::string("/etc/passwd\0x", 13), "spec"); }), "spec path holds a NUL byte");
  // A FIFO allowed as a pipe no one writes to reads as empty, at once.
  EXPECT_EQ(read_input_file(fifo, "spec", 100, true), "");
  write_file(dir.path() + "/f", "0123456789");
  EXPECT_EQ(read_input_file(dir.path() + "/f", "spec", 10), "0123456789");
  EXPECT_NE(input_error([&] { read_input_file(dir.path() + "/f", "spec", 9); }).find("is larger than"), std::string::npos);
}

TEST(InputFile, APipeIsReadToItsEnd) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::write(p[1], "{}", 2), 2);
  ::close(p[1]);
  std::string path = "/proc/self/fd/" + std::to_string(p[0]);
  EXPECT_EQ(read_input_file(path, "spec", 100, true), "{}");
  ::close(p[0]);
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
