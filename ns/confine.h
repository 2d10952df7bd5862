// The last step of sandbox setup, in its init after pivot_root: what the command may
// still do. See kKeptCapabilities and kDeniedSyscalls in ns/sandbox.h.
#pragma once

namespace strata::ns {

// Cuts the capability bounding set to kKeptCapabilities, sets the calling process's own
// capabilities to those plus SYS_PTRACE (init reads the memory of its descendants to
// answer seccomp notifications; the command never gets it), clears the ambient set,
// sets no_new_privs and loads the seccomp denylist. Throws WorkError on failure.
void confine_sandbox_init();

} // namespace strata::ns
