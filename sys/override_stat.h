// The extended attributes rootless tools keep ownership in, where the filesystem
// cannot hold it:
//  - user.containers.override_stat = "UID:GID:MODE[:TYPE]" (containers/storage and
//    fuse-overlayfs): decimal ids, octal permission bits (07777), TYPE one of
//    dir|file|symlink|pipe|socket|block-MAJ-MIN|char-MAJ-MIN. fuse-overlayfs honours it
//    in a layer when the layer's root dir carries it too.
//  - user.containers.override_<name>: an xattr (e.g. security.capability) that could not
//    be set under its own name.
//  - user.rootlesscontainers (umoci, PRoot): a protobuf `Resource { uint32 uid = 1;
//    uint32 gid = 2; }`, where 0xFFFFFFFF means "no change: the owner on disk".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

inline constexpr const char* kOverrideStatXattr = "user.containers.override_stat";
// Where fuse-overlayfs 1.10 keeps them in its upper dir (xattr_permissions=2), in the
// same format; later versions write user.containers.override_stat.
inline constexpr const char* kFuseOverrideStatXattr = "user.fuseoverlayfs.override_stat";
inline constexpr const char* kOverrideXattrPrefix = "user.containers.override_";
inline constexpr const char* kRootlessXattr = "user.rootlesscontainers";
inline constexpr const char* kUserOpaqueXattr = "user.overlay.opaque";
inline constexpr const char* kTrustedOpaqueXattr = "trusted.overlay.opaque";

enum class OverrideType { Unspecified, File, Dir, Symlink, Pipe, Socket, BlockDevice, CharDevice };

struct OverrideStat {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0;  // permission bits with setuid/setgid/sticky (07777)
  OverrideType type = OverrideType::Unspecified;
  uint32_t dev_major = 0, dev_minor = 0;  // BlockDevice/CharDevice only

  bool operator==(const OverrideStat&) const = default;
};

// "0:0:0755:dir"; the TYPE field is left out when Unspecified.
std::string encode_override_stat(const OverrideStat& stat);
// nullopt when the value is malformed. A MODE carrying S_IFMT bits (some writers store
// the whole st_mode) gives the type when no TYPE field names it.
std::optional<OverrideStat> decode_override_stat(std::string_view value);

// umoci's owner record; nullopt for an id means "no change".
struct RootlessOwner {
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;

  bool operator==(const RootlessOwner&) const = default;
};

// nullopt when the bytes are not a valid Resource message. Absent fields are 0 (proto3).
std::optional<RootlessOwner> decode_rootlesscontainers(std::string_view bytes);
std::string encode_rootlesscontainers(const RootlessOwner& owner);

// Internal bookkeeping xattrs of overlay and rootless tools: never copied into a layer,
// never restored from one.
bool is_internal_xattr(std::string_view name);

} // namespace strata
