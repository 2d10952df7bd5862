// Rootless unpacking of docker/OCI layer tars (gzip, zstd or uncompressed, detected).
//
// Two ways to unpack:
//  - unpack_layer_dir: one layer into its own directory, to be stacked as an overlay
//    lower dir (kernel overlayfs with `userxattr`, or fuse-overlayfs). Whiteouts `.wh.X`
//    become 0:0 character devices X (kept as `.wh.X` files where mknod is refused:
//    stats.whiteout_files counts them), `.wh..wh..opq` becomes user.overlay.opaque=y on
//    its directory.
//  - apply_layer: one layer onto a directory holding the layers below it (call once per
//    layer, bottom first) to get the flattened rootfs: whiteouts delete, no markers stay.
//
// Ownership: where the process may chown (root, or mapped ids in a user namespace) the
// tar's owners are set for real (through options.id_map). Where it may not, and for
// what the disk cannot hold (device types written as empty regular files, setuid/setgid
// bits, modes made owner-accessible so the tree stays readable and removable), the
// truth is kept in user.containers.override_stat ("UID:GID:MODE:TYPE"); security.*
// xattrs that cannot be set go to user.containers.override_<name>. Symlinks cannot
// carry user xattrs: their owner is lost where it cannot be set
// (stats.unrecorded_owners). read back by walk_diff (mount/diff.h).
//
// Safety: nothing outside the target is created, written, removed or followed, whatever
// the tar holds. Every parent is opened inside the target with openat2(RESOLVE_IN_ROOT)
// and entries are made with *at() calls relative to it; leading "/" is dropped (the
// name is taken relative to the target), symlinks in parents resolve as if the target
// were "/", new files are created O_EXCL|O_NOFOLLOW after removing what was there
// (later entries win), hard links resolve their target inside the target, device nodes
// are only made when asked and permitted. What cannot be made safe is refused with an
// InputError naming the entry: ".." components, a parent that is not a directory,
// hard links to directories or missing files, whiteouts of "", "." or "..". A
// truncated or corrupt tar is an InputError naming the input.
#pragma once
#include "mount/id_map.h"
#include "mount/layer_input.h"

#include <cstdint>
#include <string>

namespace strata::mount {

enum class OwnerPolicy {
  Auto,   // chown where permitted; record in override_stat where not
  Record, // never chown: record every owner and mode in override_stat (fuse-overlayfs
          // with xattr permissions, or a cache shared between id mappings)
};

struct UnpackOptions {
  OwnerPolicy owners = OwnerPolicy::Auto;
  // Container id -> host id for chown. Empty: ids as in the tar.
  IdMapping id_map;
  // Make real block/char devices (needs CAP_MKNOD); else typed empty files + xattr.
  bool create_devices = false;
  // Put privilege-granting bits on disk: setuid/setgid modes (where the owner was set)
  // and security.capability (where permitted). Without this (the default, so that an
  // untrusted layer plants nothing a host user could run), they are kept only in
  // override_stat / user.containers.override_security.capability.
  bool keep_privileged_bits = false;
  // Also mark opaque dirs with trusted.overlay.opaque (root's kernel overlayfs without
  // `userxattr`); failing to set it is an error.
  bool trusted_opaque = false;
  // The most bytes the regular files of one layer may hold (their sizes as the tar
  // declares them); more is an InputError naming the layer and the entry, raised before
  // that entry is written. 0: no limit.
  uint64_t max_bytes = 0;
  // Where user xattrs are refused (a Nix build): what user.containers.override_stat and
  // user.overlay.opaque would hold goes to an owner table (sys/owner_table.h) saved at
  // owner_table_path(dir), the same records by path (a hard link gets its target's);
  // apply_layer adds to the table the layers below left there, and forgets the records
  // of what a layer removes.
  bool owner_table = false;
};

struct UnpackStats {
  uint64_t entries = 0;       // tar members read
  uint64_t bytes_written = 0; // file content bytes written
  uint64_t files = 0, directories = 0, symlinks = 0, hardlinks = 0, fifos = 0;
  uint64_t devices_as_files = 0; // device nodes written as typed empty files
  uint64_t devices = 0;          // real device nodes
  uint64_t whiteouts = 0;        // layer dir: 0:0 char devices; apply: paths removed
  uint64_t whiteout_files = 0;   // layer dir: `.wh.X` kept as files (mknod refused)
  uint64_t opaque_dirs = 0;
  uint64_t recorded = 0;          // entries given user.containers.override_stat
  uint64_t unrecorded_owners = 0; // symlink owners neither settable nor recordable
  uint64_t skipped_xattrs = 0;    // internal names, or not settable nor recordable

  UnpackStats& operator+=(const UnpackStats& o);
};

// Unpacks one layer into `dir`, which must exist and be empty (the layer cache unpacks
// into a fresh temp dir and renames it into place once this returns). On an exception
// the dir holds a partial layer and must be discarded. Deterministic: the same tar and
// options give the same tree (mtimes from the tar; dir mtimes set last).
UnpackStats unpack_layer_dir(LayerInput& input, const std::string& dir, const UnpackOptions& options = {});

// Applies one layer onto `dir` (an existing directory holding the layers below).
UnpackStats apply_layer(LayerInput& input, const std::string& dir, const UnpackOptions& options = {});

} // namespace strata::mount
