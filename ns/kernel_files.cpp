#include "ns/kernel_files.h"

#include "sys/error.h"
#include "sys/fd.h"

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::ns {

const std::vector<const char*> kReadOnlyProcPaths = {"sys", "sysrq-trigger", "irq", "bus", "fs"};

const std::vector<const char*> kMaskedPaths = {
    "/proc/kcore",       "/proc/keys",  "/proc/timer_list", "/proc/timer_stats", "/proc/latency_stats",
    "/proc/sched_debug", "/proc/acpi",  "/proc/asound",     "/proc/scsi",        "/sys/firmware",
    "/sys/devices/virtual/powercap",
};

namespace {

// The entry `name` under dir, not following a final symlink; an invalid Fd when the
// kernel has no such file.
Fd open_entry(int dir, const char* name, const std::string& what) {
  Fd entry(::openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!entry && errno != ENOENT) fail_errno("cannot open " + what + " in the sandbox");
  return entry;
}

void bind_read_only(int proc_dir, const char* name) {
  std::string what = std::string("/proc/") + name;
  Fd entry = open_entry(proc_dir, name, what);
  if (!entry) return;
  Fd tree(static_cast<int>(::open_tree(entry.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)));
  if (!tree) fail_errno("cannot bind " + what + " in the sandbox");
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
    fail_errno("cannot make " + what + " read-only in the sandbox");
  if (::move_mount(tree.get(), "", entry.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
    fail_errno("cannot mount " + what + " read-only in the sandbox");
}

void mask(int dir, const char* name, const std::string& what) {
  Fd entry = open_entry(dir, name, what);
  if (!entry) return;
  struct stat st;
  if (::fstat(entry.get(), &st) != 0) fail_errno("cannot stat " + what + " in the sandbox");
  std::string target = proc_fd_path(entry.get());
  int rc = S_ISDIR(st.st_mode)
               ? ::mount("tmpfs", target.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                         "mode=555,size=4k,nr_inodes=1")
               : ::mount("/dev/null", target.c_str(), nullptr, MS_BIND, nullptr);
  if (rc != 0) fail_errno("cannot mask " + what + " in the sandbox");
}

} // namespace

void confine_kernel_files(int proc_dir, int sys_dir) {
  for (const char* name : kReadOnlyProcPaths) bind_read_only(proc_dir, name);
  for (std::string_view path : kMaskedPaths) {
    bool in_proc = path.substr(0, 6) == "/proc/";
    int dir = in_proc ? proc_dir : sys_dir;
    if (dir < 0) continue;
    std::string relative(path.substr(in_proc ? 6 : 5));
    mask(dir, relative.c_str(), std::string(path));
  }
}

} // namespace strata::ns
