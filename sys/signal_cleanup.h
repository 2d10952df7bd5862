// Temp files and dirs removed when strata is ended by SIGTERM, SIGINT or SIGHUP (a kill,
// Ctrl-C, a closed terminal), which end the process without running destructors.
// install_signal_cleanup() sets the handlers (strata's main does, first); a
// CleanupOnSignal registers a path while it lives (TempDir and AtomicFile hold one). The
// handler removes what this process registered, with system calls only, then ends the
// process by the same signal (exit status 128+N). What SIGKILL leaves is swept by the
// next strata that makes the same kind of temp path (sys/temp.h: names carry the pid).
// While a sandbox runs these signals are blocked and passed on to it (ns/sandbox.h).
#pragma once
#include <csignal>
#include <string>

namespace strata {

void install_signal_cleanup();

// Holds SIGTERM, SIGINT and SIGHUP back while it lives (pthread_sigmask), so that a path is
// created and registered before one of them is acted on: make one around both.
class SignalsHeld {
public:
  SignalsHeld();
  ~SignalsHeld();
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

private:
  sigset_t saved_;
};

class CleanupOnSignal {
public:
  enum class Kind { File, Tree };
  CleanupOnSignal() = default;
  CleanupOnSignal(const std::string& path, Kind kind);
  CleanupOnSignal(CleanupOnSignal&& other) noexcept;
  CleanupOnSignal& operator=(CleanupOnSignal&& other) noexcept;
  CleanupOnSignal(const CleanupOnSignal&) = delete;
  CleanupOnSignal& operator=(const CleanupOnSignal&) = delete;
  ~CleanupOnSignal() { release(); }

  // No longer removed on a signal (committed, renamed away, or removed already).
  void release();

private:
  int slot_ = -1;  // -1: nothing registered (all slots taken, or released)
};

} // namespace strata
