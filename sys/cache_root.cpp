#include "sys/cache_root.h"

#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {
namespace {

// "" when dir can be used (made if missing, writable), else why not.
std::string unusable_reason(const std::string& dir) {
  try {
    make_dirs(dir, 0700);
  } catch (const Error& e) {
    return e.what();
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) return fmt::format("{} is not writable", dir);
  return "";
}

CacheRoot choose() {
  std::string skipped;
  auto try_dir = [&](const char* variable, const std::string& dir) -> bool {
    std::string why = unusable_reason(dir);
    if (why.empty()) return true;
    skipped += fmt::format("{}{}: {}", skipped.empty() ? "" : "; ", variable, why);
    return false;
  };
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') {
    std::string dir = std::string(xdg) + "/strata";
    if (try_dir("XDG_CACHE_HOME", dir)) return {dir, "$XDG_CACHE_HOME/strata"};
  }
  if (const char* home = std::getenv("HOME"); home && *home == '/') {
    struct stat st;
    if (::stat(home, &st) != 0) {
      skipped += fmt::format("{}HOME: {} does not exist", skipped.empty() ? "" : "; ", home);
    } else {
      std::string dir = std::string(home) + "/.cache/strata";
      if (try_dir("HOME", dir)) return {dir, "$HOME/.cache/strata"};
    }
  } else {
    skipped += fmt::format("{}HOME is not set", skipped.empty() ? "" : "; ");
  }
  // A fixed name in a shared dir: it must be a real dir of ours, not someone's planted one.
  std::string dir = fmt::format("{}/strata-cache-{}", default_temp_parent(), ::geteuid());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) fail_errno("cannot create the cache dir " + dir);
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) fail_errno("cannot use the cache dir " + dir);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
    fail_input("cannot use the cache dir {}: it is not a directory of uid {} with mode 0700 (set XDG_CACHE_HOME)",
               dir, ::geteuid());
  return {dir, fmt::format("$TMPDIR ({})", skipped)};
}

} // namespace

const CacheRoot& cache_root() {
  static const CacheRoot root = choose();
  return root;
}

} // namespace strata
