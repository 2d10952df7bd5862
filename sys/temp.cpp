#include "sys/temp.h"

#include "sys/error.h"
#include "sys/files.h"

#include <cerrno>
#include <charconv>
#include <climits>
#include <csignal>
#include <cstring>
#include <cstdlib>
#include <dirent.h>
#include <memory>
#include <string_view>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace strata {

std::string default_temp_parent() {
  const char* t = std::getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

namespace {

// Removes the entries of dir named <lead><pid><separator>… whose pid no process has and
// that belong to this user: what a strata killed by SIGKILL left. A pid in use again by
// another process keeps its entry until that process is gone too.
void remove_stale(const std::string& dir, const std::string& lead, char separator) {
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), ::closedir);
  if (!listing) return;
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(listing.get())) {
    std::string_view name = e->d_name;
    if (name.size() <= lead.size() || name.compare(0, lead.size(), lead) != 0) continue;
    std::string_view rest = name.substr(lead.size());
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
    if (ec != std::errc() || pid <= 0 || end == rest.data() + rest.size() || *end != separator) continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    struct stat st;
    if (::fstatat(::dirfd(listing.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_uid != ::geteuid())
      continue;
    if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) stale.push_back(dir + "/" + std::string(name));
  }
  for (const std::string& path : stale) {
    try {
      remove_tree(path);
    } catch (const Error&) {  // not ours to remove after all (another user's files inside)
    }
  }
}

} // namespace

TempDir::TempDir(const std::string& prefix, const std::string& parent) {
  std::string dir = parent.empty() ? default_temp_parent() : parent;
  remove_stale(dir, prefix + ".", '.');
  std::string tmpl = fmt::format("{}/{}.{}.XXXXXX", dir, prefix, ::getpid());
  SignalsHeld held;  // until it is registered
  if (!::mkdtemp(tmpl.data())) fail_errno(fmt::format("cannot create a temporary directory in {}", dir));
  path_ = tmpl;
  on_signal_ = CleanupOnSignal(path_, CleanupOnSignal::Kind::Tree);
}

TempDir::TempDir(TempDir&& other) noexcept
    : path_(std::exchange(other.path_, {})), on_signal_(std::move(other.on_signal_)) {}

TempDir::~TempDir() {
  if (path_.empty()) return;
  try {
    remove_tree(path_);
  } catch (...) {
  }
}

std::string TempDir::release() {
  on_signal_.release();
  return std::exchange(path_, {});
}

namespace {

// This process's fd that path names (/dev/stdout, /dev/fd/1, /proc/self/fd/1, and
// symlinks to them), or -1: their "files" are magic links to whatever the fd is open on.
int own_fd_named_by(const std::string& path) {
  const std::string own = "/proc/" + std::to_string(::getpid()) + "/";
  std::string p = path;
  for (int hop = 0; hop < 40; ++hop) {
    char* real = ::realpath(dirname_of(p).c_str(), nullptr);
    if (!real) return -1;
    std::string dir = real;
    std::free(real);
    bool fd_dir = dir.size() > 3 && dir.compare(dir.size() - 3, 3, "/fd") == 0 && dir.compare(0, own.size(), own) == 0 &&
                  (dir.size() == own.size() + 2 || dir.compare(own.size(), 5, "task/") == 0);
    std::string base = basename_of(p);
    if (fd_dir) {
      int fd = -1;
      auto [end, ec] = std::from_chars(base.data(), base.data() + base.size(), fd);
      return ec == std::errc() && end == base.data() + base.size() ? fd : -1;
    }
    char link[PATH_MAX];
    ssize_t n = ::readlink(p.c_str(), link, sizeof link);
    if (n < 0) return -1;
    std::string to(link, static_cast<size_t>(n));
    p = to[0] == '/' ? to : dir + "/" + to;
  }
  return -1;
}

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "neither a file nor a FIFO nor a character device";
}

void check_output_dir(const std::string& dir) {
  if (!is_directory(dir)) fail_input("output directory {} does not exist", dir);
  if (::access(dir.c_str(), W_OK) != 0) fail_input("output directory {} is not writable", dir);
}

void copy_all(int from, int to, const std::string& what) {
  off_t size = ::lseek(from, 0, SEEK_END);
  off_t pos = 0;
  while (pos < size) {
    ssize_t n = ::sendfile(to, from, &pos, static_cast<size_t>(size - pos));
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EINVAL || errno == ENOSYS)) break;  // a target sendfile cannot write
    fail_errno("cannot write " + what);
  }
  std::vector<char> buffer(1 << 20);
  while (pos < size) {
    ssize_t n = ::pread(from, buffer.data(), buffer.size(), pos);
    if (n <= 0) fail_errno("cannot read back what was written for " + what);
    write_all(to, buffer.data(), static_cast<size_t>(n), what);
    pos += n;
  }
}

} // namespace

AtomicFile::AtomicFile(const std::string& target, mode_t mode) : target_(target) {
  if (target.empty()) fail_input("output path is empty");
  if (int fd = own_fd_named_by(target); fd >= 0) {
    if (::fcntl(fd, F_GETFD) < 0) fail_input("output {} names fd {}, which is not open", target, fd);
    open_stream(fd, Fd());
    return;
  }
  struct stat st;
  if (::stat(target.c_str(), &st) != 0) {
    if (errno != ENOENT) fail_input("cannot use output path {}: {}", target, std::strerror(errno));
    st.st_mode = 0;  // nothing there (or a dangling symlink, which is replaced)
  }
  if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
    int fd = ::open(target.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) fail_input("cannot open output {}: {}", target, std::strerror(errno));
    open_stream(fd, Fd(fd));
    return;
  }
  if (st.st_mode != 0 && !S_ISREG(st.st_mode))
    fail_input("output path {} is {}: give a file, a FIFO or a character device", target, kind_of(st.st_mode));
  // A regular file through symlinks: replaced where the last link points.
  std::string path = st.st_mode != 0 ? resolved_path(target, "output path") : target;
  check_output_dir(dirname_of(path));
  std::string lead = "." + basename_of(path) + ".strata-";
  remove_stale(dirname_of(path), lead, '-');
  std::string tmpl = fmt::format("{}/{}{}-XXXXXX", dirname_of(path), lead, ::getpid());
  {
    SignalsHeld held;  // until it is registered
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) fail_errno(fmt::format("cannot create a temporary file beside {}", target));
    fd_.reset(fd);
    temp_path_ = tmpl;
    on_signal_ = CleanupOnSignal(temp_path_, CleanupOnSignal::Kind::File);
  }
  rename_to_ = path;
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_.get(), mode & ~mask);
}

AtomicFile AtomicFile::to_stream(int fd, const std::string& name) {
  AtomicFile file;
  file.target_ = name;
  file.open_stream(fd, Fd());
  return file;
}

void AtomicFile::open_stream(int fd, Fd owned) {
  if (::isatty(fd)) fail_input("refusing to write to a terminal ({}): give a file or redirect it", target_);
  int temp = ::open(default_temp_parent().c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (temp < 0) fail_errno(fmt::format("cannot create a temporary file in {}", default_temp_parent()));
  fd_.reset(temp);
  stream_ = fd;
  stream_owned_ = std::move(owned);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : target_(std::move(other.target_)), temp_path_(std::exchange(other.temp_path_, {})),
      rename_to_(std::move(other.rename_to_)), fd_(std::move(other.fd_)), stream_(std::exchange(other.stream_, -1)),
      stream_owned_(std::move(other.stream_owned_)), on_signal_(std::move(other.on_signal_)),
      committed_(other.committed_) {}

AtomicFile::~AtomicFile() {
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void AtomicFile::commit() {
  if (is_stream()) {
    copy_all(fd_.get(), stream_, target_);
    fd_.reset();
    stream_owned_.reset();
    committed_ = true;
    return;
  }
  fd_.reset();
  if (::rename(temp_path_.c_str(), rename_to_.c_str()) < 0) fail_errno(fmt::format("cannot rename onto {}", target_));
  committed_ = true;
  on_signal_.release();
}

} // namespace strata
