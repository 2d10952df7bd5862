// Test helper: writes layer tars (libarchive, pax) from a list of members, and checks
// trees on disk. Header-only; shared by the mount unit tests.
#pragma once
#include "mount/layer_input.h"
#include "sys/files.h"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cstdint>
#include <cstring>
#include <grp.h>
#include <memory>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/xattr.h>
#include <fcntl.h>
#include <functional>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace strata::mount::test {

struct Member {
  std::string name;
  char type = 'f'; // f file, d dir, l symlink, h hardlink, c char dev, b block dev, p fifo
  std::string data;
  std::string link;
  uint32_t mode = 0644;
  int64_t uid = 0, gid = 0;
  uint32_t major = 0, minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
  int64_t mtime = 1000000;
};

inline Member tar_file(std::string name, std::string data, uint32_t mode = 0644, int64_t uid = 0, int64_t gid = 0) {
  Member m{std::move(name), 'f', std::move(data)};
  m.mode = mode;
  m.uid = uid;
  m.gid = gid;
  return m;
}
inline Member tar_dir(std::string name, uint32_t mode = 0755, int64_t uid = 0, int64_t gid = 0) {
  Member m{std::move(name), 'd'};
  m.mode = mode;
  m.uid = uid;
  m.gid = gid;
  return m;
}
inline Member tar_symlink(std::string name, std::string target) {
  Member m{std::move(name), 'l'};
  m.link = std::move(target);
  m.mode = 0777;
  return m;
}
inline Member tar_hardlink(std::string name, std::string target) {
  Member m{std::move(name), 'h'};
  m.link = std::move(target);
  return m;
}
inline Member tar_device(std::string name, char type, uint32_t major, uint32_t minor, uint32_t mode = 0666) {
  Member m{std::move(name), type};
  m.major = major;
  m.minor = minor;
  m.mode = mode;
  return m;
}

enum class Filter { None, Gzip, Zstd };

inline std::string make_tar(const std::vector<Member>& members, Filter filter = Filter::None) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (filter == Filter::Gzip) archive_write_add_filter_gzip(a);
  if (filter == Filter::Zstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1); // no zero padding after a compressed stream
  auto write_cb = [](archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  if (archive_write_open2(a, &out, nullptr, write_cb, nullptr, nullptr) != ARCHIVE_OK)
    throw std::runtime_error(archive_error_string(a));
  for (const Member& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, m.name.c_str());
    mode_t type = AE_IFREG;
    switch (m.type) {
    case 'd': type = AE_IFDIR; break;
    case 'l': type = AE_IFLNK; archive_entry_copy_symlink(e, m.link.c_str()); break;
    case 'h': archive_entry_copy_hardlink(e, m.link.c_str()); break;
    case 'c': type = AE_IFCHR; break;
    case 'b': type = AE_IFBLK; break;
    case 'p': type = AE_IFIFO; break;
    default: break;
    }
    archive_entry_set_mode(e, type | m.mode);
    archive_entry_set_uid(e, m.uid);
    archive_entry_set_gid(e, m.gid);
    archive_entry_set_mtime(e, m.mtime, 0);
    archive_entry_set_rdevmajor(e, m.major);
    archive_entry_set_rdevminor(e, m.minor);
    archive_entry_set_size(e, m.type == 'f' ? static_cast<la_int64_t>(m.data.size()) : 0);
    for (const auto& [k, v] : m.xattrs) archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    if (archive_write_header(a, e) != ARCHIVE_OK) throw std::runtime_error(archive_error_string(a));
    if (m.type == 'f' && !m.data.empty()) archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// A LayerInput over bytes held in memory.
inline LayerInput bytes_input(std::string bytes, std::string name = "test-layer") {
  auto data = std::make_shared<std::string>(std::move(bytes));
  auto pos = std::make_shared<size_t>(0);
  return LayerInput(std::move(name), [data, pos](void* buf, size_t cap) {
    size_t n = std::min(cap, data->size() - *pos);
    std::memcpy(buf, data->data() + *pos, n);
    *pos += n;
    return n;
  });
}

inline struct stat lstat_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) throw std::runtime_error("lstat " + path + ": " + std::strerror(errno));
  return st;
}

inline bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

inline std::string xattr_of(const std::string& path, const std::string& name) {
  char buf[4096];
  ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  return n < 0 ? std::string("<none>") : std::string(buf, static_cast<size_t>(n));
}

// Runs fn in a child process as an unprivileged user (uid/gid 65534 unless given),
// optionally in a new user namespace mapping container root to that user. Returns what
// fn returned ("" = success) or a description of how the child died.
inline std::string as_unprivileged(const std::function<std::string()>& fn, bool user_namespace = false,
                                   uid_t uid = 65534, gid_t gid = 65534) {
  int pipefd[2];
  if (::pipe(pipefd) < 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipefd[0]);
    std::string result;
    try {
      if (::setgroups(0, nullptr) < 0 || ::setresgid(gid, gid, gid) < 0 || ::setresuid(uid, uid, uid) < 0)
        throw std::runtime_error("cannot drop privileges");
      ::prctl(PR_SET_DUMPABLE, 1); // changing ids made /proc/self root's
      if (user_namespace) {
        if (::unshare(CLONE_NEWUSER) < 0) throw std::runtime_error("unshare(CLONE_NEWUSER) failed");
        write_file("/proc/self/setgroups", "deny");
        write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n");
        write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n");
      }
      result = fn();
    } catch (const std::exception& e) {
      result = std::string("exception: ") + e.what();
    }
    ::write(pipefd[1], result.data(), result.size());
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "child died";
  return out;
}

} // namespace strata::mount::test
