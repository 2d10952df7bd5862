// Upper dirs the caller can read back. A root script in subuid mode may leave a file or
// dir its own host user cannot read (`chown 5:5 /etc/secret && chmod 600 /etc/secret`,
// the /etc/shadow pattern): owned by a subordinate id, no bit for the caller. Such
// entries get their owner and mode recorded in user.containers.override_stat (where no
// record is there already), then are given to the reader with the owner's read bits
// (files u+rw, dirs u+rwx), so mount/diff.h reads the same owner and mode from the
// record as it would have from the disk.
#pragma once
#include <cstdint>
#include <string>

namespace strata::mount {

// Who reads the tree back, in the ids stat() shows where the function runs (inside the
// user namespace: 0:0 for the caller).
struct TreeReader {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// The regular files and dirs under dir (dir itself too) that reader cannot read (dirs:
// read and search), judged by the owner, group and other bits; below an unreadable dir
// nothing more is looked at. Where the tree cannot be listed, that counts as one.
uint64_t count_unreadable(const std::string& dir, TreeReader reader);

// Records and hands over each such entry as said above; needs the right to chown (root
// of the user namespace the ids are mapped in) unless reader owns them already. Returns
// how many it changed. WorkError when an xattr cannot be written.
uint64_t make_readable(const std::string& dir, TreeReader reader);

} // namespace strata::mount
