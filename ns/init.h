// The sandbox's pid 1: starts the command, reaps every zombie, forwards signals and
// answers the command's seccomp notifications until the command exits.
#pragma once
#include "ns/owner_record.h"

#include <functional>

namespace strata::ns {

// Forks the command: the child resets its signal mask and dispositions, loads the
// command's seccomp filter (ns/confine.h) and hands its listener to init, then calls
// exec_command (which must exec or _exit). Init then serves until the command exits
// and returns the command's exit status, or 128+N when signal N killed it.
// SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to init by a process (not by the terminal,
// which signals the command's process group itself) are forwarded to the command.
int run_init(const std::function<void()>& exec_command, const NotifyPolicy& policy);

} // namespace strata::ns
