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
#include <sys/stat.h>
#include <fcntl.h>
#include <cstring>

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

void add_rule(scmp_filter_ctx ctx, uint32_t action, const char* name, std::initializer_list<scmp_arg_cmp> args) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return;  // unknown to this libseccomp
  int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.size()), args.begin());
  if (rc != 0 && rc != -EDOM && rc != -EOPNOTSUPP)
    fail_work("cannot add {} to the seccomp filter: {}", name, std::strerror(-rc));
}

} // namespace

void confine_sandbox_init() {
  drop_bounding_set();
  set_own_capabilities();
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail_errno("cannot set no_new_privs");
}

Fd load_command_filter(const NotifyPolicy& policy) {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (!ctx) fail_work("cannot create a seccomp filter");
  for (const char* name : kDeniedSyscalls) add_rule(ctx.get(), SCMP_ACT_ERRNO(EPERM), name, {});
  if (policy.any() && seccomp_api_get() < 5)
    fail_work("the kernel or libseccomp lacks seccomp user notification (needed to record owners and devices)");
  if (policy.record_owners) {
    for (const char* name : {"chown", "fchown", "fchownat", "lchown", "chown32", "fchown32", "lchown32", "chmod",
                             "fchmod", "fchmodat", "fchmodat2"})
      add_rule(ctx.get(), SCMP_ACT_NOTIFY, name, {});
  }
  if (policy.emulate_devices) {
    const uint32_t notify = SCMP_ACT_NOTIFY;
    add_rule(ctx.get(), notify, "mknod", {SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR), SCMP_A2(SCMP_CMP_NE, 0)});
    add_rule(ctx.get(), notify, "mknod", {SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK)});
    add_rule(ctx.get(), notify, "mknodat", {SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR), SCMP_A3(SCMP_CMP_NE, 0)});
    add_rule(ctx.get(), notify, "mknodat", {SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK)});
  }
  if (int rc = seccomp_load(ctx.get()); rc != 0) fail_work("cannot load the seccomp filter: {}", std::strerror(-rc));
  if (!policy.any()) return Fd();
  int fd = seccomp_notify_fd(ctx.get());
  if (fd < 0) fail_work("the seccomp filter has no notification fd");
  Fd listener(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  if (!listener) fail_errno("cannot keep the seccomp notification fd");
  return listener;
}

} // namespace strata::ns
