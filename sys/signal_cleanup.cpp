#include "sys/signal_cleanup.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace strata {
namespace {

enum : int { kFree = 0, kFilling = 1, kFile = 2, kTree = 3 };

struct Slot {
  std::atomic<int> state{kFree};
  pid_t owner = 0;  // a forked child inherits the table, not the paths
  char path[PATH_MAX];
};

constexpr int kSlots = 64;
Slot slots[kSlots];

constexpr int kSignals[] = {SIGTERM, SIGINT, SIGHUP};

// Removes dirfd/name and what is below it, with system calls only (no allocation: it
// runs in a signal handler). What it cannot remove stays for the next run's sweep.
void remove_path(int dirfd, const char* name, int depth) {
  if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR || depth > 64) return;
  int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES && ::fchmodat(dirfd, name, 0700, 0) == 0)
    fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    ::fchmod(fd, 0700);  // a read-only dir of the tree's own
    alignas(dirent64) char buffer[2048];
    for (int pass = 0; pass < 2; ++pass) {  // entries removed while listing may hide others
      ::lseek(fd, 0, SEEK_SET);
      ssize_t n;
      while ((n = ::getdents64(fd, buffer, sizeof buffer)) > 0) {
        for (ssize_t at = 0; at < n;) {
          auto* entry = reinterpret_cast<dirent64*>(buffer + at);
          at += entry->d_reclen;
          const char* child = entry->d_name;
          if (std::strcmp(child, ".") != 0 && std::strcmp(child, "..") != 0) remove_path(fd, child, depth + 1);
        }
      }
    }
    ::close(fd);
  }
  ::unlinkat(dirfd, name, AT_REMOVEDIR);
}

extern "C" void remove_registered_and_die(int sig) {
  pid_t self = ::getpid();
  for (Slot& slot : slots) {
    int state = slot.state.load(std::memory_order_acquire);
    if ((state == kFile || state == kTree) && slot.owner == self) remove_path(AT_FDCWD, slot.path, 0);
  }
  // The handler was reset on entry (SA_RESETHAND) and the signal is blocked while it runs:
  // raised again, it ends the process as soon as the handler returns.
  ::raise(sig);
}

} // namespace

void install_signal_cleanup() {
  struct sigaction action {};
  action.sa_handler = remove_registered_and_die;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int sig : kSignals) sigaddset(&action.sa_mask, sig);  // one cleanup at a time
  for (int sig : kSignals) {
    struct sigaction old {};
    // A signal the caller ignores (nohup) stays ignored.
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &action, nullptr);
  }
}

SignalsHeld::SignalsHeld() {
  sigset_t held;
  sigemptyset(&held);
  for (int sig : kSignals) sigaddset(&held, sig);
  ::pthread_sigmask(SIG_BLOCK, &held, &saved_);
}

SignalsHeld::~SignalsHeld() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

CleanupOnSignal::CleanupOnSignal(const std::string& path, Kind kind) {
  if (path.size() >= PATH_MAX) return;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!slots[i].state.compare_exchange_strong(expected, kFilling, std::memory_order_acquire)) continue;
    std::memcpy(slots[i].path, path.c_str(), path.size() + 1);
    slots[i].owner = ::getpid();
    slots[i].state.store(kind == Kind::File ? kFile : kTree, std::memory_order_release);
    slot_ = i;
    return;
  }
}

CleanupOnSignal::CleanupOnSignal(CleanupOnSignal&& other) noexcept : slot_(std::exchange(other.slot_, -1)) {}

CleanupOnSignal& CleanupOnSignal::operator=(CleanupOnSignal&& other) noexcept {
  if (this != &other) {
    release();
    slot_ = std::exchange(other.slot_, -1);
  }
  return *this;
}

void CleanupOnSignal::release() {
  if (slot_ < 0) return;
  slots[slot_].state.store(kFree, std::memory_order_release);
  slot_ = -1;
}

} // namespace strata
