// What the owner tables of an overlay's layers say about one entry of its upper dir
// (sys/owner_table.h; where user xattrs are refused): the upper dir's own record, else,
// for a file or dir the overlay copied up (it lists user.overlay.origin, or is a regular
// file over a hard-linked one, whose copy-up the overlay marks with no origin), the record of
// the layer it came from (the topmost lower dir holding the path; a whiteout there ends
// the search), with the mode of the copy where the script changed it (a chmod the
// supervisor let through). Read by the diff and by mount/readable_tree.h.
#pragma once
#include "sys/owner_table.h"

#include <optional>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace strata::mount {

struct StackedRecord {
  std::optional<OverrideStat> stat;
  std::optional<Xattrs> xattrs; // the layer's xattrs (a copied-up file keeps them)
};

class StackedRecords {
public:
  // lower_dirs: topmost first, each with its table beside it (loaded when first needed).
  StackedRecords(const OwnerTable* upper, std::vector<std::string> lower_dirs)
      : upper_(upper), lower_dirs_(std::move(lower_dirs)), lower_tables_(lower_dirs_.size()) {}

  // fd: the entry in the upper dir (any open mode, O_PATH too); st: its stat; path:
  // relative to the upper dir; what: its name for messages. The upper table's record and
  // xattrs, else those of the layer the entry was copied up from.
  StackedRecord find(int fd, const struct stat& st, const std::string& path, const std::string& what);

private:
  struct Origin {
    size_t layer;
    mode_t mode; // of the entry there
  };
  // The lower dir the entry was copied up from (its table loaded), if any.
  std::optional<Origin> origin_layer(int fd, const struct stat& st, const std::string& path, const std::string& what);

  const OwnerTable* upper_;
  std::vector<std::string> lower_dirs_;
  std::vector<std::optional<OwnerTable>> lower_tables_;
};

// The records of what the stacked lower dirs (topmost first, each with its table beside
// it) show, by path: a path's record is that of the topmost layer having the path, and
// none when a layer above that one has the path too, a non-dir or whiteout over one of
// its parents, or an opaque dir over it. What the supervisor reads for base files.
OwnerTable merged_lower_records(const std::vector<std::string>& lower_dirs);

} // namespace strata::mount
