#include "mount/readable_tree.h"

#include "mount/rooted_fs.h"
#include "mount/stacked_records.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/override_stat.h"

#include <cerrno>
#include <fcntl.h>
#include <optional>
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
  Walker(const std::string& root, const ReadableOptions* fix, TreeReader reader)
      : root_(root), fix_(fix), reader_(reader) {
    if (fix_ && fix_->owner_table) stacked_.emplace(fix_->owner_table, fix_->lower_dirs);
  }

  // rel: the entry's path relative to the root ("" for the root itself).
  void visit(int parent, const std::string& name, const std::string& rel) {
    const std::string path = rel.empty() ? root_ : root_ + "/" + rel;
    struct stat st;
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) ++found_;
      return;
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) return;
    if (!readable(st, reader_)) {
      ++found_;
      if (!fix_) return;
      hand_over(parent, name, rel, path, st);
    }
    if (!S_ISDIR(st.st_mode)) return;
    Fd dir(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
      if (!fix_) ++found_;
      else fail_errno("cannot open " + path);
      return;
    }
    for (const std::string& child : list_names_at(dir.get(), path))
      visit(dir.get(), child, rel.empty() ? child : rel + "/" + child);
  }

  uint64_t found() const { return found_; }

private:
  void hand_over(int parent, const std::string& name, const std::string& rel, const std::string& path,
                 const struct stat& st) {
    // O_PATH: the entry is not readable yet; the xattr and chown go through /proc/self/fd.
    Fd fd(::openat(parent, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) fail_errno("cannot open " + path);
    std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
    OverrideStat record;
    record.uid = fix_->id_map.container_uid(st.st_uid).value_or(kOverflowId);
    record.gid = fix_->id_map.container_gid(st.st_gid).value_or(kOverflowId);
    record.mode = st.st_mode & 07777;
    bool recorded_already = false;
    if (stacked_) { // before the chmod: a copied-up entry's record takes the copy's mode
      if (std::optional<OverrideStat> o = stacked_->find(fd.get(), st, rel, path).stat) record = *o;
      recorded_already = fix_->owner_table->find(rel) != nullptr;
    }
    // Handed over first: reading a user.* xattr needs read permission; st keeps what was.
    if ((st.st_uid != reader_.uid || st.st_gid != reader_.gid) &&
        ::fchownat(fd.get(), "", reader_.uid, reader_.gid, AT_EMPTY_PATH) != 0)
      fail_errno("cannot hand " + path + " to its reader");
    mode_t mode = (st.st_mode & 0777) | (S_ISDIR(st.st_mode) ? 0700 : 0600);
    if (::chmod(proc.c_str(), mode) != 0) fail_errno("cannot make " + path + " readable");
    if (stacked_) {
      if (!recorded_already) fix_->owner_table->set(rel, record);
      return;
    }
    if (::getxattr(proc.c_str(), kOverrideStatXattr, nullptr, 0) < 0) {
      if (errno != ENODATA) fail_errno(fmt::format("cannot read xattr {} of {}", kOverrideStatXattr, path));
      std::string value = encode_override_stat(record);
      if (::setxattr(proc.c_str(), kOverrideStatXattr, value.data(), value.size(), 0) != 0)
        fail_errno(fmt::format("cannot record the owner and mode of {} (which its reader cannot read) in xattr {}",
                               path, kOverrideStatXattr));
    }
  }

  const std::string root_;
  const ReadableOptions* fix_;
  TreeReader reader_;
  std::optional<StackedRecords> stacked_;
  uint64_t found_ = 0;
};

} // namespace

uint64_t count_unreadable(const std::string& dir, TreeReader reader) {
  Walker walker(dir, nullptr, reader);
  walker.visit(AT_FDCWD, dir, "");
  return walker.found();
}

uint64_t make_readable(const std::string& dir, const ReadableOptions& options) {
  Walker walker(dir, &options, options.reader);
  walker.visit(AT_FDCWD, dir, "");
  return walker.found();
}

} // namespace strata::mount
