// Upper dirs the caller can read back. A root script may leave a file or dir its own
// host user cannot read: in subuid mode `chown 5:5 /etc/secret && chmod 600 /etc/secret`
// (the /etc/shadow pattern) leaves it owned by a subordinate id, no bit for the caller;
// in any mode `chmod 000 /root/locked` leaves no bit for anyone. Such entries get their
// owner and mode recorded (where no record is there already) in
// user.containers.override_stat or, where user xattrs are refused, the owner table, then
// are given to the reader with the owner's read bits (files u+rw, dirs u+rwx), so
// mount/diff.h reads the same owner and mode from the record as it would have from the
// disk. No program runs: the work is done by the caller, or (for entries of other ids)
// in a user namespace holding them.
#pragma once
#include "mount/id_map.h"
#include "sys/owner_table.h"

#include <cstdint>
#include <string>
#include <vector>

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

struct ReadableOptions {
  TreeReader reader;
  // Ids as stat() shows them -> the layer's (as the diff maps them); empty: the same.
  IdMapping id_map;
  // Where user xattrs are refused: records go to this table of dir's, and what is
  // recorded is what the diff would have read (this table, then, for a copied-up entry,
  // the table of the lower dir it came from: mount/stacked_records.h).
  OwnerTable* owner_table = nullptr;
  std::vector<std::string> lower_dirs;
};

// Records and hands over each such entry as said above; needs the right to chown (root
// of the user namespace the ids are mapped in) unless reader owns them already. Returns
// how many it changed. WorkError when an xattr cannot be written.
uint64_t make_readable(const std::string& dir, const ReadableOptions& options);

} // namespace strata::mount
