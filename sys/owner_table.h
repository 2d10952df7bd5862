// Owners, modes, device types and opaque dirs of a tree, kept in a file of strata's own
// where user xattrs are refused (a Nix build's seccomp filter answers every getxattr and
// setxattr with ENOTSUP; some filesystems hold no user xattrs): what
// user.containers.override_stat and user.overlay.opaque would hold, by path.
//
// Paths are relative to the tree's root, without a leading "/" ("" is the root itself).
// The file is a sequence of records "PATH\0VALUE\0": VALUE is an override_stat encoding
// ("UID:GID:MODE[:TYPE]", sys/override_stat.h), "opaque" (the dir hides what lower
// layers have there), "xattrs:NAME=VALUE,…" (the xattrs a layer gives the file, user.*
// and security.*, name and value in hex; "xattrs:" alone: none), or "" (no record: the
// disk is the truth). A later record of a path
// replaces an earlier one, so writers may append (the sandbox's supervisor does, as the
// script runs). A tree at DIR keeps its table at DIR.owners (owner_table_path).
#pragma once
#include "sys/override_stat.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata {

// Where the table of the tree at `dir` lives: beside it.
std::string owner_table_path(const std::string& dir);

// Whether a user xattr can be set on a file in `dir` (probed with an O_TMPFILE file, or
// on `dir` itself where the filesystem has none: give a dir of strata's own); when not,
// why ("user xattrs are refused in DIR: Operation not supported").
std::optional<std::string> user_xattrs_refused(const std::string& dir);

using Xattrs = std::vector<std::pair<std::string, std::string>>; // name, value

class OwnerTable {
public:
  // A missing file is an empty table; a malformed one is an InputError naming it.
  static OwnerTable load(const std::string& file);

  const OverrideStat* find(std::string_view path) const;
  bool is_opaque(std::string_view path) const;
  // The file's xattrs (sorted by name), or nullptr when it has none recorded.
  const Xattrs* find_xattrs(std::string_view path) const;
  std::vector<std::string> opaque_dirs() const;
  bool empty() const { return stats_.empty() && opaque_.empty() && xattrs_.empty(); }
  const std::map<std::string, OverrideStat, std::less<>>& records() const { return stats_; }
  size_t size() const { return stats_.size(); }

  // nullopt: no record (the disk is the truth).
  void set(const std::string& path, const std::optional<OverrideStat>& stat);
  void set_opaque(const std::string& path);
  // An empty list forgets the path's xattrs.
  void set_xattrs(const std::string& path, Xattrs xattrs);
  // Forgets the records of path and of everything below it (the tree was removed).
  void erase_tree(const std::string& path);

  // Writes the whole table to `file` (replaced atomically), sorted by path.
  void save(const std::string& file) const;

  // One record, appended to an open table file in a single write(2).
  static void append(int fd, std::string_view path, const std::optional<OverrideStat>& stat);

private:
  std::map<std::string, OverrideStat, std::less<>> stats_;
  std::map<std::string, bool, std::less<>> opaque_;
  std::map<std::string, Xattrs, std::less<>> xattrs_;
};

} // namespace strata
