#include "mount/stacked_records.h"

#include "mount/rooted_fs.h"
#include "sys/error.h"
#include "sys/fd.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <string_view>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

namespace strata::mount {
namespace {

constexpr std::string_view kUserOriginXattr = "user.overlay.origin";

// Whether the name is listed (Nix's filter refuses getxattr but lets listxattr through;
// the overlay's own markers are set by the kernel, which the filter does not see).
bool has_origin(int fd, const std::string& what) {
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  std::string list;
  for (;;) {
    ssize_t size = ::listxattr(proc.c_str(), nullptr, 0);
    if (size < 0) {
      if (errno == ENOTSUP) return false;
      fail_errno("cannot list xattrs of " + what);
    }
    list.resize(static_cast<size_t>(size));
    ssize_t n = ::listxattr(proc.c_str(), list.data(), list.size());
    if (n >= 0) {
      list.resize(static_cast<size_t>(n));
      break;
    }
    if (errno != ERANGE) fail_errno("cannot list xattrs of " + what);
  }
  for (size_t pos = 0; pos < list.size();) {
    size_t end = list.find('\0', pos);
    if (end == std::string::npos) end = list.size();
    if (std::string_view(list).substr(pos, end - pos) == kUserOriginXattr) return true;
    pos = end + 1;
  }
  return false;
}

// Whether the layer at `dir` (its table: `table`) hides the path of a layer below it.
bool hides(const std::string& dir, const OwnerTable& table, const std::vector<std::string>& parts) {
  if (parts.empty()) return true; // every layer has its root
  Fd at(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!at) return false;
  for (size_t k = 0; k < parts.size(); ++k) {
    if (table.is_opaque(join_components(parts, k))) return true;
    struct stat st;
    if (::fstatat(at.get(), parts[k].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (k + 1 == parts.size() || !S_ISDIR(st.st_mode)) return true;
    at = Fd(::openat(at.get(), parts[k].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!at) return false;
  }
  return false;
}

} // namespace

OwnerTable merged_lower_records(const std::vector<std::string>& lower_dirs) {
  std::vector<OwnerTable> tables;
  for (const std::string& dir : lower_dirs) tables.push_back(OwnerTable::load(owner_table_path(dir)));
  OwnerTable merged;
  for (size_t i = 0; i < tables.size(); ++i)
    for (const auto& [path, stat] : tables[i].records()) {
      if (merged.find(path)) continue;
      const std::vector<std::string> parts = split_member_name(path, path);
      bool hidden = false;
      for (size_t j = 0; j < i && !hidden; ++j) hidden = hides(lower_dirs[j], tables[j], parts);
      if (!hidden) merged.set(path, stat);
    }
  return merged;
}

std::optional<size_t> StackedRecords::origin_layer(int fd, const struct stat& mine, const std::string& path,
                                                   const std::string& what) {
  if (lower_dirs_.empty()) return std::nullopt;
  const bool origin = has_origin(fd, what);
  for (size_t i = 0; i < lower_dirs_.size(); ++i) {
    struct stat st;
    std::string below = lower_dirs_[i] + "/" + path;
    if (::lstat(below.c_str(), &st) != 0) continue;
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) return std::nullopt;
    // The overlay (index=off) sets no origin on a copy-up of a file with several links:
    // a regular file over a hard-linked one of the layer is taken as its copy. (A file
    // the script made anew in its place is taken so too: nothing tells them apart.)
    if (!origin && !(S_ISREG(mine.st_mode) && S_ISREG(st.st_mode) && st.st_nlink > 1)) return std::nullopt;
    if (!lower_tables_[i]) lower_tables_[i] = OwnerTable::load(owner_table_path(lower_dirs_[i]));
    lower_modes_[i] = st.st_mode;
    return i;
  }
  return std::nullopt;
}

std::optional<OverrideStat> StackedRecords::find(int fd, const struct stat& mine, const std::string& path,
                                                 const std::string& what) {
  if (upper_)
    if (const OverrideStat* o = upper_->find(path)) return *o;
  std::optional<size_t> i = origin_layer(fd, mine, path, what);
  if (!i) return std::nullopt;
  const OverrideStat* o = lower_tables_[*i]->find(path);
  if (!o) return std::nullopt;
  OverrideStat kept = *o;
  if ((mine.st_mode & 07777) != (lower_modes_[*i] & 07777)) kept.mode = mine.st_mode & 07777;
  return kept;
}

std::optional<Xattrs> StackedRecords::find_xattrs(int fd, const struct stat& mine, const std::string& path,
                                                  const std::string& what) {
  if (upper_)
    if (const Xattrs* x = upper_->find_xattrs(path)) return *x;
  std::optional<size_t> i = origin_layer(fd, mine, path, what);
  if (!i) return std::nullopt;
  const Xattrs* x = lower_tables_[*i]->find_xattrs(path);
  if (!x) return std::nullopt;
  return *x;
}

} // namespace strata::mount
