// Stacking layer directories into one root, in the current mount namespace (inside the
// sandbox: call it from SandboxConfig::prepare_root, where the caller is root of a user
// namespace and the mount vanishes with the namespace).
//
// Drivers:
//  Kernel  overlayfs with `userxattr` (Linux >= 5.11 in a user namespace): whiteouts are
//          0:0 character devices, opaque dirs carry user.overlay.opaque=y, in the upper
//          dir. Mounted with the new mount API, one `lowerdir+` per layer (Linux >= 6.8,
//          no length limit on the stack) or else one mount(2) option string (its page
//          size limits the total length of the lower paths).
//  Fuse    fuse-overlayfs -o xattr_permissions=2 (needs /dev/fuse): the same upper-dir
//          format, and chown inside records owners in user.containers.override_stat
//          instead of changing them on disk. The daemon lives in the caller's pid
//          namespace and dies with it.
//  Plain   no overlay: the upper dir itself is bound as the root. Without overlayfs there
//          is no copy-up, so lower dirs cannot be stacked: the caller must fill the upper
//          dir with the whole tree and find the changes itself (e.g. by comparing). Used
//          when there are no lower dirs, or when asked for.
//  Auto    Plain without lower dirs; else Kernel, else Fuse when the kernel refuses and
//          fuse-overlayfs is usable (the kernel's reason is kept in the error otherwise).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace strata::mount {

enum class OverlayDriver { Auto, Kernel, Fuse, Plain };

std::string_view overlay_driver_name(OverlayDriver driver);
// auto|kernel|fuse|plain; InputError otherwise.
OverlayDriver parse_overlay_driver(std::string_view name);

struct OverlaySpec {
  // Newest (topmost) first. A dir listed twice is stacked once, at its topmost place
  // (distinct_lower_dirs).
  std::vector<std::string> lower;
  std::string upper;               // receives every change
  std::string work;                // an empty dir on upper's filesystem (not for Plain)
};

// Mounts spec at target (an existing directory) and returns the driver used. Throws
// InputError for a bad spec (missing dirs, no upper) and WorkError, with the kernel's
// own explanation when it gives one, when mounting fails.
OverlayDriver mount_overlay(const OverlaySpec& spec, const std::string& target,
                            OverlayDriver driver = OverlayDriver::Auto);

// lower (topmost first) with each dir kept only at its first, topmost, place. Applying
// a layer again on top of the layers between gives what applying it only that last
// time gives (what it sets, deletes or makes opaque it decides again; what it leaves
// alone keeps what the layers between made of it), so an image whose manifest repeats a
// layer (nixpkgs #214434) stacks it once, at its last occurrence. The kernel refuses a
// dir listed twice ("Too many levels of symbolic links").
std::vector<std::string> distinct_lower_dirs(const std::vector<std::string>& lower);

// fuse-overlayfs is on PATH and /dev/fuse can be opened.
bool fuse_overlay_available();

// The mount(2) data string for the kernel driver ("lowerdir=A:B,upperdir=U,workdir=W,
// userxattr"), with ':' ',' and '\' in paths escaped as overlayfs reads them.
std::string kernel_overlay_options(const OverlaySpec& spec);

} // namespace strata::mount
