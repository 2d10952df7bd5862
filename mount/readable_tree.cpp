#include "mount/readable_tree.h"

#include "mount/rooted_fs.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/override_stat.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace strata::mount {
namespace {

bool readable(const struct stat& st, TreeReader reader) {
  mode_t need = S_ISDIR(st.st_mode) ? 05 : 04;
  mode_t bits = st.st_uid == reader.uid ? (st.st_mode >> 6) : st.st_gid == reader.gid ? (st.st_mode >> 3) : st.st_mode;
  return (bits & need) == need;
}

class Walker {
public:
  Walker(TreeReader reader, bool fix) : reader_(reader), fix_(fix) {}

  void visit(int parent, const std::string& name, const std::string& path) {
    struct stat st;
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) ++found_;
      return;
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) return;
    if (!readable(st, reader_)) {
      ++found_;
      if (!fix_) return;
      hand_over(parent, name, path, st);
    }
    if (!S_ISDIR(st.st_mode)) return;
    Fd dir(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
      if (!fix_) ++found_;
      else fail_errno("cannot open " + path);
      return;
    }
    for (const std::string& child : list_names_at(dir.get(), path)) visit(dir.get(), child, path + "/" + child);
  }

  uint64_t found() const { return found_; }

private:
  void hand_over(int parent, const std::string& name, const std::string& path, const struct stat& st) {
    // O_PATH: the entry is not readable yet; the xattr and chown go through /proc/self/fd.
    Fd fd(::openat(parent, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) fail_errno("cannot open " + path);
    std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
    // Handed over first: reading a user.* xattr needs read permission; st keeps what was.
    if ((st.st_uid != reader_.uid || st.st_gid != reader_.gid) &&
        ::fchownat(fd.get(), "", reader_.uid, reader_.gid, AT_EMPTY_PATH) != 0)
      fail_errno("cannot hand " + path + " to its reader");
    mode_t mode = (st.st_mode & 0777) | (S_ISDIR(st.st_mode) ? 0700 : 0600);
    if (::chmod(proc.c_str(), mode) != 0) fail_errno("cannot make " + path + " readable");
    if (::getxattr(proc.c_str(), kOverrideStatXattr, nullptr, 0) < 0) {
      if (errno != ENODATA) fail_errno(fmt::format("cannot read xattr {} of {}", kOverrideStatXattr, path));
      OverrideStat record;
      record.uid = st.st_uid;
      record.gid = st.st_gid;
      record.mode = st.st_mode & 07777;
      std::string value = encode_override_stat(record);
      if (::setxattr(proc.c_str(), kOverrideStatXattr, value.data(), value.size(), 0) != 0)
        fail_errno(fmt::format("cannot record the owner and mode of {} (which its reader cannot read) in xattr {}",
                               path, kOverrideStatXattr));
    }
  }

  TreeReader reader_;
  bool fix_;
  uint64_t found_ = 0;
};

uint64_t walk(const std::string& dir, TreeReader reader, bool fix) {
  Walker walker(reader, fix);
  walker.visit(AT_FDCWD, dir, dir);
  return walker.found();
}

} // namespace

uint64_t count_unreadable(const std::string& dir, TreeReader reader) { return walk(dir, reader, false); }

uint64_t make_readable(const std::string& dir, TreeReader reader) { return walk(dir, reader, true); }

} // namespace strata::mount
