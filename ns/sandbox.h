// The rootless sandbox: runs a command as (namespaced) root in a directory tree that
// becomes its "/", confined to what a package manager or a build script needs.
//
// run_sandbox() clones a child into new user, mount, pid, ipc, uts (and, unless
// network is asked, net) namespaces and maps ids (see ns/id_mode.h). The child is pid 1
// of its pid namespace; in its private mount namespace it
//   - calls prepare_root(rootfs) (e.g. to mount an overlay there),
//   - mounts a minimal /dev (tmpfs with null, zero, full, random, urandom, tty bound
//     from the host, a new devpts instance for pts and ptmx, a 1777 shm dir), a fresh
//     /proc, a read-only /sys (a new sysfs, else the host's bound read-only, else none:
//     said in notes), a tmpfs /tmp (of tmp_size), and the binds asked for,
//   - pivot_roots into rootfs and detaches the old root,
//   - sets the hostname "strata", cuts the capability bounding set to kKeptCapabilities
//     and sets no_new_privs,
// then forks the command (umask 022, whatever the caller's, as the mount points made in
// rootfs: what it writes has the same modes for every caller), which starts a session of its own (no controlling tty: the
// caller's terminal is only an open fd to it) and loads a seccomp filter (the denylist kDeniedSyscalls →
// EPERM, plus notification rules) before exec; init stays: it reaps every zombie, forwards
// SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to strata, answers seccomp notifications (the
// owner-recording of single-id mode, device nodes in every mode: ns/owner_supervisor.h)
// and, when the command exits, kills what is left, tells the parent the status (128+N
// when signal N killed it) and exits with it.
//
// Nothing is left on the host: every mount lives in the child's mount namespace and
// dies with it (when strata dies, even by SIGKILL, the child gets SIGKILL through
// PR_SET_PDEATHSIG and its pid namespace goes with it). The only host-side state is the
// overlay mount point of a run without rootfs, a RunDir (ns/run_dir.h).
//
// run_sandbox() clones without glibc's fork handlers: call it from a thread while no
// other thread of the process can hold the allocator (strata calls it before it starts
// worker threads). It blocks SIGINT/SIGTERM/SIGHUP/SIGQUIT while the command runs.
#pragma once
#include "ns/id_mode.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace strata {
class OwnerTable; // sys/owner_table.h
}

namespace strata::ns {

struct BindMount {
  std::string source;       // host path
  std::string target;       // absolute path inside the sandbox; created when missing
  bool read_only = true;
};

struct SandboxConfig {
  // The directory that becomes "/". Empty: the sandbox makes an empty mount point (a
  // RunDir) and prepare_root must mount something there.
  std::string rootfs;
  // Runs in the child after the namespaces and id maps exist, before /dev, /proc... are
  // mounted and before pivot_root: e.g. mounts an overlay on rootfs. It may throw
  // strata::Error (its message becomes run_sandbox's WorkError, an InputError's its
  // InputError). Its return value is a
  // short label reported as SandboxResult::root_label (e.g. "overlay:kernel").
  std::function<std::string(const std::string& rootfs)> prepare_root;
  // Only prepare_root runs, in the namespaces with the ids mapped (work on host paths
  // that only a mapped id may do): no root is set up, no command runs; exit status 0.
  bool prepare_only = false;
  std::vector<BindMount> binds;
  // The root itself read-only once everything is mounted (its mounts keep their own
  // flags): only /tmp, /dev/shm and binds asked writable can be written.
  bool read_only_root = false;
  std::vector<std::string> argv;   // argv[0] is looked up on the sandbox's PATH from env
  // Absolute inside paths tried in turn, as argv[0], when argv[0] cannot be found (ENOENT:
  // missing, or its interpreter is): e.g. shells for a root that may have none.
  std::vector<std::string> stand_ins;
  std::vector<std::string> env;    // the command's whole environment (see default_env())
  std::string cwd = "/";
  IdMode id_mode = IdMode::Auto;
  std::optional<IdMapPlan> id_plan;  // planned already (plan_id_maps); else planned from id_mode
  bool network = false;            // true: stay in the host's network namespace
  std::chrono::seconds timeout{0}; // 0: none. Else the sandbox is killed after it: WorkError
  uint32_t uid = 0, gid = 0;       // ids the command runs as, inside
  // Bytes the /tmp tmpfs may hold (and one inode per 4 KiB of them). 0: the kernel's
  // default, half the RAM.
  uint64_t tmp_size = 0;
  // Processes the sandbox may hold: RLIMIT_NPROC of each uid in it (which the kernel does
  // not apply to host uid 0, real root's), and on Linux 6.14 and later, where pid_max is
  // per pid namespace, pid_max pids_limit + 300 of the sandbox's (numbers below 300 are
  // not used again once they wrap), which holds real root too. 0: no limit.
  uint32_t pids_limit = 0;
  // Where user xattrs are refused: the owner table (sys/owner_table.h) that single-id
  // chown/chmod and emulated device nodes are recorded in, by path in the root (appended
  // to; created if missing). Empty: user.containers.override_stat.
  std::string owner_table;
  // With owner_table: the records of the layers stacked under the root, merged topmost
  // first (mount::merged_lower_records), read where this run's table has none. Null: none.
  const OwnerTable* lower_owner_table = nullptr;
  // Work of the caller's, done in the parent while the sandbox starts and runs (on the
  // other core), e.g. reading what a build needs next. It must not touch what the
  // sandbox changes. Signals to strata and the timeout are acted on once it returns; if
  // it throws, the sandbox is killed and the exception goes on.
  std::function<void()> meanwhile;
};

struct SandboxResult {
  int exit_status = 0;                     // the command's, or 128+signal
  IdMode mode_used = IdMode::Single;
  std::string root_label;                  // what prepare_root returned
  std::vector<std::string> notes;          // what could not be set up (e.g. no /sys)
  // Mount points the sandbox had to create in rootfs (inside paths, parents first),
  // e.g. "/dev" in a rootfs that has none: a layer diff should leave them out when empty.
  std::vector<std::string> created_paths;
};

// Capabilities left in the bounding set (and so to the command when it runs as uid 0):
// CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, SETFCAP,
// NET_BIND_SERVICE, SYS_CHROOT, MKNOD, AUDIT_WRITE: Docker's default set less NET_RAW.
// What a package manager needs (own, chmod, setuid programs' bits, file capabilities,
// chroot into a target, drop to a service user); all of them act only inside the user
// namespace. Without SYS_ADMIN, SYS_MODULE, SYS_TIME, SYS_BOOT, NET_ADMIN, SYS_PTRACE...
extern const std::vector<int> kKeptCapabilities;

// System calls the seccomp filter answers with EPERM: module loading, kexec, bpf,
// perf, keyrings, reboot, swap, clock setting, (u)mount/pivot_root and the new mount
// API after setup, open_by_handle_at, and similar that no build needs.
extern const std::vector<const char*> kDeniedSyscalls;

// ioctl requests the filter answers with EPERM: TIOCSTI (push input into a terminal) and
// TIOCLINUX (the virtual console's selection and paste), as bwrap denies them. With the
// command in a session of its own, TIOCSTI already has no controlling tty to act on;
// this covers a terminal the command opens.
extern const std::vector<unsigned long> kDeniedIoctls;

// PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, HOME=/root,
// TERM from the caller when set.
std::vector<std::string> default_env();

// Returns once the command has exited and every other process of the sandbox is dead
// (pid 1 kills them): nothing in it can change a file any more. Its pid 1 may still be
// unmounting the sandbox's root; it is reaped at the next call, or by init.
SandboxResult run_sandbox(const SandboxConfig& config);

} // namespace strata::ns
