#include "sys/temp.h"

#include "sys/error.h"
#include "sys/files.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

std::string default_temp_parent() {
  const char* t = std::getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

TempDir::TempDir(const std::string& prefix, const std::string& parent) {
  std::string tmpl = (parent.empty() ? default_temp_parent() : parent) + "/" + prefix + ".XXXXXX";
  if (!::mkdtemp(tmpl.data())) fail_errno(fmt::format("cannot create a temporary directory in {}", dirname_of(tmpl)));
  path_ = tmpl;
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir::~TempDir() {
  if (path_.empty()) return;
  try {
    remove_tree(path_);
  } catch (...) {
  }
}

std::string TempDir::release() { return std::exchange(path_, {}); }

void check_output_file_path(const std::string& path) {
  if (path.empty()) fail_input("output path is empty");
  if (is_directory(path)) fail_input("output path {} is a directory", path);
  std::string dir = dirname_of(path);
  if (!is_directory(dir)) fail_input("output directory {} does not exist", dir);
  if (::access(dir.c_str(), W_OK) != 0) fail_input("output directory {} is not writable", dir);
}

AtomicFile::AtomicFile(const std::string& target, mode_t mode) : target_(target) {
  check_output_file_path(target);
  std::string tmpl = dirname_of(target) + "/." + basename_of(target) + ".strata-XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) fail_errno(fmt::format("cannot create a temporary file beside {}", target));
  fd_.reset(fd);
  temp_path_ = tmpl;
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, mode & ~mask);
}

AtomicFile::~AtomicFile() {
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void AtomicFile::commit() {
  fd_.reset();
  if (::rename(temp_path_.c_str(), target_.c_str()) < 0) fail_errno(fmt::format("cannot rename onto {}", target_));
  committed_ = true;
}

} // namespace strata
