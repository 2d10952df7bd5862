#include "mount/stacked_records.h"

#include "sys/error.h"

#include <cerrno>
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

} // namespace

std::optional<OverrideStat> StackedRecords::find(int fd, const struct stat& mine, const std::string& path,
                                                 const std::string& what) {
  if (upper_)
    if (const OverrideStat* o = upper_->find(path)) return *o;
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
    const OverrideStat* o = lower_tables_[i]->find(path);
    if (!o) return std::nullopt;
    OverrideStat kept = *o;
    if ((mine.st_mode & 07777) != (st.st_mode & 07777)) kept.mode = mine.st_mode & 07777;
    return kept;
  }
  return std::nullopt;
}

} // namespace strata::mount
