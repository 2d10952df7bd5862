// NetNamespaceMaker, in a forked child that first enters a user namespace of its own.
#include "ns/net_namespace.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using strata::ns::NetNamespaceMaker;

namespace {

ino_t namespace_inode(const char* path) {
  struct stat st;
  return ::stat(path, &st) == 0 ? st.st_ino : 0;
}

// Runs body in a child process with a user namespace of its own; returns its exit code.
template <typename Body> int in_user_namespace(Body body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWUSER) != 0) ::_exit(100);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

} // namespace

TEST(NetNamespaceMaker, EnterMovesTheCallerIntoAFreshNamespace) {
  ino_t host = namespace_inode("/proc/self/ns/net");
  int rc = in_user_namespace([host] {
    NetNamespaceMaker maker;
    if (namespace_inode("/proc/self/ns/net") != host) return 1;  // not before enter()
    maker.enter();
    ino_t now = namespace_inode("/proc/self/ns/net");
    if (now == 0 || now == host) return 2;
    // The helper was reaped: no child is left.
    return ::waitpid(-1, nullptr, __WALL | WNOHANG) < 0 ? 0 : 3;
  });
  EXPECT_EQ(rc, 0);
}

TEST(NetNamespaceMaker, DroppedWithoutEnterLeavesTheCallerWhereItWas) {
  ino_t host = namespace_inode("/proc/self/ns/net");
  int rc = in_user_namespace([host] {
    { NetNamespaceMaker maker; }
    if (namespace_inode("/proc/self/ns/net") != host) return 1;
    return ::waitpid(-1, nullptr, __WALL | WNOHANG) < 0 ? 0 : 2;  // the helper was reaped
  });
  EXPECT_EQ(rc, 0);
}
