#include "ns/sandbox.h"

#include "ns/confine.h"
#include "ns/init.h"
#include "ns/net_namespace.h"
#include "ns/root_setup.h"
#include "ns/run_dir.h"
#include "sys/error.h"
#include "sys/log.h"
#include "sys/fd.h"
#include <fcntl.h>
#include "sys/files.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <optional>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

extern char** environ;

namespace strata::ns {
namespace {

constexpr int kSetupFailed = 125;
constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Messages between parent and child, one per datagram: kind byte + text. The parent
// sends 'G' (go: ids are mapped); the child the rest.
// 'X' carries the command's exit status, sent once nothing of the sandbox runs any more:
// pid 1's own exit then unmounts the sandbox's root, which the parent need not wait for.
// 'I' is an error of the input (an InputError in prepare_root, e.g. a corrupt layer).
enum : char { kError = 'E', kInputError = 'I', kNote = 'N', kCreated = 'C', kLabel = 'L', kExited = 'X' };

void send_message(int socket, char kind, const std::string& text) {
  std::string datagram = kind + text;
  (void)::send(socket, datagram.data(), datagram.size(), MSG_NOSIGNAL);
}

struct CloneArgs {  // struct clone_args of <linux/sched.h>, version 0
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

// Argument arrays for execvp, built before the clone: one argv per stand-in too, its
// path as argv[0].
struct ExecArrays {
  std::vector<std::string> argv_storage, env_storage, stand_in_storage;
  std::vector<char*> argv, envp;
  std::vector<std::vector<char*>> stand_in_argvs;

  explicit ExecArrays(const SandboxConfig& config)
      : argv_storage(config.argv), env_storage(config.env), stand_in_storage(config.stand_ins) {
    for (std::string& s : argv_storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (std::string& s : env_storage) envp.push_back(s.data());
    envp.push_back(nullptr);
    for (std::string& s : stand_in_storage) {
      stand_in_argvs.push_back(argv);
      stand_in_argvs.back()[0] = s.data();
    }
  }
};

struct ChildContext {
  const SandboxConfig& config;
  const IdMapPlan& plan;
  const std::string& rootfs;
  ExecArrays& exec;
  const NotifyPolicy& policy;
  int socket;
};

// Linux 6.14 made pid_max a setting of each pid namespace; before, the file is the
// host's, which real root in an identity-mapped namespace could change: never write it.
bool pid_max_is_per_namespace() {
  utsname u{};
  if (::uname(&u) != 0) return false;
  unsigned major = 0, minor = 0;
  if (std::sscanf(u.release, "%u.%u", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 14);
}

// In the child, once its ids are mapped (the pid namespace's pid_max is written through
// the host's /proc, which shows the writer's own namespace's).
void limit_processes(uint32_t limit, int socket) {
  rlimit nproc{limit, limit};
  if (::setrlimit(RLIMIT_NPROC, &nproc) != 0)
    fail_errno(fmt::format("cannot limit the sandbox to {} processes (RLIMIT_NPROC)", limit));
  if (!pid_max_is_per_namespace()) {
    send_message(socket, kNote, "pids limit: RLIMIT_NPROC only (the kernel has no pid_max per pid namespace)");
    return;
  }
  std::string value = std::to_string(uint64_t{limit} + 300);
  Fd file(::open("/proc/sys/kernel/pid_max", O_WRONLY | O_CLOEXEC));
  if (!file || ::write(file.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
    fail_errno(fmt::format("cannot set the sandbox's pid_max to {}", value));
}

// Every signal to its default action, as the command gets them (exec keeps those ignored).
void reset_signal_dispositions() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
}

// Runs in a vfork child: system calls only.
[[noreturn]] void exec_command(const ChildContext& ctx) {
  const SandboxConfig& config = ctx.config;
  if (config.uid != 0 || config.gid != 0) {
    (void)::setgroups(0, nullptr);
    if (::setresgid(config.gid, config.gid, config.gid) != 0 || ::setresuid(config.uid, config.uid, config.uid) != 0) {
      log_from_child({"cannot switch to the command's uid/gid in the sandbox: ", std::strerror(errno)});
      ::_exit(126);
    }
  }
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  environ = ctx.exec.envp.data();
  ::execvp(ctx.exec.argv[0], ctx.exec.argv.data());
  int err = errno;
  for (auto& stand_in : ctx.exec.stand_in_argvs) {
    if (err != ENOENT) break;
    ::execv(stand_in[0], stand_in.data());
    err = errno;
  }
  if (!ctx.exec.stand_in_argvs.empty() && err == ENOENT)
    log_from_child({"cannot run ", ctx.exec.argv[0], " in the sandbox, nor any stand-in for it: ", std::strerror(err)});
  else
    log_from_child({"cannot run ", ctx.exec.argv[0], " in the sandbox: ", std::strerror(err)});
  ::_exit(err == ENOENT ? 127 : 126);
}

[[noreturn]] void sandbox_child(const ChildContext& ctx) {
  try {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // The mount points made in the root and what the command makes get the same modes
    // whatever the caller's umask: a layer read back from the sandbox is reproducible.
    ::umask(022);
    std::optional<NetNamespaceMaker> own_network;
    if (!ctx.config.network) own_network.emplace();
    reset_signal_dispositions();  // while the parent maps ids
    char go = 0;
    ssize_t n;
    do n = ::read(ctx.socket, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1 || go != 'G') ::_exit(kSetupFailed);  // the parent could not map ids, or died

    if (!ctx.plan.deny_setgroups) (void)::setgroups(0, nullptr);
    if (ctx.config.pids_limit > 0) limit_processes(ctx.config.pids_limit, ctx.socket);
    if (::sethostname("strata", 6) != 0) fail_errno("cannot set the sandbox's hostname");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail_errno("cannot make mounts private");
    if (ctx.config.prepare_root) send_message(ctx.socket, kLabel, ctx.config.prepare_root(ctx.rootfs));
    if (ctx.config.prepare_only) {
      send_message(ctx.socket, kExited, "0");
      ::_exit(0);
    }

    RootSetupReport report;
    std::string filter;
    setup_root(ctx.rootfs, ctx.config.binds, ctx.config.tmp_size, [&] {
      filter = compile_command_filter(ctx.policy);  // while the net namespace is being made
      if (own_network) own_network->enter();
      return own_network.has_value();
    }, report, ctx.config.read_only_root);
    if (::chdir(ctx.config.cwd.c_str()) != 0)
      fail_errno(fmt::format("cannot enter the working directory {} in the sandbox", ctx.config.cwd));
    confine_sandbox_init();
    for (const std::string& note : report.notes) send_message(ctx.socket, kNote, note);
    for (const std::string& path : report.created_paths) send_message(ctx.socket, kCreated, path);

    int status = run_init([&] { exec_command(ctx); }, filter, ctx.policy);
    send_message(ctx.socket, kExited, std::to_string(status));
    ::_exit(status);
  } catch (const InputError& e) {
    send_message(ctx.socket, kInputError, e.what());
  } catch (const std::exception& e) {
    send_message(ctx.socket, kError, e.what());
  } catch (...) {
    send_message(ctx.socket, kError, "the sandbox setup failed");
  }
  ::_exit(kSetupFailed);
}

// Blocks the forwarded signals for the duration of a run; restores the mask after.
class BlockedSignals {
public:
  BlockedSignals() {
    sigemptyset(&set_);
    for (int sig : kForwardedSignals) sigaddset(&set_, sig);
    ::pthread_sigmask(SIG_BLOCK, &set_, &saved_);
  }
  ~BlockedSignals() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  const sigset_t& set() const { return set_; }

private:
  sigset_t set_, saved_;
};

// Sandboxes whose command is done and whose pid 1 is still unmounting their root.
std::vector<pid_t>& exiting_sandboxes() {
  static std::vector<pid_t> pids;
  return pids;
}

void reap_exiting_sandboxes() {
  for (pid_t pid : exiting_sandboxes())
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  exiting_sandboxes().clear();
}

void send_signal(int pidfd, int sig) { ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0); }

void validate(const SandboxConfig& config) {
  if (config.prepare_only) {
    if (!config.prepare_root) fail_input("nothing to do in the sandbox");
    return;
  }
  if (config.argv.empty()) fail_input("no command to run in the sandbox");
  if (!config.rootfs.empty() && !is_directory(config.rootfs))
    fail_input("sandbox root {} is not a directory", config.rootfs);
  if (config.rootfs.empty() && !config.prepare_root)
    fail_input("the sandbox needs a root directory or something to mount as its root");
  for (const BindMount& bind : config.binds) {
    if (!path_exists(bind.source)) fail_input("bind source {} does not exist", bind.source);
    if (bind.target.empty() || bind.target[0] != '/')
      fail_input("bind target {:?} must be an absolute path inside the sandbox", bind.target);
  }
  if (config.cwd.empty() || config.cwd[0] != '/')
    fail_input("working directory {:?} must be an absolute path inside the sandbox", config.cwd);
}

} // namespace

std::vector<std::string> default_env() {
  std::vector<std::string> env{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"};
  if (const char* term = std::getenv("TERM")) env.push_back(std::string("TERM=") + term);
  return env;
}

SandboxResult run_sandbox(const SandboxConfig& config) {
  reap_exiting_sandboxes();
  validate(config);
  IdMapPlan plan = config.id_plan ? *config.id_plan : plan_id_maps(config.id_mode);
  std::optional<RunDir> run_dir;
  std::string rootfs = config.rootfs;
  if (config.prepare_only) rootfs = "";
  else if (rootfs.empty()) rootfs = run_dir.emplace("strata-run").path();
  else rootfs = absolute_path(rootfs);
  ExecArrays exec(config);
  NotifyPolicy policy;
  // A command run as a user other than root may not chown, as on a host.
  policy.record_owners = plan.mode == IdMode::Single && config.uid == 0;
  Fd owner_table;
  if (!config.owner_table.empty()) {
    owner_table.reset(::open(config.owner_table.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (!owner_table) fail_errno("cannot open the owner table " + config.owner_table);
    policy.owner_table_fd = owner_table.get();
    policy.lower_records = config.lower_owner_table;
  }

  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) != 0) fail_errno("socketpair");
  Fd parent_end(sockets[0]), child_end(sockets[1]);
  BlockedSignals blocked;
  std::fflush(nullptr);

  int pidfd = -1;
  CloneArgs args{};
  // No CLONE_NEWNET: the child has its net namespace made in the background.
  args.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0)
    fail_errno("cannot create the sandbox's namespaces (are unprivileged user namespaces enabled? "
               "sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces)");
  if (pid == 0) {
    parent_end.reset();
    sandbox_child(ChildContext{config, plan, rootfs, exec, policy, child_end.get()});
  }
  Fd pidfd_owner(pidfd);
  child_end.reset();

  auto reap = [&] {
    int status = 0;
    while (::waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  };
  try {
    write_id_maps(plan, static_cast<pid_t>(pid));
  } catch (...) {
    send_signal(pidfd, SIGKILL);
    reap();
    throw;
  }
  std::string send_failure;  // reported unless the child says why it stopped first
  if (::send(parent_end.get(), "G", 1, MSG_NOSIGNAL) != 1) {
    send_failure = fmt::format("cannot start the sandbox: {}", std::strerror(errno));
    send_signal(pidfd, SIGKILL);
  }

  Fd signals(::signalfd(-1, &blocked.set(), SFD_CLOEXEC | SFD_NONBLOCK));
  Fd timer;
  if (config.timeout.count() > 0) {
    timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    itimerspec when{};
    when.it_value.tv_sec = config.timeout.count();
    if (!timer || ::timerfd_settime(timer.get(), 0, &when, nullptr) != 0) fail_errno("cannot set the timeout");
  }
  if (config.meanwhile) {
    try {
      config.meanwhile();
    } catch (...) {
      send_signal(pidfd, SIGKILL);
      reap();
      throw;
    }
  }
  // What the child says, read as it comes; its last word is the command's status.
  SandboxResult result;
  result.mode_used = plan.mode;
  std::string error, input_error;
  std::optional<int> said_status;
  bool reset_seen = false;
  auto read_messages = [&] {
    char buf[8192];
    for (;;) {
      ssize_t n = ::recv(parent_end.get(), buf, sizeof buf, MSG_DONTWAIT);
      // A child that left "G" unread resets the socket: the error comes first,
      // what it sent is still queued behind it.
      if (n < 0 && errno == ECONNRESET && !reset_seen) {
        reset_seen = true;
        continue;
      }
      if (n <= 0) return;
      std::string text(buf + 1, static_cast<size_t>(n - 1));
      switch (buf[0]) {
      case kError: error = text; break;
      case kInputError: input_error = text; break;
      case kNote: result.notes.push_back(text); break;
      case kCreated: result.created_paths.push_back(text); break;
      case kLabel: result.root_label = text; break;
      case kExited: said_status = std::atoi(text.c_str()); break;
      default: break;
      }
    }
  };

  bool timed_out = false;
  pollfd fds[4] = {{pidfd, POLLIN, 0}, {signals.get(), POLLIN, 0}, {parent_end.get(), POLLIN, 0},
                   {timer.get(), POLLIN, 0}};
  for (;;) {
    if (::poll(fds, timer ? 4 : 3, -1) < 0) {
      if (errno == EINTR) continue;
      send_signal(pidfd, SIGKILL);
      reap();
      fail_errno("poll");
    }
    if (fds[0].revents) break;
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      // The terminal's signals (SI_KERNEL) reach the sandbox's init itself, which is in
      // strata's process group: only those sent to strata alone are passed on.
      while (::read(signals.get(), &info, sizeof info) == sizeof info)
        if (info.ssi_code != SI_KERNEL) send_signal(pidfd, static_cast<int>(info.ssi_signo));
    }
    if (fds[2].revents) {
      read_messages();
      if (said_status && !timed_out) break;
      if (fds[2].revents & (POLLHUP | POLLERR)) fds[2].fd = -1;  // the child is going: pidfd says when
    }
    if (timer && (fds[3].revents & POLLIN)) {
      timed_out = true;
      send_signal(pidfd, SIGKILL);  // pid 1 dies, and its pid namespace with it
      fds[3].fd = -1;
    }
  }
  if (said_status && !timed_out) {
    result.exit_status = *said_status;
    // Nothing of the sandbox runs; its pid 1 is unmounting the root, which takes as long
    // as starting one. Reaped at the next run_sandbox (or by init, once strata exits).
    exiting_sandboxes().push_back(static_cast<pid_t>(pid));
  } else {
    int status = reap();
    read_messages();
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  if (timed_out) fail_work("the command timed out after {} s: the sandbox was killed", config.timeout.count());
  if (!input_error.empty()) fail_input("{}", input_error);
  if (!error.empty()) fail_work("sandbox setup failed: {}", error);
  if (!send_failure.empty()) fail_work("{}", send_failure);
  return result;
}

} // namespace strata::ns
