#include "sys/copy_tree.h"

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/files.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace strata {
namespace {

// A source the caller may not read is bad input (exit 2), as for a layer made from it.
[[noreturn]] void fail_unreadable(const std::string& path) {
  if (errno == EACCES || errno == EPERM) fail_input("cannot read {}: {}", path, std::strerror(errno));
  fail_errno("cannot open " + path);
}

std::vector<std::string> names_in(int dir_fd, const std::string& what) {
  Fd dup(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  if (!dup) fail_errno("cannot duplicate an fd");
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(dup.get()), ::closedir);
  if (!dir) fail_errno("cannot read directory " + what);
  dup.release();
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(dir.get())) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  if (errno != 0) fail_errno("cannot read directory " + what);
  std::sort(names.begin(), names.end());
  return names;
}

class TreeCopier {
public:
  TreeCopier(const std::string& from, const std::string& to) : from_(from), to_(to) {}

  CopyStats contents(int from_fd, int to_fd) {
    copy_children(from_fd, to_fd, "");
    return stats_;
  }

  CopyStats one(int from_parent, const std::string& name, int to_fd) {
    struct stat st;
    if (::fstatat(from_parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("cannot stat " + source(name));
    copy_entry(from_parent, to_fd, name, name, st);
    return stats_;
  }

private:
  std::string source(const std::string& rel) const { return rel.empty() ? from_ : from_ + "/" + rel; }
  std::string target(const std::string& rel) const { return to_ + "/" + rel; }

  void copy_children(int from_dir, int to_dir, const std::string& prefix) {
    for (const std::string& name : names_in(from_dir, source(prefix))) {
      std::string rel = prefix.empty() ? name : prefix + "/" + name;
      struct stat st;
      if (::fstatat(from_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("cannot stat " + source(rel));
      copy_entry(from_dir, to_dir, name, rel, st);
    }
  }

  // Removes a non-directory in the way; true when a directory is there (kept).
  bool clear_place(int to_dir, const std::string& name, const std::string& rel, bool want_dir) {
    struct stat there;
    if (::fstatat(to_dir, name.c_str(), &there, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return false;
      fail_errno("cannot stat " + target(rel));
    }
    if (S_ISDIR(there.st_mode)) {
      if (want_dir) return true;
      fail_input("cannot copy {} onto the directory {}: it is not a directory", source(rel), target(rel));
    }
    if (::unlinkat(to_dir, name.c_str(), 0) != 0) fail_errno("cannot replace " + target(rel));
    return false;
  }

  void copy_entry(int from_dir, int to_dir, const std::string& name, const std::string& rel, const struct stat& st) {
    timespec times[2] = {st.st_atim, st.st_mtim};
    if (S_ISDIR(st.st_mode)) {
      bool exists = clear_place(to_dir, name, rel, true);
      if (!exists && ::mkdirat(to_dir, name.c_str(), 0700) != 0) fail_errno("cannot create " + target(rel));
      Fd src(::openat(from_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!src) fail_unreadable(source(rel));
      Fd dst(::openat(to_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dst) fail_errno("cannot open " + target(rel));
      // Writable while its children are made; its own mode and time once they are.
      if (::fchmod(dst.get(), 0700) != 0) fail_errno("cannot chmod " + target(rel));
      copy_children(src.get(), dst.get(), rel);
      set_mode(dst.get(), st.st_mode, rel);
      ::futimens(dst.get(), times);
      ++stats_.directories;
      return;
    }
    clear_place(to_dir, name, rel, false);
    if (S_ISLNK(st.st_mode)) {
      std::string link(static_cast<size_t>(st.st_size > 0 ? st.st_size : 255) + 1, '\0');
      ssize_t n = ::readlinkat(from_dir, name.c_str(), link.data(), link.size());
      if (n < 0) fail_errno("cannot read link " + source(rel));
      link.resize(static_cast<size_t>(n));
      if (::symlinkat(link.c_str(), to_dir, name.c_str()) != 0) fail_errno("cannot create link " + target(rel));
      ::utimensat(to_dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
      ++stats_.symlinks;
      return;
    }
    if (S_ISFIFO(st.st_mode)) {
      if (::mkfifoat(to_dir, name.c_str(), 0600) != 0) fail_errno("cannot create fifo " + target(rel));
      if (::fchmodat(to_dir, name.c_str(), st.st_mode & 07777, 0) != 0) fail_errno("cannot chmod " + target(rel));
      ::utimensat(to_dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
      ++stats_.fifos;
      return;
    }
    if (!S_ISREG(st.st_mode))
      fail_input("cannot copy {}: a device or socket cannot be copied into a layer tree", source(rel));
    if (st.st_nlink > 1) {
      auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, rel);
      if (!first) {
        Fd root(::open(to_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root || ::linkat(root.get(), it->second.c_str(), to_dir, name.c_str(), 0) != 0)
          fail_errno(fmt::format("cannot link {} to {}", target(rel), target(it->second)));
        ++stats_.hardlinks;
        return;
      }
    }
    Fd src(::openat(from_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!src) fail_unreadable(source(rel));
    Fd dst(::openat(to_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!dst) fail_errno("cannot create " + target(rel));
    copy_data(src.get(), dst.get(), static_cast<uint64_t>(st.st_size), rel);
    set_mode(dst.get(), st.st_mode, rel);
    ::futimens(dst.get(), times);
    ++stats_.files;
  }

  void set_mode(int fd, mode_t mode, const std::string& rel) {
    if (::fchmod(fd, mode & 07777) == 0) return;
    if (errno == EPERM && (mode & 06000))
      fail_work("cannot copy the setuid/setgid mode {:04o} of {}: this platform refuses those bits (a Nix build "
                "does); give them with the spec's `perms` key instead",
                mode & 07777, source(rel));
    fail_errno("cannot chmod " + target(rel));
  }

  // Data ranges only: a hole stays a hole.
  void copy_data(int src, int dst, uint64_t size, const std::string& rel) {
    off_t at = 0;
    const off_t end = static_cast<off_t>(size);
    while (at < end) {
      off_t data = ::lseek(src, at, SEEK_DATA);
      if (data < 0) {
        if (errno == ENXIO) break; // only a hole is left
        if (errno != EINVAL) fail_errno("cannot read " + source(rel));
        data = at; // no SEEK_DATA here: copy everything
      }
      off_t hole = ::lseek(src, data, SEEK_HOLE);
      if (hole < 0 || hole > end) hole = end;
      copy_range(src, dst, data, hole - data, rel);
      at = hole;
    }
    if (::ftruncate(dst, end) != 0) fail_errno("cannot size " + target(rel));
  }

  void copy_range(int src, int dst, off_t offset, off_t length, const std::string& rel) {
    off_t in = offset, out = offset;
    bool kernel_copy = true;
    std::vector<char> buffer;
    while (length > 0) {
      ssize_t n = -1;
      if (kernel_copy) {
        n = ::copy_file_range(src, &in, dst, &out, static_cast<size_t>(length), 0);
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM)) {
          kernel_copy = false;
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_errno(fmt::format("cannot copy {} to {}", source(rel), target(rel)));
      } else {
        if (buffer.empty()) buffer.resize(1 << 17);
        n = ::pread(src, buffer.data(), std::min<size_t>(buffer.size(), static_cast<size_t>(length)), in);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_errno("cannot read " + source(rel));
        if (n > 0) {
          ssize_t done = 0;
          while (done < n) {
            ssize_t w = ::pwrite(dst, buffer.data() + done, static_cast<size_t>(n - done), out + done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) fail_errno("cannot write " + target(rel));
            done += w;
          }
          in += n;
          out += n;
        }
      }
      if (n == 0) fail_work("{} shrank while it was copied", source(rel));
      length -= n;
      stats_.bytes += static_cast<uint64_t>(n);
    }
  }

  const std::string from_, to_;
  CopyStats stats_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_; // first copy of each multiply linked file
};

Fd open_dir(const std::string& path, bool source) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd && source) fail_unreadable(path);
  if (!fd) fail_errno("cannot open directory " + path);
  return fd;
}

} // namespace

CopyStats copy_tree_contents(const std::string& from, const std::string& to) {
  Fd src = open_dir(from, true), dst = open_dir(to, false);
  return TreeCopier(from, to).contents(src.get(), dst.get());
}

CopyStats copy_into(const std::string& path, const std::string& dir) {
  if (is_directory(path)) return copy_tree_contents(path, dir);
  Fd parent = open_dir(dirname_of(path), true), dst = open_dir(dir, false);
  return TreeCopier(dirname_of(path), dir).one(parent.get(), basename_of(path), dst.get());
}

} // namespace strata
