// The sandbox's pid 1: starts the command, reaps every zombie, forwards signals and
// answers the command's seccomp notifications until the command exits.
#pragma once
#include "ns/owner_supervisor.h"

#include <functional>
#include <string>

namespace strata::ns {

// Starts the command with vfork: the child clears its signal mask (the dispositions are
// the caller's, which should have reset them), loads `filter` (ns/confine.h:
// compile_command_filter) and hands its listener to init (when policy.any()), then calls
// exec_command, which must exec or _exit and, running in a vfork child, may only make
// system calls (no allocation, no exceptions). Init then serves until the command exits,
// kills and reaps every other process left in the sandbox, and returns the command's exit
// status, or 128+N when signal N killed it. The command runs in a session of its own (no
// controlling tty): SIGINT, SIGTERM, SIGHUP and SIGQUIT init gets, from a process or from
// the caller's terminal (init is in the caller's process group), are forwarded to it.
int run_init(const std::function<void()>& exec_command, const std::string& filter, const NotifyPolicy& policy);

} // namespace strata::ns
