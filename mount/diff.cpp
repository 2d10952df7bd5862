#include "mount/diff.h"

#include "image/whiteout.h"
#include "sys/override_stat.h"
#include "sys/owner_table.h"
#include "mount/rooted_fs.h"
#include "mount/stacked_records.h"
#include "sys/error.h"
#include "sys/fd.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <map>
#include <optional>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

namespace strata::mount {
namespace {

// An xattr's value, or nullopt when absent (or unsupported by the filesystem, or refused:
// *refused is then set).
std::optional<std::string> get_xattr(int fd, const char* name, const std::string& what, bool* refused = nullptr) {
  std::string value(256, '\0');
  for (;;) {
    ssize_t n = ::fgetxattr(fd, name, value.data(), value.size());
    if (n >= 0) {
      value.resize(static_cast<size_t>(n));
      return value;
    }
    if (errno == ENOTSUP && refused) *refused = true;
    if (errno == ENODATA || errno == ENOTSUP) return std::nullopt;
    if (errno != ERANGE) fail_errno(fmt::format("cannot read xattr {} of {}", name, what));
    ssize_t size = ::fgetxattr(fd, name, nullptr, 0);
    if (size < 0) fail_errno(fmt::format("cannot read xattr {} of {}", name, what));
    value.resize(static_cast<size_t>(size) + 1);
  }
}

std::vector<std::string> xattr_names(int fd, const std::string& what) {
  std::string list;
  for (;;) {
    ssize_t size = ::flistxattr(fd, nullptr, 0);
    if (size < 0) {
      if (errno == ENOTSUP) return {};
      fail_errno("cannot list xattrs of " + what);
    }
    list.resize(static_cast<size_t>(size));
    ssize_t n = ::flistxattr(fd, list.data(), list.size());
    if (n >= 0) {
      list.resize(static_cast<size_t>(n));
      break;
    }
    if (errno != ERANGE) fail_errno("cannot list xattrs of " + what);
  }
  std::vector<std::string> names;
  for (size_t pos = 0; pos < list.size();) {
    size_t end = list.find('\0', pos);
    if (end == std::string::npos) end = list.size();
    if (end > pos) names.emplace_back(list.substr(pos, end - pos));
    pos = end + 1;
  }
  return names;
}

bool is_opaque_value(const std::optional<std::string>& v) { return v && (*v == "y" || *v == std::string("y\0", 2)); }

bool is_listed(int fd, const char* name, const std::string& what) {
  for (const std::string& n : xattr_names(fd, what))
    if (n == name) return true;
  return false;
}

// Whether fd has the xattr `name` (with a value `accept` takes). Where reading values is
// refused (a Nix build's filter answers getxattr with ENOTSUP but lets listxattr through),
// whether the name is there: the overlay's own markers are set by the kernel, which the
// filter does not see.
bool has_xattr(int fd, const char* name, const std::string& what,
               bool (*accept)(const std::optional<std::string>&) = nullptr) {
  bool refused = false;
  auto value = get_xattr(fd, name, what, &refused);
  if (value) return accept ? accept(value) : true;
  return refused && is_listed(fd, name, what);
}

class DiffWalker {
public:
  DiffWalker(const std::string& dir, const DiffOptions& options, const EntryVisitor& visit)
      : dir_(dir), options_(options), visit_(visit), stacked_(options.owner_table, options.lower_dirs) {}

  DiffStats run() {
    int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail_input("cannot open the layer directory {}: {}", dir_, std::strerror(errno));
    Fd root(fd);
    check_not_redirected(root.get(), dir_);
    if (options_.include_root) {
      struct stat st;
      if (::fstat(root.get(), &st) < 0) fail_errno("cannot stat " + dir_);
      LayerEntry dir_entry = describe(root.get(), st, "");
      emit(dir_entry);
    }
    if (is_opaque(root.get(), "")) {
      struct stat st;
      if (::fstat(root.get(), &st) < 0) fail_errno("cannot stat " + dir_);
      LayerEntry dir_entry = describe(root.get(), st, "");
      emit_opaque_marker(dir_entry, "");
    }
    walk(root.get(), "");
    return stats_;
  }

private:
  std::string where(const std::string& path) const { return path.empty() ? dir_ : dir_ + "/" + path; }

  void walk(int dir_fd, const std::string& prefix) {
    struct Child {
      std::string layer_name; // the name in the layer (".wh.X" for a whiteout device X)
      std::string disk_name;
      struct stat st;
    };
    std::vector<Child> children;
    for (std::string& name : list_names_at(dir_fd, where(prefix))) {
      Child c;
      if (::fstatat(dir_fd, name.c_str(), &c.st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) continue;
        fail_errno("cannot stat " + where(join(prefix, name)));
      }
      if (S_ISSOCK(c.st.st_mode)) continue;
      bool whiteout = S_ISCHR(c.st.st_mode) && c.st.st_rdev == makedev(0, 0);
      c.layer_name = whiteout ? std::string(whiteout_prefix) + name : name;
      if (c.layer_name == opaque_marker) continue; // fuse-overlayfs' opaque marks: is_opaque reads them
      c.disk_name = std::move(name);
      children.push_back(std::move(c));
    }
    std::sort(children.begin(), children.end(),
              [](const Child& a, const Child& b) { return a.layer_name < b.layer_name; });
    for (const Child& c : children) visit_child(dir_fd, prefix, c.disk_name, c.layer_name, c.st);
  }

  static std::string join(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : prefix + "/" + name;
  }

  void visit_child(int dir_fd, const std::string& prefix, const std::string& disk_name, const std::string& layer_name,
                   const struct stat& st) {
    const std::string disk_path = join(prefix, disk_name);
    const std::string path = join(prefix, layer_name);
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) { // an overlay whiteout
      LayerEntry e;
      e.path = path;
      e.type = EntryType::File;
      e.mode = 0600;
      e.owner = names(0, 0);
      e.mtime = options_.mtime;
      ++stats_.whiteouts;
      emit(e);
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      Fd fd(::openat(dir_fd, disk_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) fail_errno("cannot open " + where(disk_path));
      check_not_redirected(fd.get(), where(disk_path));
      LayerEntry e = describe(fd.get(), st, path);
      emit(e);
      if (is_opaque(fd.get(), disk_path)) emit_opaque_marker(e, path);
      walk(fd.get(), disk_path);
      return;
    }
    if (S_ISREG(st.st_mode)) {
      Fd fd(::openat(dir_fd, disk_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) fail_errno("cannot open " + where(disk_path));
      if (has_xattr(fd.get(), "user.overlay.metacopy", where(disk_path)) ||
          has_xattr(fd.get(), "trusted.overlay.metacopy", where(disk_path)))
        fail_work("{} is an overlay metacopy file (its data is in a lower layer); mount the overlay with "
                  "metacopy=off to read it as a diff",
                  where(disk_path));
      LayerEntry e = describe(fd.get(), st, path);
      if (st.st_nlink > 1 && e.type == EntryType::File) {
        auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, path);
        if (!first) {
          e.type = EntryType::Hardlink;
          e.link_target = it->second;
          e.size = 0;
          e.xattrs.clear();
          emit(e);
          return;
        }
      }
      if (e.type == EntryType::File) {
        e.size = static_cast<uint64_t>(st.st_size);
        e.content_fd = fd.get();
        stats_.file_bytes += e.size;
      }
      emit(e); // fd closes after the visitor is done with it
      return;
    }
    // Symlinks, devices, fifos: no user xattrs possible, the disk is the truth.
    LayerEntry e = describe(-1, st, path);
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
      for (;;) {
        ssize_t n = ::readlinkat(dir_fd, disk_name.c_str(), target.data(), target.size());
        if (n < 0) fail_errno("cannot read link " + where(disk_path));
        if (static_cast<size_t>(n) < target.size()) {
          target.resize(static_cast<size_t>(n));
          break;
        }
        target.resize(target.size() * 2);
      }
      e.link_target = std::move(target);
    }
    emit(e);
  }

  // The entry for an inode: type, mode and owner from override_stat, rootlesscontainers
  // or the disk; xattrs. fd is -1 for inodes that cannot carry user xattrs.
  LayerEntry describe(int fd, const struct stat& st, const std::string& path) {
    LayerEntry e;
    e.path = path;
    e.mtime = options_.mtime;
    e.mode = st.st_mode & 07777;
    switch (st.st_mode & S_IFMT) {
    case S_IFDIR: e.type = EntryType::Directory; break;
    case S_IFLNK: e.type = EntryType::Symlink; break;
    case S_IFCHR: e.type = EntryType::CharDevice; break;
    case S_IFBLK: e.type = EntryType::BlockDevice; break;
    case S_IFIFO: e.type = EntryType::Fifo; break;
    default: e.type = EntryType::File; break;
    }
    if (e.type == EntryType::CharDevice || e.type == EntryType::BlockDevice) {
      e.dev_major = major(st.st_rdev);
      e.dev_minor = minor(st.st_rdev);
    }
    uint32_t uid = options_.id_map.container_uid(st.st_uid).value_or(kOverflowId);
    uint32_t gid = options_.id_map.container_gid(st.st_gid).value_or(kOverflowId);

    if (fd >= 0) {
      const std::string what = where(path);
      std::optional<std::string> value = get_xattr(fd, kOverrideStatXattr, what);
      const char* record_name = kOverrideStatXattr;
      if (!value && (value = get_xattr(fd, kFuseOverrideStatXattr, what))) record_name = kFuseOverrideStatXattr;
      if (value) {
        auto o = decode_override_stat(*value);
        if (!o) fail_input("{}: malformed {} '{}'", what, record_name, *value);
        uid = o->uid;
        gid = o->gid;
        e.mode = o->mode;
        apply_recorded_type(e, *o, what);
      } else if (auto rootless = get_xattr(fd, kRootlessXattr, what)) {
        auto r = decode_rootlesscontainers(*rootless);
        if (!r) fail_input("{}: malformed {}", what, kRootlessXattr);
        if (r->uid) uid = *r->uid;
        if (r->gid) gid = *r->gid;
      }
      e.xattrs = layer_xattrs(fd, what);
      if (options_.owner_table) {
        StackedRecord recorded = stacked_.find(fd, st, path, what);
        if (const std::optional<OverrideStat>& o = recorded.stat) {
          uid = o->uid;
          gid = o->gid;
          e.mode = o->mode;
          apply_recorded_type(e, *o, what);
        }
        if (recorded.xattrs) e.xattrs = std::move(*recorded.xattrs);
      }
    }
    if (e.type == EntryType::Symlink) e.mode = 0777;
    e.owner = names(uid, gid);
    return e;
  }

  // A regular file recorded as a device, fifo or socket becomes one again.
  void apply_recorded_type(LayerEntry& e, const OverrideStat& o, const std::string& what) {
    if (e.type != EntryType::File) {
      if (o.type != OverrideType::Unspecified && o.type != OverrideType::Dir)
        fail_input("{}: {} says {} but it is a directory", what, kOverrideStatXattr, encode_override_stat(o));
      return;
    }
    switch (o.type) {
    case OverrideType::CharDevice:
    case OverrideType::BlockDevice:
      e.type = o.type == OverrideType::CharDevice ? EntryType::CharDevice : EntryType::BlockDevice;
      e.dev_major = o.dev_major;
      e.dev_minor = o.dev_minor;
      break;
    case OverrideType::Pipe: e.type = EntryType::Fifo; break;
    case OverrideType::Dir:
      fail_input("{}: {} says {} but it is a regular file", what, kOverrideStatXattr, encode_override_stat(o));
    default: break; // file, unspecified; symlink and socket records on a file are not meaningful: keep the file
    }
  }

  std::vector<std::pair<std::string, std::string>> layer_xattrs(int fd, const std::string& what) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& name : xattr_names(fd, what)) {
      std::string layer_name;
      if (std::string_view(name).starts_with(kOverrideXattrPrefix) && name != kOverrideStatXattr) {
        std::string inner = name.substr(std::string_view(kOverrideXattrPrefix).size());
        if (std::string_view(inner).starts_with("security.") && !is_internal_xattr(inner)) layer_name = inner;
      } else if (is_internal_xattr(name)) {
        continue;
      } else if (std::string_view(name).starts_with("user.") || name == "security.capability") {
        layer_name = name;
      }
      if (layer_name.empty()) continue;
      auto value = get_xattr(fd, name.c_str(), what);
      if (value) out.emplace_back(layer_name, std::move(*value));
    }
    std::sort(out.begin(), out.end());
    // A real xattr and its recorded twin: keep one.
    out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
              out.end());
    return out;
  }

  // fuse-overlayfs 1.10 marks a dir it makes opaque with trusted.overlay.opaque (as
  // root), a regular file .wh..wh..opq and a whiteout device .wh..opq: either file says so.
  static bool has_fuse_opaque_mark(int dir_fd) {
    struct stat st;
    if (::fstatat(dir_fd, std::string(opaque_marker).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
      return true;
    return ::fstatat(dir_fd, std::string(fuse_opaque_whiteout).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
           st.st_rdev == makedev(0, 0);
  }

  bool is_opaque(int dir_fd, const std::string& path) {
    if (options_.owner_table && options_.owner_table->is_opaque(path)) return true;
    if (has_fuse_opaque_mark(dir_fd)) return true;
    return has_xattr(dir_fd, kUserOpaqueXattr, where(path), is_opaque_value) ||
           has_xattr(dir_fd, kTrustedOpaqueXattr, where(path), is_opaque_value);
  }

  void check_not_redirected(int dir_fd, const std::string& what) {
    if (has_xattr(dir_fd, "user.overlay.redirect", what) || has_xattr(dir_fd, "trusted.overlay.redirect", what))
      fail_work("{} is an overlay redirect (a renamed lower directory); mount the overlay with redirect_dir=off "
                "to read it as a diff",
                what);
  }

  void emit_opaque_marker(const LayerEntry& dir_entry, const std::string& path) {
    LayerEntry marker;
    marker.path = join(path, std::string(opaque_marker));
    marker.type = EntryType::File;
    marker.mode = dir_entry.mode & 0777;
    marker.owner = dir_entry.owner;
    marker.mtime = options_.mtime;
    ++stats_.opaque_dirs;
    emit(marker);
  }

  Owner names(uint32_t uid, uint32_t gid) const {
    if (options_.owner_names) {
      Owner o = options_.owner_names(uid, gid);
      o.uid = uid;
      o.gid = gid;
      return o;
    }
    return Owner{uid, gid, uid == 0 ? "root" : "", gid == 0 ? "root" : ""};
  }

  void emit(LayerEntry& e) {
    ++stats_.entries;
    visit_(e);
  }

  const std::string dir_;
  const DiffOptions& options_;
  const EntryVisitor& visit_;
  DiffStats stats_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
  StackedRecords stacked_;
};

} // namespace

DiffStats walk_diff(const std::string& dir, const DiffOptions& options, const EntryVisitor& visit) {
  return DiffWalker(dir, options, visit).run();
}

} // namespace strata::mount
