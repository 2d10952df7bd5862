#include "sys/files.h"

#include "sys/error.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <cstdlib>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <vector>

namespace strata {

Fd open_or_fail(const std::string& path, int flags, mode_t mode) {
  return openat_or_fail(AT_FDCWD, path, flags, mode);
}

Fd openat_or_fail(int dirfd, const std::string& path, int flags, mode_t mode) {
  int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) fail_errno(fmt::format("cannot open {}", path));
  return Fd(fd);
}

void write_all(int fd, const void* data, size_t size, const std::string& what) {
  auto p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(fmt::format("cannot write {}", what));
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

size_t read_full(int fd, void* data, size_t size, const std::string& what) {
  auto p = static_cast<char*>(data);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, p + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(fmt::format("cannot read {}", what));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

std::string read_file(const std::string& path) {
  Fd fd = open_or_fail(path, O_RDONLY);
  std::string out;
  char buf[65536];
  for (;;) {
    size_t n = read_full(fd.get(), buf, sizeof buf, path);
    out.append(buf, n);
    if (n < sizeof buf) break;
  }
  return out;
}

namespace {
const char* file_kind(mode_t mode) {
  switch (mode & S_IFMT) {
  case S_IFDIR: return "a directory";
  case S_IFCHR: return "a character device";
  case S_IFBLK: return "a block device";
  case S_IFIFO: return "a FIFO";
  case S_IFSOCK: return "a socket";
  default: return "not a regular file";
  }
}
} // namespace

Fd open_input_file(const std::string& path, const std::string& what, bool allow_pipe) {
  if (path.find('\0') != std::string::npos) fail_input("{} path holds a NUL byte", what);
  // O_NONBLOCK: opening a FIFO no one writes to returns at once instead of waiting.
  int raw = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (raw < 0) {
    if (errno == ENOENT) fail_input("{} {} does not exist", what, path);
    fail_input("cannot read {} {}: {}", what, path, std::strerror(errno));
  }
  Fd fd(raw);
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) fail_errno(fmt::format("cannot stat {}", path));
  if (!S_ISREG(st.st_mode) && !(allow_pipe && S_ISFIFO(st.st_mode)))
    fail_input("{} {} is {}, not a regular file", what, path, file_kind(st.st_mode));
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) < 0) fail_errno(fmt::format("cannot use {}", path));
  return fd;
}

std::string read_input_file(const std::string& path, const std::string& what, size_t max_bytes, bool allow_pipe) {
  Fd fd = open_input_file(path, what, allow_pipe);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_input("cannot read {} {}: {}", what, path, std::strerror(errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes)
      fail_input("{} {} is larger than {} MiB", what, path, max_bytes >> 20);
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void reserve_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    // An O_PATH fd: reads and writes fail (EBADF), and reopening it (-o /dev/stdout)
    // fails too (EISDIR), where /dev/null would swallow the output.
    int placeholder = ::open("/", O_PATH | O_DIRECTORY);
    if (placeholder >= 0 && placeholder != fd) {
      ::dup2(placeholder, fd);
      ::close(placeholder);
    }
  }
}

void require_writable_stdout() {
  int flags = ::fcntl(STDOUT_FILENO, F_GETFL);
  if (flags < 0 || (flags & O_PATH) || (flags & O_ACCMODE) == O_RDONLY)
    fail_work("stdout is closed or not open for writing: nothing would receive the output");
}

void write_file(const std::string& path, std::string_view contents, mode_t mode) {
  Fd fd = open_or_fail(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  write_all(fd.get(), contents, path);
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string absolute_path(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) fail_errno("cannot get the working directory");
  return path.empty() || path == "." ? std::string(cwd) : std::string(cwd) + "/" + path;
}

std::string resolved_path(const std::string& path, const std::string& what) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) fail_input("{} {} cannot be resolved", what, path);
  std::string out = real;
  std::free(real);
  return out;
}

std::string lexically_normal_relative(const std::string& path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    std::string part = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

std::string link_target_path(const std::string& link_path, const std::string& target) {
  auto slash = link_path.rfind('/');
  if (target.empty() || target[0] == '/' || slash == std::string::npos) return lexically_normal_relative(target);
  return lexically_normal_relative(link_path.substr(0, slash + 1) + target);
}

std::string dirname_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string basename_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string resolve_against(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return base_dir + "/" + path;
}

void make_dirs(const std::string& path, mode_t mode) {
  if (path.empty() || is_directory(path)) return;
  make_dirs(dirname_of(path), mode);
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) fail_errno(fmt::format("cannot create directory {}", path));
}

namespace {
thread_local std::string failed_entry;
int remove_entry(const char* path, const struct stat*, int type, struct FTW*) {
  int rc = type == FTW_DP ? ::rmdir(path) : ::unlink(path);
  if (rc < 0 && errno != ENOENT) {
    failed_entry = path;
    return -1;
  }
  return 0;
}
thread_local bool opened_unreadable;
// Gives the owner rwx where it lacks it (only there: a chmod is a journaled metadata
// write, as dear as the rmdir). A directory nftw could not read that this opens up is
// said, so that another pass goes into it; one it could not read with rwx already stays
// unread (another pass would not read it either).
int make_writable(const char* path, const struct stat* st, int type, struct FTW*) {
  if ((type != FTW_D && type != FTW_DNR) || (st->st_mode & 0700) == 0700) return 0;
  if (::chmod(path, (st->st_mode & 07777) | 0700) == 0 && type == FTW_DNR) opened_unreadable = true;
  return 0;
}
} // namespace

void remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) return;
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) fail_errno(fmt::format("cannot remove {}", path));
    return;
  }
  do {  // one pass more for each level of directories locked inside locked ones
    opened_unreadable = false;
    ::nftw(path.c_str(), make_writable, 64, FTW_PHYS);
  } while (opened_unreadable);
  failed_entry = path;
  if (::nftw(path.c_str(), remove_entry, 64, FTW_DEPTH | FTW_PHYS) < 0)
    fail_errno(fmt::format("cannot remove {}", failed_entry));
}

} // namespace strata
