#include "mount/rooted_fs.h"

#include "sys/error.h"
#include "sys/fd.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace strata::mount {
namespace {

// Names of a directory's entries (without "." and ".."); takes ownership of fd.
std::vector<std::string> list_names(int fd, const std::string& what) {
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    fail_errno("cannot list " + what);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* d = ::readdir(dir)) {
    std::string_view n = d->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  int err = errno;
  ::closedir(dir);
  if (err) fail_errno("cannot list " + what, err);
  return names;
}

} // namespace

std::vector<std::string> list_names_at(int dir_fd, const std::string& what) {
  int list_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (list_fd < 0) fail_errno("cannot open " + what);
  return list_names(list_fd, what);
}

std::vector<std::string> split_member_name(std::string_view name, std::string_view what) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t slash = name.find('/', pos);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(pos, slash - pos);
    if (part == "..") fail_input("{}: a '..' path component is not allowed", what);
    if (!part.empty() && part != ".") out.emplace_back(part);
    pos = slash + 1;
  }
  return out;
}

std::string join_components(const std::vector<std::string>& components, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < components.size(); ++i) {
    if (i) out += '/';
    out += components[i];
  }
  return out;
}

int open_in_root(int root_fd, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char* p = path.empty() ? "." : path.c_str();
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, p, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename raced the lookup; retry.
  }
}

void remove_tree_at(int dir_fd, const std::string& name, const std::string& what) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return;
    fail_errno("cannot stat " + what);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dir_fd, name.c_str(), 0) < 0 && errno != ENOENT) fail_errno("cannot remove " + what);
    return;
  }
  int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES) {
    // A directory we own but may not read: make it ours to empty.
    if (::fchmodat(dir_fd, name.c_str(), 0700, 0) == 0)
      fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) fail_errno("cannot open " + what);
  Fd dir(fd);
  if ((st.st_mode & 0700) != 0700) ::fchmod(dir.get(), 0700);
  for (const std::string& child : list_names_at(dir.get(), what)) remove_tree_at(dir.get(), child, what + "/" + child);
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) fail_errno("cannot remove " + what);
}

} // namespace strata::mount
