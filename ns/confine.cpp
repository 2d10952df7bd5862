#include "ns/confine.h"

#include "ns/sandbox.h"
#include "sys/error.h"
#include "sys/fd.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <memory>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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

const std::vector<unsigned long> kDeniedIoctls = {TIOCSTI, TIOCLINUX};

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

std::string compile_command_filter(const NotifyPolicy& policy) {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (!ctx) fail_work("cannot create a seccomp filter");
  for (const char* name : kDeniedSyscalls) add_rule(ctx.get(), SCMP_ACT_ERRNO(EPERM), name, {});
  // The request is an int: compare its low 32 bits only, or a request with high bits set
  // would pass the rule and still reach the kernel as TIOCSTI.
  for (unsigned long request : kDeniedIoctls)
    add_rule(ctx.get(), SCMP_ACT_ERRNO(EPERM), "ioctl", {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, request)});
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
  Fd memory(static_cast<int>(::syscall(SYS_memfd_create, "strata-bpf", MFD_CLOEXEC)));
  if (!memory) fail_errno("memfd_create");
  if (int rc = seccomp_export_bpf(ctx.get(), memory.get()); rc != 0)
    fail_work("cannot compile the seccomp filter: {}", std::strerror(-rc));
  off_t size = ::lseek(memory.get(), 0, SEEK_CUR);
  std::string bpf(static_cast<size_t>(size), '\0');
  if (size <= 0 || ::pread(memory.get(), bpf.data(), bpf.size(), 0) != size)
    fail_errno("cannot read the compiled seccomp filter");
  return bpf;
}

int load_compiled_filter(const std::string& bpf, bool with_listener) {
  sock_fprog program{};
  program.len = static_cast<unsigned short>(bpf.size() / sizeof(sock_filter));
  program.filter = reinterpret_cast<sock_filter*>(const_cast<char*>(bpf.data()));
  return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                    with_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0, &program));
}

} // namespace strata::ns
