// The last steps of sandbox setup: what the sandbox's init and its command may still
// do. See kKeptCapabilities and kDeniedSyscalls in ns/sandbox.h.
#pragma once
#include "ns/owner_supervisor.h"
#include <string>

namespace strata::ns {

// In init, after pivot_root: cuts the capability bounding set to kKeptCapabilities,
// sets init's own capabilities to those plus SYS_PTRACE (init reads the memory of its
// descendants to answer seccomp notifications; the command never gets it), clears the
// ambient set and sets no_new_privs. Throws WorkError on failure.
void confine_sandbox_init();

// Compiles the command's seccomp filter: the denylist (EPERM) and the notification rules
// of `policy`, as classic BPF (an array of struct sock_filter). The sandbox child
// compiles it while its net namespace is being made, off the start-up's critical path.
// It covers the native architecture only: system calls of other ABIs (i386, x32) kill
// the process, the libseccomp default, rather than compiling the rules three times.
std::string compile_command_filter(const NotifyPolicy& policy);

// Loads a compiled filter into the calling thread (no_new_privs must be set) and returns
// its notification listener (with_listener) or 0; -1 with errno on failure. Only system
// calls: safe in a vfork child.
int load_compiled_filter(const std::string& bpf, bool with_listener);

} // namespace strata::ns
