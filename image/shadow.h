// dockerTools' shadowSetup: the files user-management tools (useradd, groupadd, su,
// passwd from shadow-utils) need, created in a root filesystem only where missing:
//   etc/passwd       root:x:0:0::/root:/bin/sh
//   etc/shadow       root:!x:::::::                 (mode 0640)
//   etc/group        root:x:0:
//   etc/gshadow      root:x::                       (mode 0640)
//   etc/pam.d/other  the seed's four lines (pam_unix / pam_rootok)
//   etc/login.defs   empty
// Other files are mode 0644, and etc/ and etc/pam.d/ are made (0755) where missing.
// An existing entry at any of these paths (a file, a symlink, anything) is left alone.
// Every path is resolved inside the root (openat2 RESOLVE_IN_ROOT): a symlinked etc/
// pointing outside the root leads back into it, never to the host.
#pragma once
#include <set>
#include <string>
#include <vector>

namespace strata {

struct ShadowSetupReport {
  std::vector<std::string> created; // root-relative paths ("etc/passwd"), in the order above
  std::vector<std::string> kept;    // already there, untouched
};

// root must be an existing directory (InputError naming it otherwise). `below`: paths
// (root-relative) a layer below root already holds, left alone as if root had them.
ShadowSetupReport shadow_setup(const std::string& root, const std::set<std::string>& below = {});

// The files shadow_setup makes, root-relative ("etc/passwd", …), in its order.
std::vector<std::string> shadow_setup_paths();

// The same as a shell snippet for a script running as root in the image (the
// `$shadowSetup` of dockerTools' runAsRoot scripts): creates the same files with the
// same contents and modes under "/", only where missing.
std::string shadow_setup_script();

} // namespace strata
