// Inside the sandbox child's private mount namespace: turns a directory into the root
// of the sandbox (minimal /dev, fresh /proc, read-only /sys, tmpfs /tmp, bind mounts)
// and pivot_roots into it. See ns/sandbox.h for the layout.
#pragma once
#include "ns/sandbox.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace strata::ns {

struct RootSetupReport {
  std::vector<std::string> notes;          // parts left out, and why
  std::vector<std::string> created_paths;  // mount points created in rootfs (inside paths)
};

// rootfs must be a directory; it is bound onto itself first, so it need not be a mount
// point. Paths inside rootfs are resolved inside it (a symlink in the rootfs cannot
// send a mount point outside). enter_own_network is called before /sys is mounted: it
// moves the caller into the sandbox's own net namespace and returns true, or returns
// false when the sandbox shares the host's (a fresh sysfs needs one's own). On return
// the process's root and cwd are the new root.
// tmp_size: the /tmp tmpfs's size in bytes (0: the kernel's default). read_only_root:
// the root mount is made read-only last (SandboxConfig::read_only_root).
void setup_root(const std::string& rootfs, const std::vector<BindMount>& binds, uint64_t tmp_size,
                const std::function<bool()>& enter_own_network, RootSetupReport& report,
                bool read_only_root = false);

} // namespace strata::ns
