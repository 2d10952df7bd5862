// One entry of a layer tar, independent of where it came from (a host tree, a store
// path, an upper dir, a synthesized file). Layer sources produce these in layer order;
// the layer writer turns them into tar bytes.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace strata {

enum class EntryType { File, Directory, Symlink, Hardlink, CharDevice, BlockDevice, Fifo };

struct Owner {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string uname = "root";
  std::string gname = "root";
};

struct LayerEntry {
  // Relative to the layer root, no leading "/" or "./", no trailing "/":
  // "nix/store/abc-foo/bin/foo". Whiteouts are ordinary File entries named ".wh.X".
  std::string path;
  EntryType type = EntryType::File;
  uint32_t mode = 0644; // permission bits with setuid/setgid/sticky (07777)
  Owner owner;
  int64_t mtime = 1;
  uint64_t size = 0;        // File only
  std::string link_target;  // Symlink: target as stored; Hardlink: layer path of the first link
  uint32_t dev_major = 0, dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs; // sorted by name

  // File content. When content_fd >= 0 the writer reads `size` bytes from it (and
  // does not close it); otherwise it uses `inline_data`.
  int content_fd = -1;
  std::string inline_data;
};

// Receives entries in layer order: sorted bytewise within each directory, parents
// before their children (the order GNU tar --sort=name gives).
using EntryVisitor = std::function<void(LayerEntry&)>;

} // namespace strata
