#include "mount/fuse_upper.h"

#include "mount/rooted_fs.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/override_stat.h"

#include <cerrno>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <sys/xattr.h>

namespace strata::mount {
namespace {

std::optional<std::string> xattr_of(int fd, const char* name, const std::string& path) {
  char value[256];
  ssize_t n = ::fgetxattr(fd, name, value, sizeof value);
  if (n >= 0) return std::string(value, static_cast<size_t>(n));
  if (errno == ENODATA) return std::nullopt;
  fail_errno(fmt::format("cannot read xattr {} of {}", name, path));
}

class Recorder {
public:
  void visit(int parent, const std::string& name, const std::string& path) {
    struct stat st;
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("cannot stat " + path);
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) return;
    Fd fd(::openat(parent, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) fail_errno("cannot open " + path);
    if (!xattr_of(fd.get(), kFuseOverrideStatXattr, path)) record(fd.get(), path, st);
    if (S_ISDIR(st.st_mode))
      for (const std::string& child : list_names_at(fd.get(), path)) visit(fd.get(), child, path + "/" + child);
  }

  uint64_t marked() const { return marked_; }

private:
  void record(int fd, const std::string& path, const struct stat& st) {
    OverrideStat owner{st.st_uid, st.st_gid, static_cast<uint32_t>(st.st_mode & 07777)};
    if (auto value = xattr_of(fd, kOverrideStatXattr, path)) {
      auto recorded = decode_override_stat(*value);
      if (!recorded) fail_input("{}: malformed {} '{}'", path, kOverrideStatXattr, *value);
      owner = {recorded->uid, recorded->gid, recorded->mode};
    }
    std::string value = encode_override_stat(owner);
    if (::fsetxattr(fd, kFuseOverrideStatXattr, value.data(), value.size(), 0) != 0)
      fail_errno(fmt::format("cannot record the owner and mode of {} for fuse-overlayfs in xattr {}", path,
                             kFuseOverrideStatXattr));
    ++marked_;
  }

  uint64_t marked_ = 0;
};

} // namespace

uint64_t record_upper_for_fuse(const std::string& upper) {
  Recorder recorder;
  recorder.visit(AT_FDCWD, upper, upper);
  return recorder.marked();
}

} // namespace strata::mount
