#include "image/dockertools/customisation.h"

#include "image/closure/store_path.h"
#include "sys/copy_tree.h"
#include "sys/error.h"
#include "sys/files.h"

#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {
namespace {

// lndir: directories are made (and merged), symlinks copied, files linked to.
void join_into(const std::string& from, const std::string& to) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(from.c_str()), ::closedir);
  if (!d) fail_errno(fmt::format("cannot read directory {}", from));
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string src = from + "/" + name, dst = to + "/" + name;
    struct stat st, existing;
    if (::lstat(src.c_str(), &st) < 0) fail_errno(fmt::format("cannot stat {}", src));
    bool exists = ::lstat(dst.c_str(), &existing) == 0;
    if (S_ISDIR(st.st_mode)) {
      if (!exists) {
        if (::mkdir(dst.c_str(), 0755) < 0 || ::chmod(dst.c_str(), 0755) < 0) // whatever the umask
          fail_errno(fmt::format("cannot create {}", dst));
      } else if (!S_ISDIR(existing.st_mode)) {
        continue; // the first content wins
      }
      join_into(src, dst);
      continue;
    }
    if (exists) continue;
    std::string target = src;
    if (S_ISLNK(st.st_mode)) {
      target.assign(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
      if (n < 0) fail_errno(fmt::format("cannot read link {}", src));
      target.resize(static_cast<size_t>(n));
    }
    if (::symlink(target.c_str(), dst.c_str()) < 0) fail_errno(fmt::format("cannot create link {}", dst));
  }
}

} // namespace

void lay_out_customisation(const std::vector<std::string>& contents, const std::string& store_dir,
                           const std::string& dir) {
  for (const auto& path : contents) {
    std::string entry = closure::follow_links_to_store(path, store_dir, "contents path");
    bool in_store = closure::containing_store_path(entry, store_dir).has_value();
    if (in_store && is_directory(entry)) {
      join_into(entry, dir);
    } else if (in_store) {
      std::string dst = dir + "/" + basename_of(entry);
      if (!path_exists(dst) && ::symlink(entry.c_str(), dst.c_str()) < 0) fail_errno(fmt::format("cannot link {}", dst));
    } else {
      copy_contents_into(entry, dir);
    }
  }
}

void copy_contents_into(const std::string& path, const std::string& dir) {
  copy_into(path, dir);
  // Store paths are read-only; what runs next in dir must be able to change the copy.
  ::chmod(dir.c_str(), 0755);
}

void run_extra_commands(RootScriptRunner* runner, const Spec& spec, const std::string& dir) {
  if (!runner) fail_input("extraCommands needs the sandbox, which this caller does not provide");
  RootScriptRequest request;
  request.upper = dir;
  request.script = "umask 022\n" + spec.extra_commands;
  request.store_dir = spec.store_dir;
  request.as_caller = true;
  request.what = "extraCommands";
  RootScriptReport report = runner->run(request);
  if (report.exit_status > 128) fail_work("extraCommands was killed by signal {}", report.exit_status - 128);
  if (report.exit_status != 0) fail_work("extraCommands failed with exit status {}", report.exit_status);
}

} // namespace strata
