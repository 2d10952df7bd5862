// The last steps of sandbox setup: what the sandbox's init and its command may still
// do. See kKeptCapabilities and kDeniedSyscalls in ns/sandbox.h.
#pragma once
#include "ns/owner_record.h"
#include "ns/sys/fd.h"

namespace strata::ns {

// In init, after pivot_root: cuts the capability bounding set to kKeptCapabilities,
// sets init's own capabilities to those plus SYS_PTRACE (init reads the memory of its
// descendants to answer seccomp notifications; the command never gets it), clears the
// ambient set and sets no_new_privs. Throws WorkError on failure.
void confine_sandbox_init();

// In the command's process, before exec: loads one seccomp filter with the denylist
// (EPERM) and the notification rules of `policy`, and returns its listener fd (invalid
// when the policy has none). The filter covers the native architecture only: system
// calls of other ABIs (i386, x32) kill the process, the libseccomp default, rather than
// paying to compile the rules three times on every start.
Fd load_command_filter(const NotifyPolicy& policy);

} // namespace strata::ns
