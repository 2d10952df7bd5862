#include "ns/net_namespace.h"

#include "sys/error.h"

#include <cerrno>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

namespace strata::ns {
namespace {

constexpr size_t kHelperStack = 64 * 1024;

// The helper: system calls only, and errno read at once. (A failure of the caller's own
// calls at the very same moment could read the helper's errno: both are rare, and the
// error is still reported as one.)
int make_namespace(void* arg) {
  int& result = *static_cast<int*>(arg);
  if (::unshare(CLONE_NEWNET) != 0) {
    result = -errno;
    return 0;
  }
  int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  result = fd >= 0 ? fd : -errno;
  return 0;
}

} // namespace

NetNamespaceMaker::NetNamespaceMaker() : stack_(new char[kHelperStack]) {
  // exit_signal 0: the helper is reaped with __WALL, and nobody else hears of it.
  helper_ = ::clone(make_namespace, stack_.get() + kHelperStack, CLONE_VM | CLONE_FILES, &result_);
  if (helper_ < 0) fail_errno("cannot start the task that makes the sandbox's net namespace");
}

NetNamespaceMaker::~NetNamespaceMaker() {
  reap();
  if (result_ >= 0) ::close(result_);
}

void NetNamespaceMaker::reap() {
  if (helper_ < 0) return;
  while (::waitpid(helper_, nullptr, __WALL) < 0 && errno == EINTR) {
  }
  helper_ = -1;
}

void NetNamespaceMaker::enter() {
  reap();
  if (result_ < 0) fail_errno("cannot create the sandbox's net namespace", -result_);
  int fd = std::exchange(result_, -1);
  int rc = ::setns(fd, CLONE_NEWNET);
  int err = errno;
  ::close(fd);
  if (rc != 0) fail_errno("cannot enter the sandbox's net namespace", err);
}

} // namespace strata::ns
