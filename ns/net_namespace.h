// The sandbox's own net namespace, made by a helper task while the sandbox child goes on
// setting up its root. Making one (a loopback device, some hundred sysctl entries) is
// the costliest step of a sandbox's start: 0.7 to 0.9 ms, as much as all the mounts,
// which it now overlaps.
#pragma once
#include <cerrno>
#include <memory>
#include <sys/types.h>

namespace strata::ns {

class NetNamespaceMaker {
public:
  // Starts the helper: a task sharing this one's memory and fd table (CLONE_VM |
  // CLONE_FILES) but not its namespaces, so its unshare(CLONE_NEWNET) is its own. The
  // caller must hold CAP_SYS_ADMIN in its user namespace: the namespace is owned by it.
  NetNamespaceMaker();
  NetNamespaceMaker(const NetNamespaceMaker&) = delete;
  NetNamespaceMaker& operator=(const NetNamespaceMaker&) = delete;
  ~NetNamespaceMaker();  // waits for the helper if enter() did not

  // Waits for the helper and moves the caller into the namespace it made; a WorkError
  // with the helper's reason when it could not make one.
  void enter();

private:
  void reap();

  std::unique_ptr<char[]> stack_;
  pid_t helper_ = -1;
  // Written by the helper, read after it is reaped: the namespace's fd, or -errno (it
  // shares errno too, so it reports only through this); -ESRCH if it died first.
  int result_ = -ESRCH;
};

} // namespace strata::ns
