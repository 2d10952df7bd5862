#include "ns/run_dir.h"

#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::ns {
namespace {

bool process_alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

} // namespace

RunDir::RunDir(const std::string& prefix, const std::string& parent) {
  std::string dir = parent.empty() ? default_temp_parent() : parent;
  sweep_stale_run_dirs(prefix, dir);
  std::string tmpl = fmt::format("{}/{}-{}-XXXXXX", dir, prefix, ::getpid());
  if (!::mkdtemp(tmpl.data())) fail_errno(fmt::format("cannot create a run directory in {}", dir));
  path_ = tmpl;
}

RunDir::~RunDir() {
  try {
    remove_tree(path_);
  } catch (...) {
  }
}

int sweep_stale_run_dirs(const std::string& prefix, const std::string& parent) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(parent.c_str()), ::closedir);
  if (!dir) return 0;
  std::string lead = prefix + "-";
  int removed = 0;
  while (const dirent* e = ::readdir(dir.get())) {
    std::string_view name = e->d_name;
    if (name.substr(0, lead.size()) != lead) continue;
    std::string_view rest = name.substr(lead.size());
    size_t dash = rest.find('-');
    pid_t pid = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + (dash == std::string_view::npos ? 0 : dash), pid);
    if (ec != std::errc() || dash == std::string_view::npos || p != rest.data() + dash || pid <= 0) continue;
    if (pid == ::getpid() || process_alive(pid)) continue;
    struct stat st;
    if (::fstatat(::dirfd(dir.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) continue;
    try {
      remove_tree(parent + "/" + std::string(name));
      ++removed;
    } catch (const Error&) {
    }
  }
  return removed;
}

} // namespace strata::ns
