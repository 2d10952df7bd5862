// How the sandbox maps user and group ids between the host and its user namespace,
// and how the chosen mapping is written for a freshly cloned child.
//
// Modes, best first (Auto picks the first that is available):
//  Root    the caller is real root: every id the caller's namespace has is mapped to
//          itself (on a host: 0 0 4294967295), so chown works for real.
//  Subuid  the caller has ranges in /etc/subuid and /etc/subgid and newuidmap/newgidmap
//          are installed: 0 → the caller, 1..N → the subordinate range; chown works
//          for real (onto the subordinate ids).
//  Fuse    the best multi-id map above (Root or Subuid) plus an overlay mounted with
//          fuse-overlayfs -o xattr_permissions=2, which records chown in the
//          user.containers.override_stat xattr instead of on disk. Never picked by
//          Auto: wherever it could work, Root or Subuid already does, and with a
//          single id the kernel refuses chown to unmapped ids before FUSE sees it.
//  Single  0 → the caller only. chown and friends are intercepted by the sandbox's
//          init (seccomp user notification) and recorded in the xattr
//          user.containers.override_stat, so ownership still reaches the layer.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace strata::ns {

enum class IdMode { Auto, Root, Subuid, Fuse, Single };

std::string_view id_mode_name(IdMode mode);
// Parses auto|root|subuid|fuse|single; throws InputError naming the bad value.
IdMode parse_id_mode(std::string_view name);

// One line of a uid_map/gid_map: ids [inside, inside+count) ↔ [outside, outside+count).
struct IdRange {
  uint32_t inside = 0;
  uint32_t outside = 0;
  uint32_t count = 0;
};

// A subordinate id range from /etc/subuid or /etc/subgid.
struct SubidRange {
  uint32_t start = 0;
  uint32_t count = 0;
};

// The first range in `contents` (the text of /etc/subuid or /etc/subgid) whose owner
// field is `user_name` or the decimal `id`; nullopt when there is none.
std::optional<SubidRange> find_subid_range(std::string_view contents, std::string_view user_name, uint32_t id);

// Parses the text of /proc/PID/uid_map.
std::vector<IdRange> parse_id_map(std::string_view contents);

// The maps to give the sandbox, and how to write them.
struct IdMapPlan {
  IdMode mode = IdMode::Single;   // Root, Subuid, Fuse or Single (never Auto)
  std::vector<IdRange> uids, gids;
  bool use_newidmap = false;      // write through the setuid helpers newuidmap/newgidmap
  bool deny_setgroups = false;    // an unprivileged single-id map requires it
  std::string why;                // why this mode, for -v ("asked for", "real root", ...)
};

// Resolves the requested mode for the calling process (Auto → the best available) and
// builds the maps. Throws WorkError naming what is missing when a forced mode cannot
// work (e.g. Subuid without a range in /etc/subuid).
IdMapPlan plan_id_maps(IdMode requested);

// Writes the plan's maps for the process `pid`, which must be in a fresh user
// namespace and waiting. Throws WorkError on failure.
void write_id_maps(const IdMapPlan& plan, pid_t pid);

} // namespace strata::ns
