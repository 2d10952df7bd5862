#include "mount/unpack.h"

#include "image/whiteout.h"
#include "image/layer_reader.h"
#include "sys/override_stat.h"
#include "sys/owner_table.h"
#include "mount/rooted_fs.h"
#include "sys/error.h"
#include "sys/fd.h"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <memory>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <unordered_set>
#include <vector>

namespace strata::mount {
namespace {


enum class Mode { LayerDir, Apply };

// What the process may do, from its effective capabilities (in its own user namespace).
struct Privileges {
  bool chown = false, dac_override = false, mknod = false, setfcap = false, sys_admin = false;
  uid_t euid = 0;
  gid_t egid = 0;
};

Privileges current_privileges() {
  Privileges p;
  p.euid = ::geteuid();
  p.egid = ::getegid();
  cap_t caps = cap_get_proc();
  if (!caps) return p;
  auto has = [&](cap_value_t c) {
    cap_flag_value_t v = CAP_CLEAR;
    return cap_get_flag(caps, c, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
  };
  p.chown = has(CAP_CHOWN);
  p.dac_override = has(CAP_DAC_OVERRIDE);
  p.mknod = has(CAP_MKNOD);
  p.setfcap = has(CAP_SETFCAP);
  p.sys_admin = has(CAP_SYS_ADMIN);
  cap_free(caps);
  return p;
}

// libarchive reading a LayerInput; errors of the input itself are rethrown as they were.
class TarReader {
public:
  // A member owns the archive, so that it is freed when opening it throws too.
  explicit TarReader(LayerInput& input)
      : input_(input), buffer_(1 << 18), owned_(archive_read_new(), archive_read_free), archive_(owned_.get()) {
    if (!archive_) throw std::bad_alloc();
    support_layer_compressions(archive_);
    archive_read_support_format_tar(archive_);
    if (archive_read_open(archive_, this, nullptr, &TarReader::read_callback, nullptr) != ARCHIVE_OK) fail();
  }
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next entry, or nullptr at the end of the archive.
  archive_entry* next() {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(archive_, &entry);
    if (r == ARCHIVE_EOF) return nullptr;
    if (r < ARCHIVE_WARN) fail();
    return entry;
  }

  // Streams the current entry's data: sink(data, size, offset).
  template <typename Sink> void read_data(const std::string& entry, Sink&& sink) {
    for (;;) {
      const void* data = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int r = archive_read_data_block(archive_, &data, &size, &offset);
      if (r == ARCHIVE_EOF) return;
      if (r < ARCHIVE_WARN) fail(entry);
      sink(data, size, offset);
    }
  }

private:
  static la_ssize_t read_callback(archive* a, void* client, const void** out) {
    auto* self = static_cast<TarReader*>(client);
    try {
      size_t n = self->input_.read(self->buffer_.data(), self->buffer_.size());
      *out = self->buffer_.data();
      return static_cast<la_ssize_t>(n);
    } catch (...) {
      self->error_ = std::current_exception();
      archive_set_error(a, EIO, "read failed");
      return -1;
    }
  }

  [[noreturn]] void fail(const std::string& entry = "") {
    if (error_) std::rethrow_exception(error_);
    const char* why = archive_error_string(archive_);
    std::string what = why ? why : "unreadable tar";
    if (entry.empty()) fail_input("layer {}: not a readable tar: {}", input_.name(), what);
    fail_input("layer {}: entry '{}': {}", input_.name(), entry, what);
  }

  LayerInput& input_;
  std::vector<char> buffer_;
  std::unique_ptr<archive, int (*)(archive*)> owned_;
  archive* archive_;
  std::exception_ptr error_;
};

// What an entry is in the layer: the truth that lands on disk or in override_stat.
struct Wanted {
  uint32_t uid = 0, gid = 0, mode = 0755;
  OverrideType type = OverrideType::Dir;
  uint32_t dev_major = 0, dev_minor = 0;

  OverrideStat as_override() const { return {uid, gid, mode & 07777, type, dev_major, dev_minor}; }
};

class Unpacker {
public:
  Unpacker(LayerInput& input, const std::string& dir, const UnpackOptions& options, Mode mode)
      : input_(input), dir_(dir), options_(options), mode_(mode), privileges_(current_privileges()) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail_input("cannot open the unpack target {}: {}", dir, std::strerror(errno));
    root_.reset(fd);
    if (mode_ == Mode::LayerDir) require_empty();
    // Applied layers share one table: the records of the layers below.
    if (options_.owner_table && mode_ == Mode::Apply) table_ = OwnerTable::load(owner_table_path(dir_));
  }

  UnpackStats run() {
    TarReader reader(input_);
    while (archive_entry* e = reader.next()) {
      ++stats_.entries;
      unpack_entry(reader, e);
    }
    finish();
    return stats_;
  }

private:
  void require_empty() {
    if (!list_names_at(root_.get(), dir_).empty()) fail_work("cannot unpack a layer into {}: the directory is not empty", dir_);
  }

  std::string where(const std::string& path) const { return path.empty() ? dir_ : dir_ + "/" + path; }

  // ---- entries ----

  void unpack_entry(TarReader& reader, archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    if (!raw) fail_input("layer {}: an entry has no readable name", input_.name());
    const std::string name = raw;
    std::vector<std::string> comps = split_member_name(name, fmt::format("layer {}: tar entry '{}'", input_.name(), name));
    for (size_t i = 0; i < comps.size(); ++i) {
      // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs, …) is not content.
      if (std::string_view(comps[i]).starts_with(whiteout_meta_prefix) && !(i + 1 == comps.size() && comps[i] == opaque_marker))
        return;
    }
    const mode_t type = archive_entry_filetype(e);
    if (comps.empty()) {
      if (type != AE_IFDIR) fail_input("layer {}: tar entry '{}' names the layer root but is not a directory",
                                       input_.name(), name);
      root_entry(e, name);
      return;
    }
    const std::string& leaf = comps.back();
    if (leaf == opaque_marker) return opaque(comps, name);
    if (std::string_view(leaf).starts_with(whiteout_prefix)) return whiteout(reader, e, comps, name);
    if (archive_entry_hardlink(e)) return hardlink(e, comps, name);
    if (type == AE_IFREG) count_content(e, name);
    switch (type) {
    case AE_IFREG: return regular_file(reader, e, comps, name, wanted(e, OverrideType::File, name));
    case AE_IFDIR: return directory(e, comps, name);
    case AE_IFLNK: return symlink(e, comps, name);
    case AE_IFCHR:
    case AE_IFBLK: return device(reader, e, comps, name);
    case AE_IFIFO: return fifo(reader, e, comps, name);
    default:
      fail_input("layer {}: tar entry '{}' has an unsupported type (octal {:o})", input_.name(), name, type);
    }
  }

  // Checked against options.max_bytes from the sizes the headers declare, before a byte
  // is written: a gzip bomb is refused at its first big member.
  void count_content(archive_entry* e, const std::string& name) {
    if (options_.max_bytes == 0) return;
    uint64_t size = archive_entry_size_is_set(e) ? static_cast<uint64_t>(std::max<la_int64_t>(archive_entry_size(e), 0)) : 0;
    content_bytes_ += size;
    if (size > options_.max_bytes || content_bytes_ > options_.max_bytes)
      fail_input("layer {}: its files hold more than the {} bytes allowed (at tar entry '{}', {} bytes)",
                 input_.name(), options_.max_bytes, name, size);
  }

  Wanted wanted(archive_entry* e, OverrideType type, const std::string& name) const {
    la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
    if (uid < 0 || uid > 0xFFFFFFFE || gid < 0 || gid > 0xFFFFFFFE)
      fail_input("layer {}: tar entry '{}' has an invalid owner {}:{}", input_.name(), name, uid, gid);
    Wanted w;
    w.uid = static_cast<uint32_t>(uid);
    w.gid = static_cast<uint32_t>(gid);
    w.mode = archive_entry_perm(e) & 07777;
    w.type = type;
    return w;
  }

  void root_entry(archive_entry* e, const std::string& name) {
    Wanted w = wanted(e, OverrideType::Dir, name);
    settle(root_.get(), w, e, "");
    root_recorded_ = last_recorded_;
    deferred_dir_times_.push_back({"", mtime_of(e)});
  }

  void directory(archive_entry* e, const std::vector<std::string>& comps, const std::string& name) {
    const std::string path = join_components(comps, comps.size());
    int parent = parent_dir(comps, name, true);
    const std::string& leaf = comps.back();
    if (!clear_slot(parent, leaf, path, true)) make_dir(parent, leaf, path);
    Fd fd(open_dir_at(parent, leaf, path));
    settle(fd.get(), wanted(e, OverrideType::Dir, name), e, path);
    deferred_dir_times_.push_back({path, mtime_of(e)});
    note_created(path);
    ++stats_.directories;
    // The next entries are most likely this directory's children.
    cached_parent_ = path;
    cached_parent_fd_ = std::move(fd);
    cache_valid_ = true;
  }

  void regular_file(TarReader& reader, archive_entry* e, const std::vector<std::string>& comps,
                    const std::string& name, const Wanted& w) {
    const std::string path = join_components(comps, comps.size());
    int parent = parent_dir(comps, name, true);
    const std::string& leaf = comps.back();
    clear_slot(parent, leaf, path, false);
    int raw = ::openat(parent, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0) fail_errno("cannot create " + where(path));
    Fd fd(raw);
    uint64_t end = 0;
    reader.read_data(name, [&](const void* data, size_t size, la_int64_t offset) {
      const char* p = static_cast<const char*>(data);
      uint64_t at = static_cast<uint64_t>(offset);
      while (size > 0) {
        ssize_t n = ::pwrite(fd.get(), p, size, static_cast<off_t>(at));
        if (n < 0) {
          if (errno == EINTR) continue;
          fail_errno("cannot write " + where(path));
        }
        p += n;
        size -= static_cast<size_t>(n);
        at += static_cast<uint64_t>(n);
        stats_.bytes_written += static_cast<uint64_t>(n);
      }
      end = std::max(end, at);
    });
    // A sparse file may end in a hole.
    if (w.type == OverrideType::File && archive_entry_size_is_set(e) &&
        static_cast<uint64_t>(archive_entry_size(e)) > end)
      if (::ftruncate(fd.get(), archive_entry_size(e)) < 0) fail_errno("cannot extend " + where(path));
    settle(fd.get(), w, e, path);
    set_times(fd.get(), e, path);
    note_created(path);
    ++stats_.files;
  }

  void symlink(archive_entry* e, const std::vector<std::string>& comps, const std::string& name) {
    const char* target = archive_entry_symlink(e);
    if (!target) fail_input("layer {}: symlink '{}' has no readable target", input_.name(), name);
    const std::string path = join_components(comps, comps.size());
    int parent = parent_dir(comps, name, true);
    const std::string& leaf = comps.back();
    clear_slot(parent, leaf, path, false);
    // Stored as is: a symlink is only ever followed by the resolution inside the root.
    if (::symlinkat(target, parent, leaf.c_str()) < 0) fail_errno("cannot create symlink " + where(path));
    Wanted w = wanted(e, OverrideType::Symlink, name);
    if (!set_owner_at(parent, leaf, w, path)) ++stats_.unrecorded_owners;
    timespec times[2] = {mtime_of(e), mtime_of(e)};
    if (::utimensat(parent, leaf.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) fail_errno("cannot set times of " + where(path));
    note_created(path);
    ++stats_.symlinks;
  }

  void hardlink(archive_entry* e, const std::vector<std::string>& comps, const std::string& name) {
    const std::string target_name = archive_entry_hardlink(e);
    std::vector<std::string> target = split_member_name(
        target_name, fmt::format("layer {}: hard link '{}' to '{}'", input_.name(), name, target_name));
    if (target.empty()) fail_input("layer {}: hard link '{}' points at the layer root", input_.name(), name);
    const std::string target_path = join_components(target, target.size());
    int raw_parent = parent_dir(target, name, false);
    if (raw_parent < 0) fail_input("layer {}: hard link '{}': its target '{}' does not exist", input_.name(), name, target_name);
    Fd target_parent(::fcntl(raw_parent, F_DUPFD_CLOEXEC, 0));
    if (!target_parent) fail_errno("cannot duplicate an fd");
    struct stat target_st;
    if (::fstatat(target_parent.get(), target.back().c_str(), &target_st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) fail_input("layer {}: hard link '{}': its target '{}' does not exist", input_.name(), name, target_name);
      fail_errno("cannot stat " + where(target_path));
    }
    if (S_ISDIR(target_st.st_mode))
      fail_input("layer {}: hard link '{}': its target '{}' is a directory", input_.name(), name, target_name);

    const std::string path = join_components(comps, comps.size());
    int parent = parent_dir(comps, name, true);
    const std::string& leaf = comps.back();
    struct stat st;
    if (::fstatat(parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == target_st.st_dev &&
        st.st_ino == target_st.st_ino)
      return; // already that file (a link to itself, or a repeated link)
    clear_slot(parent, leaf, path, false);
    if (::linkat(target_parent.get(), target.back().c_str(), parent, leaf.c_str(), 0) < 0) {
      if (errno == ENOENT)
        fail_input("layer {}: hard link '{}': its target '{}' was removed by the link itself", input_.name(), name, target_name);
      fail_errno(fmt::format("cannot link {} to {}", where(path), where(target_path)));
    }
    // A record is by path where an xattr would be by inode: the link gets its target's.
    if (options_.owner_table) {
      const OverrideStat* o = table_.find(target_path);
      table_.set(path, o ? std::optional<OverrideStat>(*o) : std::nullopt);
      const Xattrs* x = table_.find_xattrs(target_path);
      table_.set_xattrs(path, x ? *x : Xattrs{});
    }
    note_created(path);
    ++stats_.hardlinks;
  }

  void device(TarReader& reader, archive_entry* e, const std::vector<std::string>& comps, const std::string& name) {
    bool is_char = archive_entry_filetype(e) == AE_IFCHR;
    Wanted w = wanted(e, is_char ? OverrideType::CharDevice : OverrideType::BlockDevice, name);
    w.dev_major = archive_entry_rdevmajor(e);
    w.dev_minor = archive_entry_rdevminor(e);
    // A real 0:0 char device would read back as a whiteout: always a typed file.
    bool whiteout_like = is_char && w.dev_major == 0 && w.dev_minor == 0;
    if (!options_.create_devices || !privileges_.mknod || whiteout_like) {
      ++stats_.devices_as_files;
      return regular_file(reader, e, comps, name, w);
    }
    const std::string path = join_components(comps, comps.size());
    int parent = parent_dir(comps, name, true);
    const std::string& leaf = comps.back();
    clear_slot(parent, leaf, path, false);
    mode_t type = is_char ? S_IFCHR : S_IFBLK;
    if (::mknodat(parent, leaf.c_str(), type | (w.mode & 0777), makedev(w.dev_major, w.dev_minor)) < 0) {
      if (errno != EPERM) fail_errno("cannot create device " + where(path));
      ++stats_.devices_as_files;
      return regular_file(reader, e, comps, name, w);
    }
    special_metadata(parent, leaf, w, e, path);
    ++stats_.devices;
  }

  void fifo(TarReader& reader, archive_entry* e, const std::vector<std::string>& comps, const std::string& name) {
    Wanted w = wanted(e, OverrideType::Pipe, name);
    // A fifo cannot carry user xattrs: where its owner or mode cannot be real, it
    // becomes a typed file.
    if (!owner_settable(w) || (w.mode & 06000)) return regular_file(reader, e, comps, name, w);
    const std::string path = join_components(comps, comps.size());
    int parent = parent_dir(comps, name, true);
    const std::string& leaf = comps.back();
    clear_slot(parent, leaf, path, false);
    if (::mkfifoat(parent, leaf.c_str(), w.mode & 0777) < 0) fail_errno("cannot create fifo " + where(path));
    special_metadata(parent, leaf, w, e, path);
    ++stats_.fifos;
  }

  // Owner, mode and times of a node that cannot be opened for writing (device, fifo).
  void special_metadata(int parent, const std::string& leaf, const Wanted& w, archive_entry* e, const std::string& path) {
    if (!set_owner_at(parent, leaf, w, path)) ++stats_.unrecorded_owners;
    if (::fchmodat(parent, leaf.c_str(), w.mode & 01777, 0) < 0) fail_errno("cannot chmod " + where(path));
    timespec times[2] = {mtime_of(e), mtime_of(e)};
    if (::utimensat(parent, leaf.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) fail_errno("cannot set times of " + where(path));
    note_created(path);
  }

  // ---- whiteouts ----

  void whiteout(TarReader& reader, archive_entry* e, const std::vector<std::string>& comps, const std::string& name) {
    const std::string hidden = comps.back().substr(whiteout_prefix.size());
    if (hidden.empty() || hidden == "." || hidden == "..")
      fail_input("layer {}: whiteout '{}' names no file that could be removed", input_.name(), name);
    std::vector<std::string> target = comps;
    target.back() = hidden;
    const std::string path = join_components(target, target.size());

    if (mode_ == Mode::Apply) {
      int parent = parent_dir(target, name, false);
      if (parent < 0 || created_.count(path)) return; // nothing below, or this layer's own
      struct stat st;
      if (::fstatat(parent, hidden.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return;
      remove_tree_at(parent, hidden, where(path));
      forget(path);
      cache_valid_ = false;
      ++stats_.whiteouts;
      return;
    }

    int parent = parent_dir(target, name, true);
    clear_slot(parent, hidden, path, false);
    if (::mknodat(parent, hidden.c_str(), S_IFCHR, makedev(0, 0)) == 0) {
      Wanted root_owned{0, 0, 0, OverrideType::CharDevice};
      set_owner_at(parent, hidden, root_owned, path);
      ++stats_.whiteouts;
      return;
    }
    if (errno != EPERM) fail_errno("cannot create whiteout " + where(path));
    // No mknod here: keep the marker file as the tar has it.
    ++stats_.whiteout_files;
    regular_file(reader, e, comps, name, wanted(e, OverrideType::File, name));
    --stats_.files;
  }

  void opaque(const std::vector<std::string>& comps, const std::string& name) {
    std::vector<std::string> dir(comps.begin(), comps.end() - 1);
    const std::string path = join_components(dir, dir.size());
    if (mode_ == Mode::Apply) {
      std::vector<std::string> probe = dir;
      probe.push_back("x"); // parent_dir opens all but the last component
      int fd = parent_dir(probe, name, false);
      if (fd < 0) return;
      Fd keep(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
      if (!keep) fail_errno("cannot duplicate an fd");
      for (const std::string& child : list_names_at(keep.get(), where(path))) {
        std::string child_path = path.empty() ? child : path + "/" + child;
        if (created_.count(child_path)) continue;
        remove_tree_at(keep.get(), child, where(child_path));
        forget(child_path);
        cache_valid_ = false;
      }
      ++stats_.opaque_dirs;
      return;
    }
    std::vector<std::string> probe = dir;
    probe.push_back("x");
    int fd = parent_dir(probe, name, true);
    if (options_.owner_table) {
      table_.set_opaque(path);
      ++stats_.opaque_dirs;
      return;
    }
    if (::fsetxattr(fd, kUserOpaqueXattr, "y", 1, 0) < 0) fail_errno("cannot mark " + where(path) + " opaque");
    if (options_.trusted_opaque && ::fsetxattr(fd, kTrustedOpaqueXattr, "y", 1, 0) < 0)
      fail_errno("cannot mark " + where(path) + " opaque with " + kTrustedOpaqueXattr);
    ++stats_.opaque_dirs;
  }

  // ---- paths ----

  // The directory holding the last component of `comps`, opened inside the root. Missing
  // directories are made when `create`, else -1 is returned. The fd is borrowed: valid
  // until the next call.
  int parent_dir(const std::vector<std::string>& comps, const std::string& entry, bool create) {
    const size_t count = comps.size() - 1;
    std::string key = join_components(comps, count);
    if (cache_valid_ && key == cached_parent_) return cached_parent_fd_.get();
    int fd = open_in_root(root_.get(), key, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
      int err = errno;
      if (err != ENOENT && err != ENOTDIR && err != ELOOP && err != ENAMETOOLONG)
        fail_errno("cannot open " + where(key), err);
      fd = walk_to(comps, count, entry, create);
      if (fd < 0) return -1;
    }
    cached_parent_ = std::move(key);
    cached_parent_fd_.reset(fd);
    cache_valid_ = true;
    return fd;
  }

  // parent_dir's slow path: one component at a time, making what is missing.
  int walk_to(const std::vector<std::string>& comps, size_t count, const std::string& entry, bool create) {
    Fd cur(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
    if (!cur) fail_errno("cannot duplicate an fd");
    for (size_t i = 0; i < count; ++i) {
      const std::string& c = comps[i];
      const std::string prefix = join_components(comps, i + 1);
      int fd = ::openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0) {
        cur.reset(fd);
        continue;
      }
      int err = errno;
      if (err == ENOENT) {
        if (!create) return -1;
        make_dir(cur.get(), c, prefix);
        Wanted implicit{0, 0, 0755, OverrideType::Dir};
        Fd made(open_dir_at(cur.get(), c, prefix));
        settle(made.get(), implicit, nullptr, prefix);
        note_created(prefix);
        cur = std::move(made);
        continue;
      }
      if (err != ELOOP && err != ENOTDIR) fail_errno("cannot open " + where(prefix), err);
      struct stat st;
      if (::fstatat(cur.get(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) fail_errno("cannot stat " + where(prefix));
      if (!S_ISLNK(st.st_mode)) {
        if (!create) return -1; // nothing can be below a non-directory
        fail_input("layer {}: tar entry '{}': '{}' is not a directory", input_.name(), entry, prefix);
      }
      // A symlink: follow it as the container would, with the root as "/".
      fd = open_in_root(root_.get(), prefix, O_RDONLY | O_DIRECTORY);
      if (fd >= 0) {
        cur.reset(fd);
        continue;
      }
      if (!create && errno != ENAMETOOLONG) return -1;
      if (errno == ENAMETOOLONG) fail_input("layer {}: tar entry '{}': path too long", input_.name(), entry);
      fail_input("layer {}: tar entry '{}': '{}' is a symlink that leads to no directory inside the layer",
                 input_.name(), entry, prefix);
    }
    return cur.release();
  }

  // Empties the place for an entry: an existing directory stays when a directory comes
  // (returns true), anything else is removed (later entries win).
  bool clear_slot(int parent, const std::string& leaf, const std::string& path, bool want_dir) {
    struct stat st;
    if (::fstatat(parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) return false;
      fail_errno("cannot stat " + where(path));
    }
    if (want_dir && S_ISDIR(st.st_mode)) return true;
    remove_tree_at(parent, leaf, where(path));
    forget(path);
    cache_valid_ = false; // the cached parent may have been under it, or reached through it
    return false;
  }

  // A removed tree's records go with it.
  void forget(const std::string& path) {
    if (options_.owner_table) table_.erase_tree(path);
  }

  void make_dir(int parent, const std::string& leaf, const std::string& path) {
    if (::mkdirat(parent, leaf.c_str(), 0700) < 0) fail_errno("cannot create directory " + where(path));
  }

  int open_dir_at(int parent, const std::string& leaf, const std::string& path) {
    int fd = ::openat(parent, leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fail_errno("cannot open directory " + where(path));
    return fd;
  }

  void note_created(const std::string& path) {
    if (mode_ == Mode::Apply) created_.insert(path);
  }

  // ---- metadata ----

  // Whether the owner can be made real on disk.
  bool owner_settable(const Wanted& w) const {
    if (options_.owners == OwnerPolicy::Record) return false;
    auto uid = options_.id_map.host_uid(w.uid), gid = options_.id_map.host_gid(w.gid);
    if (!uid || !gid) return false;
    return privileges_.chown || (*uid == privileges_.euid && *gid == privileges_.egid);
  }

  // chown through the id map; false where the owner cannot be made real.
  bool set_owner(int fd, const Wanted& w, const std::string& path) {
    if (options_.owners == OwnerPolicy::Record) return false;
    auto uid = options_.id_map.host_uid(w.uid), gid = options_.id_map.host_gid(w.gid);
    if (!uid || !gid) return false;
    struct stat st;
    if (::fstat(fd, &st) < 0) fail_errno("cannot stat " + where(path));
    if (st.st_uid == *uid && st.st_gid == *gid) return true;
    if (!privileges_.chown) return false;
    if (::fchown(fd, *uid, *gid) == 0) return true;
    if (errno == EPERM || errno == EINVAL) return false;
    fail_errno("cannot chown " + where(path));
  }

  bool set_owner_at(int parent, const std::string& leaf, const Wanted& w, const std::string& path) {
    if (options_.owners == OwnerPolicy::Record) return false;
    auto uid = options_.id_map.host_uid(w.uid), gid = options_.id_map.host_gid(w.gid);
    if (!uid || !gid) return false;
    struct stat st;
    if (::fstatat(parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) fail_errno("cannot stat " + where(path));
    if (st.st_uid == *uid && st.st_gid == *gid) return true;
    if (!privileges_.chown) return false;
    if (::fchownat(parent, leaf.c_str(), *uid, *gid, AT_SYMLINK_NOFOLLOW) == 0) return true;
    if (errno == EPERM || errno == EINVAL) return false;
    fail_errno("cannot chown " + where(path));
  }

  // Owner, mode, xattrs and the override_stat record of a file or directory.
  void settle(int fd, const Wanted& w, archive_entry* e, const std::string& path) {
    const bool is_dir = w.type == OverrideType::Dir;
    const bool owner_real = set_owner(fd, w, path);
    uint32_t real = w.mode;
    if (!(options_.keep_privileged_bits && owner_real)) real &= ~static_cast<uint32_t>(06000);
    // Keep the tree readable, writable and removable by its unprivileged owner.
    if (!privileges_.dac_override) real |= is_dir ? 0700 : 0600;
    if (::fchmod(fd, real) < 0) fail_errno("cannot chmod " + where(path));
    if (options_.owner_table) table_.set_xattrs(path, e ? kept_xattrs(e) : Xattrs{});
    else if (e) restore_xattrs(fd, e, path);

    const bool typed = w.type != OverrideType::Dir && w.type != OverrideType::File;
    last_recorded_ = options_.owners == OwnerPolicy::Record || !owner_real || real != w.mode || typed;
    if (options_.owner_table) {
      table_.set(path, last_recorded_ ? std::optional<OverrideStat>(w.as_override()) : std::nullopt);
      if (last_recorded_) ++stats_.recorded;
    } else if (last_recorded_) {
      std::string value = encode_override_stat(w.as_override());
      if (::fsetxattr(fd, kOverrideStatXattr, value.data(), value.size(), 0) < 0)
        fail_errno(fmt::format("cannot record the owner of {} in {} (rootless unpacking needs user xattrs)",
                               where(path), kOverrideStatXattr));
      ++stats_.recorded;
    } else if (::fremovexattr(fd, kOverrideStatXattr) < 0 && errno != ENODATA && errno != ENOTSUP) {
      fail_errno("cannot clear " + std::string(kOverrideStatXattr) + " of " + where(path));
    }
  }

  // Owner tables (user xattrs refused): the entry's xattrs a layer keeps (user.*,
  // security.*), recorded instead of set.
  Xattrs kept_xattrs(archive_entry* e) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    Xattrs kept;
    std::unordered_set<std::string> seen;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      std::string_view n = name;
      if (!seen.insert(name).second) continue;
      if (is_internal_xattr(n) || !(n.starts_with("user.") || n.starts_with("security."))) {
        ++stats_.skipped_xattrs;
        continue;
      }
      kept.emplace_back(std::string(n), std::string(static_cast<const char*>(value), size));
    }
    return kept;
  }

  void restore_xattrs(int fd, archive_entry* e, const std::string& path) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    std::unordered_set<std::string> seen; // pax headers may carry a name twice (SCHILY. and LIBARCHIVE.)
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      std::string_view n = name;
      if (!seen.insert(name).second) continue;
      if (is_internal_xattr(n)) { // a layer does not get to forge our bookkeeping
        ++stats_.skipped_xattrs;
        continue;
      }
      bool privileged_name = !std::string_view(n).starts_with("user.");
      bool allowed_real = !privileged_name || (n == "security.capability" ? options_.keep_privileged_bits : true);
      if (allowed_real && ::fsetxattr(fd, name, value, size, 0) == 0) continue;
      if (allowed_real && errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != EACCES &&
          errno != EINVAL && errno != E2BIG && errno != ERANGE)
        fail_errno(fmt::format("cannot set xattr {} on {}", n, where(path)));
      if (privileged_name && (std::string_view(n).starts_with("security.") || std::string_view(n).starts_with("trusted."))) {
        std::string encoded = std::string(kOverrideXattrPrefix) + name;
        if (encoded.size() <= 255 && ::fsetxattr(fd, encoded.c_str(), value, size, 0) == 0) continue;
      }
      ++stats_.skipped_xattrs;
    }
  }

  static timespec mtime_of(archive_entry* e) {
    timespec t{};
    if (archive_entry_mtime_is_set(e)) {
      t.tv_sec = archive_entry_mtime(e);
      t.tv_nsec = archive_entry_mtime_nsec(e);
    }
    return t;
  }

  void set_times(int fd, archive_entry* e, const std::string& path) {
    timespec times[2] = {mtime_of(e), mtime_of(e)};
    if (::futimens(fd, times) < 0) fail_errno("cannot set times of " + where(path));
  }

  void finish() {
    // Directory times last: creating children changed them.
    for (const auto& [path, time] : deferred_dir_times_) {
      Fd fd(open_in_root(root_.get(), path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      if (!fd) continue; // replaced or removed by a later entry
      timespec times[2] = {time, time};
      ::futimens(fd.get(), times);
    }
    if (options_.owner_table) {
      table_.save(owner_table_path(dir_));
      return;
    }
    // fuse-overlayfs honours override_stat in a layer only when the layer root has it.
    if (mode_ == Mode::LayerDir && stats_.recorded > 0 && !root_recorded_) {
      struct stat st;
      if (::fstat(root_.get(), &st) < 0) fail_errno("cannot stat " + dir_);
      OverrideStat root{0, 0, st.st_mode & 07777, OverrideType::Dir};
      std::string value = encode_override_stat(root);
      if (::fsetxattr(root_.get(), kOverrideStatXattr, value.data(), value.size(), 0) < 0)
        fail_errno("cannot record the owner of " + dir_);
    }
  }

  LayerInput& input_;
  const std::string dir_;
  const UnpackOptions& options_;
  const Mode mode_;
  const Privileges privileges_;
  Fd root_;
  UnpackStats stats_;
  uint64_t content_bytes_ = 0;  // the regular files' sizes so far (max_bytes)

  std::string cached_parent_;
  Fd cached_parent_fd_;
  bool cache_valid_ = false;

  bool last_recorded_ = false;
  bool root_recorded_ = false;
  OwnerTable table_; // options_.owner_table: the records, saved by finish()
  std::vector<std::pair<std::string, timespec>> deferred_dir_times_;
  std::unordered_set<std::string> created_; // Apply: paths this layer made (opaque dirs keep them)
};

} // namespace

UnpackStats& UnpackStats::operator+=(const UnpackStats& o) {
  entries += o.entries;
  bytes_written += o.bytes_written;
  files += o.files;
  directories += o.directories;
  symlinks += o.symlinks;
  hardlinks += o.hardlinks;
  fifos += o.fifos;
  devices_as_files += o.devices_as_files;
  devices += o.devices;
  whiteouts += o.whiteouts;
  whiteout_files += o.whiteout_files;
  opaque_dirs += o.opaque_dirs;
  recorded += o.recorded;
  unrecorded_owners += o.unrecorded_owners;
  skipped_xattrs += o.skipped_xattrs;
  return *this;
}

UnpackStats unpack_layer_dir(LayerInput& input, const std::string& dir, const UnpackOptions& options) {
  return Unpacker(input, dir, options, Mode::LayerDir).run();
}

UnpackStats apply_layer(LayerInput& input, const std::string& dir, const UnpackOptions& options) {
  return Unpacker(input, dir, options, Mode::Apply).run();
}

} // namespace strata::mount
