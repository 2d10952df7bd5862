#include "mount/stacked_records.h"

#include "mount/rooted_fs.h"
#include "sys/error.h"
#include "sys/fd.h"

#include <algorithm>
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

// Whether a layer (a dir and its table) hides a path of the layers below it: it has the
// path, a non-dir or whiteout over one of its parents, or an opaque dir over it. Asked
// for paths in sorted order, it keeps the last parent dir open, so most answers are one
// fstatat.
class LayerView {
public:
  LayerView(std::string dir, const OwnerTable& table) : dir_(std::move(dir)), table_(table) {}

  bool hides(const std::vector<std::string>& parts) {
    if (parts.empty()) return true; // every layer has its root
    std::string parent = join_components(parts, parts.size() - 1);
    if (!parent_ || *parent_ != parent) open_parent(parts, std::move(parent));
    if (parent_state_ != Parent::Dir) return parent_state_ == Parent::Hides;
    struct stat st;
    return ::fstatat(parent_fd_.get(), parts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  }

private:
  enum class Parent { Dir, Missing, Hides };

  void open_parent(const std::vector<std::string>& parts, std::string parent) {
    parent_ = std::move(parent);
    parent_fd_ = Fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    parent_state_ = parent_fd_ ? Parent::Dir : Parent::Missing;
    for (size_t k = 0; k + 1 < parts.size() && parent_state_ == Parent::Dir; ++k) {
      if (table_.is_opaque(join_components(parts, k))) {
        parent_state_ = Parent::Hides;
        break;
      }
      struct stat st;
      if (::fstatat(parent_fd_.get(), parts[k].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) parent_state_ = Parent::Missing;
      else if (!S_ISDIR(st.st_mode)) parent_state_ = Parent::Hides;
      else if (!(parent_fd_ = Fd(::openat(parent_fd_.get(), parts[k].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC))))
        parent_state_ = Parent::Missing;
    }
    if (parent_state_ == Parent::Dir && table_.is_opaque(*parent_)) parent_state_ = Parent::Hides;
  }

  std::string dir_;
  const OwnerTable& table_;
  std::optional<std::string> parent_;
  Fd parent_fd_;
  Parent parent_state_ = Parent::Missing;
};

} // namespace

OwnerTable merged_lower_records(const std::vector<std::string>& lower_dirs) {
  std::vector<OwnerTable> tables;
  for (const std::string& dir : lower_dirs) tables.push_back(OwnerTable::load(owner_table_path(dir)));
  OwnerTable merged;
  for (size_t i = 0; i < tables.size(); ++i) {
    std::vector<LayerView> above;
    for (size_t j = 0; j < i; ++j) above.emplace_back(lower_dirs[j], tables[j]);
    for (const auto& [path, stat] : tables[i].records()) {
      if (merged.find(path)) continue;
      const std::vector<std::string> parts = split_member_name(path, path);
      if (std::none_of(above.begin(), above.end(), [&](LayerView& view) { return view.hides(parts); }))
        merged.set(path, stat);
    }
  }
  return merged;
}

std::optional<StackedRecords::Origin> StackedRecords::origin_layer(int fd, const struct stat& mine,
                                                                   const std::string& path, const std::string& what) {
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
    return Origin{i, st.st_mode};
  }
  return std::nullopt;
}

StackedRecord StackedRecords::find(int fd, const struct stat& mine, const std::string& path, const std::string& what) {
  StackedRecord found;
  const OverrideStat* upper_stat = upper_ ? upper_->find(path) : nullptr;
  const Xattrs* upper_xattrs = upper_ ? upper_->find_xattrs(path) : nullptr;
  if (upper_stat) found.stat = *upper_stat;
  if (upper_xattrs) found.xattrs = *upper_xattrs;
  if (upper_stat && upper_xattrs) return found;
  std::optional<Origin> origin = origin_layer(fd, mine, path, what);
  if (!origin) return found;
  const OwnerTable& table = *lower_tables_[origin->layer];
  if (!upper_stat)
    if (const OverrideStat* o = table.find(path)) {
      found.stat = *o;
      if ((mine.st_mode & 07777) != (origin->mode & 07777)) found.stat->mode = mine.st_mode & 07777;
    }
  if (!upper_xattrs)
    if (const Xattrs* x = table.find_xattrs(path)) found.xattrs = *x;
  return found;
}

} // namespace strata::mount
