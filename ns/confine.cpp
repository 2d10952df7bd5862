#include "ns/confine.h"

#include "ns/sandbox.h"
#include "ns/sys/error.h"

#include <algorithm>
#include <cerrno>
#include <linux/capability.h>
#include <memory>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/prctl.h>

namespace strata::ns {

const std::vector<int> kKeptCapabilities = {
    CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FOWNER,           CAP_FSETID,     CAP_KILL,
    CAP_SETGID, CAP_SETUID,       CAP_SETPCAP,          CAP_SETFCAP,    CAP_NET_BIND_SERVICE,
    CAP_SYS_CHROOT, CAP_MKNOD,    CAP_AUDIT_WRITE,
};

const std::vector<const char*> kDeniedSyscalls = {
    // kernel modules and replacing the kernel
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    // kernel programs, tracing and keyrings
    "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "lookup_dcookie",
    // the machine
    "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "syslog", "ioperm", "iopl",
    "vhangup", "nfsservctl", "uselib", "vm86", "vm86old",
    // the clock
    "settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex",
    // mounts, after setup
    "mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
    "open_tree", "mount_setattr",
    // file handles reach files outside the mounts
    "open_by_handle_at", "name_to_handle_at",
    // memory tricks no build needs
    "userfaultfd",
};

namespace {

void drop_bounding_set() {
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (std::find(kKeptCapabilities.begin(), kKeptCapabilities.end(), cap) != kKeptCapabilities.end()) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      fail_errno(fmt::format("cannot drop capability {} from the bounding set", cap));
  }
}

void set_own_capabilities() {
  std::unique_ptr<std::remove_pointer_t<cap_t>, int (*)(void*)> caps(cap_init(), cap_free);
  if (!caps) fail_errno("cap_init");
  std::vector<cap_value_t> values(kKeptCapabilities.begin(), kKeptCapabilities.end());
  values.push_back(CAP_SYS_PTRACE);
  if (cap_set_flag(caps.get(), CAP_PERMITTED, values.size(), values.data(), CAP_SET) != 0 ||
      cap_set_flag(caps.get(), CAP_EFFECTIVE, values.size(), values.data(), CAP_SET) != 0)
    fail_errno("cap_set_flag");
  if (cap_set_proc(caps.get()) != 0) fail_errno("cannot set the sandbox init's capabilities");
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

void load_denylist() {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (!ctx) fail_work("cannot create a seccomp filter");
#if defined(__x86_64__)
  // 32-bit and x32 programs get the same rules instead of being killed.
  seccomp_arch_add(ctx.get(), SCMP_ARCH_X86);
  seccomp_arch_add(ctx.get(), SCMP_ARCH_X32);
#elif defined(__aarch64__)
  seccomp_arch_add(ctx.get(), SCMP_ARCH_ARM);
#endif
  for (const char* name : kDeniedSyscalls) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp
    int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0);
    if (rc != 0 && rc != -EDOM && rc != -EOPNOTSUPP)
      fail_work("cannot add {} to the seccomp filter: {}", name, std::strerror(-rc));
  }
  if (int rc = seccomp_load(ctx.get()); rc != 0) fail_work("cannot load the seccomp filter: {}", std::strerror(-rc));
}

} // namespace

void confine_sandbox_init() {
  drop_bounding_set();
  set_own_capabilities();
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail_errno("cannot set no_new_privs");
  load_denylist();
}

} // namespace strata::ns
