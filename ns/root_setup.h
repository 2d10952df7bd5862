// Inside the sandbox child's private mount namespace: turns a directory into the root
// of the sandbox (minimal /dev, fresh /proc, read-only /sys, tmpfs /tmp, bind mounts)
// and pivot_roots into it. See ns/sandbox.h for the layout.
#pragma once
#include "ns/sandbox.h"

#include <string>
#include <vector>

namespace strata::ns {

struct RootSetupReport {
  std::vector<std::string> notes;          // parts left out, and why
  std::vector<std::string> created_paths;  // mount points created in rootfs (inside paths)
};

// rootfs must be a directory; it is bound onto itself first, so it need not be a mount
// point. Paths inside rootfs are resolved inside it (a symlink in the rootfs cannot
// send a mount point outside). own_network: the sandbox has its own net namespace (a
// fresh sysfs may be mounted). On return the process's root and cwd are the new root.
void setup_root(const std::string& rootfs, const std::vector<BindMount>& binds, bool own_network,
                RootSetupReport& report);

} // namespace strata::ns
