// Uid/gid maps between the ids a layer (container) uses and the ids on the host, in
// the shape of /proc/PID/uid_map: ranges of (container id, host id, size).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace strata::mount {

// What a host id no map range holds shows as (the kernel's overflow id, "nobody").
inline constexpr uint32_t kOverflowId = 65534;

struct IdRange {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

// An empty list of ranges means "the identity": ids pass through unchanged.
struct IdMapping {
  std::vector<IdRange> uids;
  std::vector<IdRange> gids;

  // nullopt when the id falls in no range of a non-empty map.
  std::optional<uint32_t> host_uid(uint32_t container_uid) const { return to_host(uids, container_uid); }
  std::optional<uint32_t> host_gid(uint32_t container_gid) const { return to_host(gids, container_gid); }
  std::optional<uint32_t> container_uid(uint32_t host_uid) const { return to_container(uids, host_uid); }
  std::optional<uint32_t> container_gid(uint32_t host_gid) const { return to_container(gids, host_gid); }

  // Container root is the given host user; nothing else is mapped (unshare -r).
  static IdMapping single(uint32_t host_uid, uint32_t host_gid) {
    return IdMapping{{IdRange{0, host_uid, 1}}, {IdRange{0, host_gid, 1}}};
  }

private:
  static std::optional<uint32_t> to_host(const std::vector<IdRange>& map, uint32_t id) {
    if (map.empty()) return id;
    for (const IdRange& r : map)
      if (id >= r.container_id && id - r.container_id < r.size) return r.host_id + (id - r.container_id);
    return std::nullopt;
  }
  static std::optional<uint32_t> to_container(const std::vector<IdRange>& map, uint32_t id) {
    if (map.empty()) return id;
    for (const IdRange& r : map)
      if (id >= r.host_id && id - r.host_id < r.size) return r.container_id + (id - r.host_id);
    return std::nullopt;
  }
};

} // namespace strata::mount
