#include "ns/root_setup.h"

#include "ns/kernel_files.h"
#include "sys/error.h"
#include "sys/fd.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace strata::ns {
namespace {

int openat2_in_root(int rootfd, const std::string& path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, rootfd, path.c_str(), &how, sizeof how));
}

// Opens (O_PATH) the inside path of rootfs, creating the missing directories on the
// way (and the last component as an empty file when as_file), recording what it made.
Fd ensure_path(int rootfd, const std::string& inside, bool as_file, RootSetupReport& report) {
  std::string prefix;
  size_t pos = 0;
  while (pos < inside.size()) {
    size_t slash = inside.find('/', pos);
    if (slash == std::string::npos) slash = inside.size();
    std::string component = inside.substr(pos, slash - pos);
    pos = slash + 1;
    if (component.empty() || component == ".") continue;
    if (component == "..") fail_work("mount target {} must not contain ..", inside);
    bool last = pos >= inside.size();
    std::string next = prefix + "/" + component;
    int fd = openat2_in_root(rootfd, next, O_PATH);
    if (fd < 0 && errno == ENOENT) {
      Fd parent(openat2_in_root(rootfd, prefix.empty() ? "/" : prefix, O_PATH | O_DIRECTORY));
      if (!parent) fail_errno("cannot open " + (prefix.empty() ? "/" : prefix) + " in the sandbox root");
      int rc;
      if (last && as_file) {
        rc = ::openat(parent.get(), component.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (rc >= 0) ::close(rc), rc = 0;
      } else {
        rc = ::mkdirat(parent.get(), component.c_str(), 0755);
      }
      if (rc < 0 && errno != EEXIST) fail_errno("cannot create the mount point " + next + " in the sandbox root");
      if (rc == 0) report.created_paths.push_back(next);
      fd = openat2_in_root(rootfd, next, O_PATH);
    }
    if (fd < 0) fail_errno("cannot open the mount point " + next + " in the sandbox root");
    if (last) return Fd(fd);
    ::close(fd);
    prefix = next;
  }
  return Fd(openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY));
}

void mount_or_fail(const char* source, const std::string& target, const char* type, unsigned long flags,
                   const char* data, const std::string& what) {
  if (::mount(source, target.c_str(), type, flags, data) != 0) fail_errno("cannot mount " + what);
}

bool make_read_only(const std::string& target) {
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  return ::mount_setattr(AT_FDCWD, target.c_str(), AT_RECURSIVE, &attr, sizeof attr) == 0;
}

void setup_dev(int rootfd, RootSetupReport& report) {
  {
    Fd dev = ensure_path(rootfd, "/dev", false, report);
    // nodev: the device nodes are binds, mounts of their own.
    mount_or_fail("tmpfs", proc_fd_path(dev.get()), "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=755,size=65536k",
                  "tmpfs on /dev");
  }
  Fd dev(openat2_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY));
  if (!dev) fail_errno("cannot open /dev in the sandbox root");
  std::string dev_path = proc_fd_path(dev.get());
  for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
    int fd = ::openat(dev.get(), name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) fail_errno(std::string("cannot create /dev/") + name);
    ::close(fd);
    std::string host = std::string("/dev/") + name;
    if (::mount(host.c_str(), (dev_path + "/" + name).c_str(), nullptr, MS_BIND, nullptr) != 0) {
      if (std::strcmp(name, "tty") == 0) {  // a host without /dev/tty (no console): leave it out
        ::unlinkat(dev.get(), name, 0);
        report.notes.push_back("/dev/tty left out: " + std::string(std::strerror(errno)));
        continue;
      }
      fail_errno("cannot bind " + host + " into the sandbox");
    }
  }
  if (::mkdirat(dev.get(), "pts", 0755) != 0) fail_errno("cannot create /dev/pts");
  if (::mount("devpts", (dev_path + "/pts").c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=620") == 0) {
    ::symlinkat("pts/ptmx", dev.get(), "ptmx");
  } else {
    report.notes.push_back("/dev/pts left out: " + std::string(std::strerror(errno)));
  }
  // A directory of /dev's tmpfs, as bwrap makes it: a tmpfs of its own costs a mount
  // and an unmount, a tenth of a millisecond of every run.
  if (::mkdirat(dev.get(), "shm", 0) != 0 || ::fchmodat(dev.get(), "shm", 01777, 0) != 0)
    fail_errno("cannot create /dev/shm");
  ::symlinkat("/proc/self/fd", dev.get(), "fd");
  ::symlinkat("/proc/self/fd/0", dev.get(), "stdin");
  ::symlinkat("/proc/self/fd/1", dev.get(), "stdout");
  ::symlinkat("/proc/self/fd/2", dev.get(), "stderr");
}

void setup_sys(int rootfd, bool own_network, RootSetupReport& report) {
  Fd sys = ensure_path(rootfd, "/sys", false, report);
  std::string target = proc_fd_path(sys.get());
  const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
  // A sysfs of one's own needs one's own net namespace.
  if (own_network && ::mount("sysfs", target.c_str(), "sysfs", flags, nullptr) == 0) return;
  if (::mount("/sys", target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    report.notes.push_back("/sys left out: cannot bind the host's: " + std::string(std::strerror(errno)));
    return;
  }
  Fd bound(openat2_in_root(rootfd, "/sys", O_PATH | O_DIRECTORY));
  if (bound && make_read_only(proc_fd_path(bound.get()))) return;
  int err = errno;
  ::umount2(target.c_str(), MNT_DETACH);
  report.notes.push_back("/sys left out: cannot make it read-only: " + std::string(std::strerror(err)));
}

void setup_bind(int rootfd, const BindMount& bind, RootSetupReport& report) {
  struct stat st;
  if (::stat(bind.source.c_str(), &st) != 0) fail_errno("cannot bind " + bind.source);
  {
    Fd target = ensure_path(rootfd, bind.target, !S_ISDIR(st.st_mode), report);
    if (::mount(bind.source.c_str(), proc_fd_path(target.get()).c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      fail_errno(fmt::format("cannot bind {} onto {}", bind.source, bind.target));
  }
  if (!bind.read_only) return;
  Fd mounted(openat2_in_root(rootfd, bind.target, O_PATH));
  if (!mounted || !make_read_only(proc_fd_path(mounted.get())))
    fail_errno(fmt::format("cannot make the bind of {} on {} read-only", bind.source, bind.target));
}

} // namespace

void setup_root(const std::string& rootfs, const std::vector<BindMount>& binds, uint64_t tmp_size,
                const std::function<bool()>& enter_own_network, RootSetupReport& report, bool read_only_root) {
  mount_or_fail(rootfs.c_str(), rootfs, nullptr, MS_BIND | MS_REC, nullptr, "the sandbox root " + rootfs);
  Fd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) fail_errno("cannot open the sandbox root " + rootfs);

  setup_dev(root.get(), report);
  {
    Fd proc = ensure_path(root.get(), "/proc", false, report);
    mount_or_fail("proc", proc_fd_path(proc.get()), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, "a fresh /proc");
  }
  {
    Fd tmp = ensure_path(root.get(), "/tmp", false, report);
    std::string options = "mode=1777";
    // Inodes bounded too: empty files fill no page.
    if (tmp_size > 0) options += fmt::format(",size={},nr_inodes={}", tmp_size, std::max<uint64_t>(tmp_size / 4096, 1024));
    mount_or_fail("tmpfs", proc_fd_path(tmp.get()), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str(), "tmpfs on /tmp");
  }
  setup_sys(root.get(), enter_own_network(), report);  // after the rest: the namespace is made meanwhile
  {
    Fd proc(openat2_in_root(root.get(), "/proc", O_PATH | O_DIRECTORY));
    if (!proc) fail_errno("cannot open the sandbox's /proc");
    Fd sys(openat2_in_root(root.get(), "/sys", O_PATH | O_DIRECTORY));
    confine_kernel_files(proc.get(), sys.get());
  }
  for (const BindMount& bind : binds) setup_bind(root.get(), bind, report);
  if (read_only_root) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;  // this mount only: the ones on it keep their flags
    if (::mount_setattr(root.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
      fail_errno("cannot make the sandbox root read-only");
  }

  // pivot_root(".", ".") stacks the old root on the new one; detaching it leaves the new.
  if (::fchdir(root.get()) != 0) fail_errno("cannot enter the sandbox root");
  if (::syscall(SYS_pivot_root, ".", ".") != 0) fail_errno("pivot_root into " + rootfs);
  if (::umount2(".", MNT_DETACH) != 0) fail_errno("cannot detach the old root");
  if (::chdir("/") != 0) fail_errno("chdir /");
}

} // namespace strata::ns
