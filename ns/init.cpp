#include "ns/init.h"

#include "ns/confine.h"
#include "sys/error.h"
#include "sys/log.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace strata::ns {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

bool send_fd(int socket, int fd) {
  char byte = 'L';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
  return ::sendmsg(socket, &msg, MSG_NOSIGNAL) == 1;
}

// The fd sent by send_fd, or an invalid Fd when the command closed the socket first.
Fd receive_fd(int socket) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  cmsghdr* cmsg = n > 0 ? CMSG_FIRSTHDR(&msg) : nullptr;
  if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) return Fd();
  int fd;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return Fd(fd);
}

// In a vfork child: system calls only.
[[noreturn]] void command_child(const std::function<void()>& exec_command, const std::string& filter,
                                const NotifyPolicy& policy, int socket) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // A session of its own: the caller's terminal is no controlling tty of the command, so
  // it cannot push input into the caller's shell (TIOCSTI, CVE-2017-5226) nor be stopped
  // or hung up by it.
  if (::setsid() < 0) {
    log_from_child({"cannot start a new session for the command: ", std::strerror(errno)});
    ::_exit(126);
  }
  int listener = load_compiled_filter(filter, policy.any());
  if (listener < 0) {
    log_from_child({"cannot load the seccomp filter: ", std::strerror(errno)});
    ::_exit(126);
  }
  if (policy.any() && !send_fd(socket, listener)) {
    log_from_child({"cannot hand the seccomp listener to init: ", std::strerror(errno)});
    ::_exit(126);
  }
  exec_command();
  ::_exit(126);
}

// Kills and reaps every other process of the sandbox (pid 1's kill(-1) reaches them
// all), so that once init has said the command's status nothing of the sandbox runs.
void end_the_rest() {
  ::kill(-1, SIGKILL);
  while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
  }
}

int status_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

} // namespace

int run_init(const std::function<void()>& exec_command, const std::string& filter, const NotifyPolicy& policy) {
  ::prctl(PR_SET_NAME, "strata-init", 0, 0, 0);
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  for (int sig : kForwarded) sigaddset(&handled, sig);
  if (::sigprocmask(SIG_BLOCK, &handled, nullptr) != 0) fail_errno("sigprocmask");
  Fd signals(::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals) fail_errno("signalfd");

  int sockets[2] = {-1, -1};
  if (policy.any() && ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) != 0)
    fail_errno("socketpair");
  Fd init_end(sockets[0]), command_end(sockets[1]);

  // vfork: no page tables to copy and no copy-on-write faults for a big process.
  pid_t command = ::vfork();
  if (command < 0) fail_errno("cannot start the command");
  if (command == 0) command_child(exec_command, filter, policy, command_end.get());
  command_end.reset();

  std::optional<OwnerSupervisor> supervisor;
  if (policy.any()) {
    Fd listener = receive_fd(init_end.get());
    if (listener) supervisor.emplace(std::move(listener), policy);
  }
  init_end.reset();

  pollfd fds[2] = {{signals.get(), POLLIN, 0}, {supervisor ? supervisor->fd() : -1, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, supervisor ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      fail_errno("poll");
    }
    if (supervisor && (fds[1].revents & POLLIN)) supervisor->handle_one();
    if (supervisor && (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL))) {
      supervisor.reset();  // no task uses the filter any more
      fds[1].fd = -1;
    }
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo info;
    while (::read(signals.get(), &info, sizeof info) == sizeof info) {
      int sig = static_cast<int>(info.ssi_signo);
      if (sig != SIGCHLD) {
        ::kill(command, sig);
        continue;
      }
      for (;;) {
        int status;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) break;
        if (pid == command) {
          end_the_rest();
          return status_code(status);
        }
      }
    }
  }
}

} // namespace strata::ns
