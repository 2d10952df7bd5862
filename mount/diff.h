// Reads an overlay upper dir (or a layer dir made by unpack_layer_dir) back as a layer
// diff: LayerEntries in layer order (sorted bytewise within each directory, parents
// before children) for the one layer writer to write.
//
// Conversions, so that a layer round-trips through unpack_layer_dir exactly:
//  - a 0:0 character device X (overlayfs' whiteout) -> an empty File ".wh.X", mode
//    0600, owned by 0:0; a ".wh.X" regular file (kept where mknod was refused) as is;
//  - a directory with user.overlay.opaque=y or trusted.overlay.opaque=y -> the
//    Directory entry, then a File ".wh..wh..opq" with the directory's owner and
//    permission bits, before the directory's children;
//  - owner, mode and type from options.owner_table or user.containers.override_stat when present (a regular
//    file recorded as a device, fifo or socket comes back as that), else the uid/gid of
//    umoci's user.rootlesscontainers, else the ids on disk mapped back through
//    options.id_map (host -> container; an id outside the map becomes 65534, the
//    overflow id, as the kernel shows it);
//  - xattrs: user.* and security.capability are copied (also security.* kept as
//    user.containers.override_security.*); overlay and rootless bookkeeping
//    (user.containers.*, user.overlay.*, trusted.overlay.*, user.rootlesscontainers) and
//    other security.*/system.* names are not;
//  - files with several links -> a Hardlink entry to the first path seen;
//  - sockets are skipped (a tar cannot hold them).
// An upper dir with overlay redirects or metacopy files (whose data lives in a lower
// layer) cannot be read as a diff: WorkError (mount with redirect_dir=off, metacopy=off).
#pragma once
#include "image/layer_entry.h"
#include "mount/id_map.h"
#include "sys/owner_table.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace strata::mount {

struct DiffOptions {
  // Container id -> host id ranges the tree was written through; empty: ids as on disk.
  IdMapping id_map;
  // The mtime of every entry (the layer rules: the spec's, never the clock).
  int64_t mtime = 1;
  // Names for the recorded ids; default: "root" for 0, else "".
  std::function<Owner(uint32_t uid, uint32_t gid)> owner_names;
  // Where user xattrs are refused (sys/owner_table.h): the dir's owner table (records
  // of owners, modes, device types and opaque dirs, ahead of the xattrs), and the lower
  // layer dirs the overlay stacked under it, topmost first, each with its table beside
  // it: a file or dir copied up from one of them keeps the owner recorded there.
  const OwnerTable* owner_table = nullptr;
  std::vector<std::string> lower_dirs;
  // Emit the dir itself first, as a Directory entry with path "" (a whole tree's tar,
  // as `tar -C dir -cf - .` writes "./"; a layer diff has no root entry).
  bool include_root = false;
};

struct DiffStats {
  uint64_t entries = 0;
  uint64_t file_bytes = 0;
  uint64_t whiteouts = 0;
  uint64_t opaque_dirs = 0;
};

// Calls visit for each entry. A File's content_fd is open for the duration of the call
// only (one file open at a time).
DiffStats walk_diff(const std::string& dir, const DiffOptions& options, const EntryVisitor& visit);

} // namespace strata::mount
