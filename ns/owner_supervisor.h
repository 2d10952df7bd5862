// Ownership and device nodes the sandbox's user namespace cannot hold, recorded where
// rootless tools keep them: the xattr user.containers.override_stat = "UID:GID:MODE[:TYPE]"
// (fuse-overlayfs' and containers/storage's format: decimal ids as seen inside the
// sandbox, octal permission bits, TYPE char-MAJ-MIN or block-MAJ-MIN for devices).
//
// The command's process loads a seccomp filter (ns/confine.h) whose SCMP_ACT_NOTIFY rules
// send these calls to the sandbox's init, which answers them (init shares the command's mounts, so
// paths mean the same; absolute paths resolve inside /proc/PID/root, relative ones from
// /proc/PID/cwd or the dirfd; every notification is checked still valid after the
// target's /proc files are opened and before acting):
//  - single-id mode: chown, fchown, fchownat, lchown (and the *32 variants) set the
//    requested owner in the xattr (the file keeps the caller as its owner on disk) and
//    succeed; as the kernel does, chown of a non-directory clears setuid, and setgid when
//    group-executable. chmod, fchmod, fchmodat(2) of a file that has the xattr update its
//    MODE too (and the file); without the xattr they run unchanged. Symlinks, devices,
//    fifos and sockets cannot hold user xattrs: chown of them succeeds unrecorded.
//    stat() inside still shows the real owner (root): the record is for the layer.
//  - every mode: mknod/mknodat of a block device or of a character device other than
//    0:0 (an overlay whiteout, which the kernel allows) creates an empty regular file
//    with the xattr "UID:GID:MODE:char-MAJ-MIN" (the creator's ids) instead, since no
//    user namespace may create device nodes.
// Where user xattrs are refused (NotifyPolicy::owner_table_fd), the same records go to an
// owner table instead (sys/owner_table.h), by the file's path in the sandbox's root.
#pragma once
#include "sys/owner_table.h"
#include "sys/fd.h"
#include "sys/override_stat.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct seccomp_notif;
struct seccomp_notif_resp;

namespace strata::ns {

struct NotifyPolicy {
  bool record_owners = false;  // single-id mode: chown/chmod family
  bool emulate_devices = true; // mknod of devices, every mode
  // Where user xattrs are refused (a Nix build): the records go to this owner table
  // (sys/owner_table.h; an fd open for appending), by path in the sandbox's root, for
  // files on the root's own mount (what reaches the layer); chown of other files
  // succeeds unrecorded. -1: the override_stat xattr.
  int owner_table_fd = -1;
  // With owner_table_fd: the records of the layers the root stacks (what the diff reads
  // for a copied-up file), so that a partial chown of a base file keeps the base's
  // other fields. Null: none.
  const OwnerTable* lower_records = nullptr;

  bool any() const { return record_owners || emulate_devices; }
};

// In init: answers the notifications arriving on the listener.
class OwnerSupervisor {
public:
  OwnerSupervisor(Fd listener, const NotifyPolicy& policy);
  OwnerSupervisor(const OwnerSupervisor&) = delete;
  OwnerSupervisor& operator=(const OwnerSupervisor&) = delete;
  ~OwnerSupervisor();

  int fd() const { return listener_.get(); }
  // Receives and answers one notification (call when fd() is readable). Never throws.
  void handle_one();

  class Records; // where records go: the xattr, or the owner table

private:
  Fd listener_;
  NotifyPolicy policy_;
  std::unique_ptr<Records> records_;
  ::seccomp_notif* request_ = nullptr;
  ::seccomp_notif_resp* response_ = nullptr;
};

} // namespace strata::ns
