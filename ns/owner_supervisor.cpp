#include "ns/owner_supervisor.h"

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/owner_table.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <memory>
#include <seccomp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

namespace strata::ns {
namespace {

constexpr uint32_t kUnchanged = 0xFFFFFFFFu;

// A syscall the supervisor answers with this errno (0: success).
struct Answer {
  int error = 0;
  bool run_unchanged = false;  // let the kernel run the call as made
};

struct Refuse {
  int error;
};

[[noreturn]] void refuse(int error) { throw Refuse{error}; }
[[noreturn]] void refuse_errno() { throw Refuse{errno ? errno : EPERM}; }

class Target {
public:
  Target(int listener, const seccomp_notif& request) : listener_(listener), request_(request) {}

  uint64_t arg(int i) const { return request_.data.args[i]; }
  int arg_int(int i) const { return static_cast<int>(static_cast<uint32_t>(arg(i))); }
  uint32_t arg_u32(int i) const { return static_cast<uint32_t>(arg(i)); }
  std::string proc(const std::string& rest) const { return fmt::format("/proc/{}/{}", request_.pid, rest); }

  // Refuses unless the notification is still pending: the pid still names the caller.
  void check_valid() const {
    if (seccomp_notify_id_valid(listener_, request_.id) != 0) refuse(ENOENT);
  }

  Fd open_proc(const std::string& rest, int flags) const {
    Fd fd(::open(proc(rest).c_str(), flags | O_CLOEXEC));
    if (!fd) refuse_errno();
    check_valid();
    return fd;
  }

  std::string read_string(uint64_t address) const {
    Fd mem = open_proc("mem", O_RDONLY);
    std::string out;
    char page[4096];
    while (out.size() < 4096) {
      size_t room = sizeof page - (address % sizeof page);  // never read across a page
      ssize_t n = ::pread(mem.get(), page, room, static_cast<off_t>(address));
      if (n <= 0) refuse(EFAULT);
      if (void* nul = std::memchr(page, 0, static_cast<size_t>(n))) {
        out.append(page, static_cast<char*>(nul) - page);
        return out;
      }
      out.append(page, static_cast<size_t>(n));
      address += static_cast<uint64_t>(n);
    }
    refuse(ENAMETOOLONG);
  }

  // The directory a path given with `dirfd` starts from, and the resolve flags to use:
  // absolute paths inside the caller's root, relative ones from its cwd or dirfd.
  Fd base_for(const std::string& path, int dirfd, uint64_t& resolve) const {
    if (!path.empty() && path[0] == '/') {
      resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
      return open_proc("root", O_PATH | O_DIRECTORY);
    }
    resolve = RESOLVE_NO_MAGICLINKS;
    return open_proc(dirfd == AT_FDCWD ? "cwd" : fmt::format("fd/{}", dirfd), O_PATH);
  }

  // O_PATH fd of what the call names.
  Fd resolve(int dirfd, const std::string& path, bool follow, bool empty_path) const {
    if (path.empty()) {
      if (!empty_path) refuse(ENOENT);
      return open_proc(dirfd == AT_FDCWD ? "cwd" : fmt::format("fd/{}", dirfd), O_PATH);
    }
    uint64_t resolve_flags = 0;
    Fd base = base_for(path, dirfd, resolve_flags);
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
    how.resolve = resolve_flags;
    Fd fd(static_cast<int>(::syscall(SYS_openat2, base.get(), path.c_str(), &how, sizeof how)));
    if (!fd) refuse_errno();
    check_valid();
    return fd;
  }

  // Fields of /proc/PID/status: "Umask:" and the fs ids from "Uid:"/"Gid:".
  struct Status {
    mode_t umask = 022;
    uint32_t fsuid = 0, fsgid = 0;
  };
  Status status() const {
    Fd fd = open_proc("status", O_RDONLY);
    char buf[4096];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) refuse(EPERM);
    std::string_view text(buf, static_cast<size_t>(n));
    Status s;
    auto field = [&](std::string_view key, int index) -> std::optional<uint32_t> {
      size_t at = text.find(key);
      if (at == std::string_view::npos) return std::nullopt;
      std::string_view rest = text.substr(at + key.size());
      rest = rest.substr(0, rest.find('\n'));
      for (int i = 0; i <= index; ++i) {
        size_t start = rest.find_first_not_of(" \t");
        if (start == std::string_view::npos) return std::nullopt;
        rest = rest.substr(start);
        size_t end = rest.find_first_of(" \t");
        if (i == index) {
          uint32_t v = 0;
          int base = key == "Umask:" ? 8 : 10;
          std::from_chars(rest.data(), rest.data() + std::min(end, rest.size()), v, base);
          return v;
        }
        if (end == std::string_view::npos) return std::nullopt;
        rest = rest.substr(end);
      }
      return std::nullopt;
    };
    if (auto v = field("Umask:", 0)) s.umask = *v;
    if (auto v = field("Uid:", 3)) s.fsuid = *v;
    if (auto v = field("Gid:", 3)) s.fsgid = *v;
    return s;
  }

private:
  int listener_;
  const seccomp_notif& request_;
};

} // namespace

// The records of files: in user.containers.override_stat, or (owner_table_fd) in memory
// and appended to the owner table, keyed by the file's path in the sandbox's root.
class OwnerSupervisor::Records {
public:
  Records(int table_fd, const OwnerTable* lower) : table_fd_(table_fd), lower_(lower) {
    // Held handles share the supervisor's fds with the ones it opens to answer: keep
    // half of them free (beyond that, records are by path only).
    struct rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY)
      max_held_ = static_cast<size_t>(files.rlim_cur / 2);
  }
  Records(const Records&) = delete;
  Records& operator=(const Records&) = delete;
  // A table's records are by path: those of files renamed since (mv after chown) move to
  // the file's new path, those of files gone are dropped. Run when nothing of the
  // sandbox's can make a change any more.
  ~Records() {
    try {
      follow_renames();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "strata: owner records of renamed files may be stale: %s\n", e.what());
    }
  }

  // Where records are a table: copies file up (a chown to the ids it has: the overlay
  // copies up on any change of attributes), so that the record reaches the layer even
  // when the script changes nothing else of a base file.
  void copy_up(const Fd& file, const struct stat& st) {
    if (table_fd_ >= 0) (void)::fchownat(file.get(), "", st.st_uid, st.st_gid, AT_EMPTY_PATH);
  }

  // Whether "no record" would let a lower layer's record of the path show through (a
  // table's absent record means the layers below): then the disk's ids are written out.
  bool lower_recorded(const Fd& file) {
    if (table_fd_ < 0 || !lower_) return false;
    auto k = key(file);
    return k && lower_->find(*k);
  }

  // Whether a record of this file can reach the layer (table: it is on the root's mount).
  bool recordable(const Fd& file) { return table_fd_ < 0 || key(file).has_value(); }

  std::optional<OverrideStat> read(const Fd& file) {
    if (table_fd_ < 0) {
      char buf[256];
      ssize_t n = ::getxattr(proc_fd_path(file.get()).c_str(), kOverrideStatXattr, buf, sizeof buf);
      if (n < 0) return std::nullopt;
      return decode_override_stat(std::string_view(buf, static_cast<size_t>(n)));
    }
    auto k = key(file);
    if (!k) return std::nullopt;
    auto it = table_.find(*k);
    if (it != table_.end()) return it->second;
    // Recorded under the path it had before a rename (mv after chown).
    struct stat st;
    if (::fstat(file.get(), &st) == 0)
      if (auto was = held_paths_.find({st.st_dev, st.st_ino}); was != held_paths_.end())
        if (auto r = table_.find(was->second); r != table_.end()) return r->second;
    if (lower_)
      if (const OverrideStat* o = lower_->find(*k)) return *o;
    return std::nullopt;
  }

  // nullopt: no record (the disk is the truth).
  void write(const Fd& file, const std::optional<OverrideStat>& record) {
    if (table_fd_ < 0) {
      std::string path = proc_fd_path(file.get());
      if (!record) {
        if (::removexattr(path.c_str(), kOverrideStatXattr) != 0 && errno != ENODATA) refuse_errno();
        return;
      }
      std::string value = encode_override_stat(*record);
      if (::setxattr(path.c_str(), kOverrideStatXattr, value.data(), value.size(), 0) != 0) refuse_errno();
      return;
    }
    auto k = key(file);
    if (!k) return;
    try {
      OwnerTable::append(table_fd_, *k, record);
    } catch (const Error&) {
      refuse(EIO);
    }
    if (record) table_[*k] = *record;
    else table_.erase(*k);
    held_.erase(*k);
    struct stat st;
    if (record && held_.size() < max_held_ && ::fstat(file.get(), &st) == 0) // readlink of its handle says where it went
      if (Fd held(::fcntl(file.get(), F_DUPFD_CLOEXEC, 3)); held) {
        held_.emplace(*k, std::move(held));
        held_paths_[{st.st_dev, st.st_ino}] = *k;
      }
  }

private:
  static uint64_t mount_id(int fd, const char* path, int flags) {
    struct statx sx{};
    if (::statx(fd, path, flags | AT_STATX_DONT_SYNC, STATX_MNT_ID, &sx) != 0 || !(sx.stx_mask & STATX_MNT_ID))
      refuse_errno();
    return sx.stx_mnt_id;
  }

  // The file's path in the root without the leading "/", or nullopt when it is on a
  // mount of its own (/tmp, /dev, the store) or gone.
  std::optional<std::string> key(const Fd& file) {
    if (root_mount_ == 0) root_mount_ = mount_id(AT_FDCWD, "/", 0);
    if (mount_id(file.get(), "", AT_EMPTY_PATH) != root_mount_) return std::nullopt;
    char buf[4096];
    ssize_t n = ::readlink(proc_fd_path(file.get()).c_str(), buf, sizeof buf);
    if (n <= 0 || n == static_cast<ssize_t>(sizeof buf) || buf[0] != '/') refuse(ENAMETOOLONG);
    std::string path(buf + 1, static_cast<size_t>(n - 1));
    if (path.size() >= 10 && path.compare(path.size() - 10, 10, " (deleted)") == 0) return std::nullopt;
    return path;
  }

  void follow_renames() {
    struct Moved {
      std::string old_path;
      std::optional<std::string> now; // gone: nullopt
      struct stat st;
    };
    std::vector<Moved> moved;
    for (auto& [path, fd] : held_) {
      Moved m{path, std::nullopt, {}};
      try {
        m.now = key(fd);
      } catch (const Refuse&) {
      }
      if (m.now == path) continue;
      if (m.now && ::fstat(fd.get(), &m.st) != 0) m.now.reset();
      moved.push_back(std::move(m));
    }
    // Every old path first: a file may have been moved onto another recorded one.
    for (const Moved& m : moved) OwnerTable::append(table_fd_, m.old_path, std::nullopt);
    for (const Moved& m : moved) {
      if (!m.now) continue;
      // Recorded again at its new path after the move (chown B after mv A B): that record is newer.
      if (auto again = held_.find(*m.now); again != held_.end()) {
        struct stat st;
        if (::fstat(again->second.get(), &st) == 0 && st.st_dev == m.st.st_dev && st.st_ino == m.st.st_ino) continue;
      }
      OwnerTable::append(table_fd_, *m.now, table_.at(m.old_path));
    }
  }

  int table_fd_;
  const OwnerTable* lower_;
  std::map<std::string, Fd> held_;
  std::map<std::pair<dev_t, ino_t>, std::string> held_paths_; // the last path each held file was recorded at
  size_t max_held_ = 512;
  uint64_t root_mount_ = 0;
  std::map<std::string, OverrideStat> table_;
};

namespace {

using Records = OwnerSupervisor::Records;

struct stat stat_of(int fd) {
  struct stat st;
  if (::fstatat(fd, "", &st, AT_EMPTY_PATH) != 0) refuse_errno();
  return st;
}

Answer record_chown(Records& records, const Fd& file, uint32_t uid, uint32_t gid) {
  struct stat st = stat_of(file.get());
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return {};  // cannot hold user xattrs
  if (!records.recordable(file)) return {};
  records.copy_up(file, st);
  std::string path = proc_fd_path(file.get());
  const uint32_t real_mode = st.st_mode & 07777;
  OverrideStat record = records.read(file).value_or(OverrideStat{st.st_uid, st.st_gid, real_mode});
  if (uid != kUnchanged) record.uid = uid;
  if (gid != kUnchanged) record.gid = gid;
  if (!S_ISDIR(st.st_mode)) {
    record.mode &= ~S_ISUID;
    if ((record.mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) record.mode &= ~S_ISGID;
  }
  if (record.mode != real_mode && ::chmod(path.c_str(), record.mode) != 0) refuse_errno();
  if (record.uid == st.st_uid && record.gid == st.st_gid && record.type == OverrideType::Unspecified &&
      !records.lower_recorded(file))
    records.write(file, std::nullopt);
  else
    records.write(file, record);
  return {};
}

Answer record_chmod(Records& records, const Fd& file, uint32_t mode) {
  std::string path = proc_fd_path(file.get());
  std::optional<OverrideStat> record = records.read(file);
  if (!record) return {0, true};
  record->mode = mode & 07777;
  if (::chmod(path.c_str(), record->mode) != 0) refuse_errno();
  records.write(file, *record);
  return {};
}

Answer emulate_mknod(Records& records, const Target& target, int dirfd, uint64_t path_address, uint32_t mode,
                     uint32_t dev, bool record_owners) {
  std::string path = target.read_string(path_address);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : (slash == 0 ? "/" : path.substr(0, slash));
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") refuse(EEXIST);
  Fd parent = target.resolve(dirfd, dir, true, true);
  Target::Status status = target.status();
  const uint32_t perm = mode & 07777 & ~status.umask;
  Fd file(::openat(parent.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, perm));
  if (!file) refuse_errno();
  if (!record_owners) (void)::fchown(file.get(), status.fsuid, status.fsgid);
  OverrideStat record{status.fsuid, status.fsgid, perm, S_ISBLK(mode) ? OverrideType::BlockDevice : OverrideType::CharDevice,
                      major(dev), minor(dev)};
  try {
    records.write(file, record);
  } catch (const Refuse&) {
    ::unlinkat(parent.get(), name.c_str(), 0);
    throw;
  }
  return {};
}

Answer dispatch(Records& records, const Target& t, std::string_view call, const NotifyPolicy& policy) {
  if (policy.record_owners) {
    if (call == "chown" || call == "chown32" || call == "lchown" || call == "lchown32") {
      Fd file = t.resolve(AT_FDCWD, t.read_string(t.arg(0)), call[0] != 'l', false);
      return record_chown(records, file, t.arg_u32(1), t.arg_u32(2));
    }
    if (call == "fchown" || call == "fchown32") {
      Fd file = t.open_proc(fmt::format("fd/{}", t.arg_int(0)), O_PATH);
      return record_chown(records, file, t.arg_u32(1), t.arg_u32(2));
    }
    if (call == "fchownat") {
      int flags = t.arg_int(4);
      Fd file = t.resolve(t.arg_int(0), t.read_string(t.arg(1)), !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH);
      return record_chown(records, file, t.arg_u32(2), t.arg_u32(3));
    }
    if (call == "chmod") return record_chmod(records, t.resolve(AT_FDCWD, t.read_string(t.arg(0)), true, false), t.arg_u32(1));
    if (call == "fchmod") return record_chmod(records, t.open_proc(fmt::format("fd/{}", t.arg_int(0)), O_PATH), t.arg_u32(1));
    if (call == "fchmodat" || call == "fchmodat2") {
      int flags = call == "fchmodat2" ? t.arg_int(3) : 0;
      if (flags & AT_SYMLINK_NOFOLLOW) return {0, true};
      return record_chmod(records, t.resolve(t.arg_int(0), t.read_string(t.arg(1)), true, flags & AT_EMPTY_PATH), t.arg_u32(2));
    }
  }
  if (call == "mknod") return emulate_mknod(records, t, AT_FDCWD, t.arg(0), t.arg_u32(1), t.arg_u32(2), policy.record_owners);
  if (call == "mknodat")
    return emulate_mknod(records, t, t.arg_int(0), t.arg(1), t.arg_u32(2), t.arg_u32(3), policy.record_owners);
  return {0, true};
}

} // namespace

OwnerSupervisor::OwnerSupervisor(Fd listener, const NotifyPolicy& policy)
    : listener_(std::move(listener)), policy_(policy), records_(std::make_unique<Records>(policy.owner_table_fd, policy.lower_records)) {
  if (seccomp_notify_alloc(&request_, &response_) != 0) fail_work("cannot allocate seccomp notification buffers");
}

OwnerSupervisor::~OwnerSupervisor() { seccomp_notify_free(request_, response_); }

void OwnerSupervisor::handle_one() {
  std::memset(request_, 0, sizeof *request_);
  if (seccomp_notify_receive(listener_.get(), request_) != 0) return;  // the caller died meanwhile
  Answer answer;
  try {
    char* name = seccomp_syscall_resolve_num_arch(request_->data.arch, request_->data.nr);
    std::string call = name ? name : "";
    std::free(name);
    Target target(listener_.get(), *request_);
    answer = dispatch(*records_, target, call, policy_);
  } catch (const Refuse& r) {
    answer = {r.error, false};
  } catch (...) {
    answer = {EPERM, false};
  }
  std::memset(response_, 0, sizeof *response_);
  response_->id = request_->id;
  response_->error = answer.error ? -answer.error : 0;
  response_->flags = answer.run_unchanged ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
  seccomp_notify_respond(listener_.get(), response_);
}

} // namespace strata::ns
