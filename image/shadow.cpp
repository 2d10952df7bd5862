#include "image/shadow.h"

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/files.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace strata {
namespace {

struct SeedFile {
  const char* dir;  // under the root
  const char* name; // in dir
  const char* contents;
  mode_t mode;
};

// As nixpkgs' dockerTools.shadowSetup writes them (runtimeShell as /bin/sh).
constexpr SeedFile kSeedFiles[] = {
    {"etc", "passwd", "root:x:0:0::/root:/bin/sh\n", 0644},
    {"etc", "shadow", "root:!x:::::::\n", 0640},
    {"etc", "group", "root:x:0:\n", 0644},
    {"etc", "gshadow", "root:x::\n", 0640},
    {"etc/pam.d", "other",
     "account sufficient pam_unix.so\n"
     "auth sufficient pam_rootok.so\n"
     "password requisite pam_unix.so nullok sha512\n"
     "session required pam_unix.so\n",
     0644},
    {"etc", "login.defs", "", 0644},
};

Fd open_in_root(int root_fd, const std::string& path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);
  return Fd(static_cast<int>(fd));
}

// Opens root/dir (resolved inside root), creating each missing component 0755.
Fd open_dir_creating(int root_fd, const std::string& root, const std::string& dir) {
  std::string sofar;
  Fd current = open_in_root(root_fd, ".", O_DIRECTORY | O_RDONLY);
  size_t start = 0;
  while (start < dir.size()) {
    size_t slash = dir.find('/', start);
    std::string part = dir.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    start = slash == std::string::npos ? dir.size() : slash + 1;
    sofar += (sofar.empty() ? "" : "/") + part;
    if (::mkdirat(current.get(), part.c_str(), 0755) == 0) {
      ::fchmodat(current.get(), part.c_str(), 0755, 0); // whatever the umask
    } else if (errno != EEXIST) {
      fail_errno(fmt::format("cannot create {}/{}", root, sofar));
    }
    // Resolved from the root so that a symlinked component leads back inside it.
    current = open_in_root(root_fd, sofar, O_DIRECTORY | O_RDONLY);
    if (!current && (errno == ENOENT || errno == ENOTDIR))
      fail_input("{}/{} is not a directory within the root (a file, or a symlink leading nowhere inside it)", root,
                 sofar);
    if (!current) fail_errno(fmt::format("cannot open {}/{} as a directory", root, sofar));
  }
  return current;
}

} // namespace

std::vector<std::string> shadow_setup_paths() {
  std::vector<std::string> paths;
  for (const SeedFile& f : kSeedFiles) paths.push_back(std::string(f.dir) + "/" + f.name);
  return paths;
}

ShadowSetupReport shadow_setup(const std::string& root, const std::set<std::string>& below) {
  if (!path_exists(root)) fail_input("root directory {} does not exist", root);
  if (!is_directory(root)) fail_input("root {} is not a directory", root);
  Fd root_fd(::open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!root_fd) fail_errno("cannot open " + root);

  ShadowSetupReport report;
  for (const SeedFile& f : kSeedFiles) {
    std::string rel = std::string(f.dir) + "/" + f.name;
    if (below.count(rel)) {
      report.kept.push_back(rel);
      continue;
    }
    Fd dir = open_dir_creating(root_fd.get(), root, f.dir);
    // O_EXCL never follows a symlink: whatever is at the name already stays as it is.
    Fd out(::openat(dir.get(), f.name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) {
      if (errno == EEXIST) {
        report.kept.push_back(rel);
        continue;
      }
      fail_errno(fmt::format("cannot create {}/{}", root, rel));
    }
    write_all(out.get(), std::string_view(f.contents), root + "/" + rel);
    if (::fchmod(out.get(), f.mode) != 0) fail_errno(fmt::format("cannot set the mode of {}/{}", root, rel));
    report.created.push_back(rel);
  }
  return report;
}

std::string shadow_setup_script() {
  std::string script;
  for (const SeedFile& f : kSeedFiles) {
    std::string path = std::string("/") + f.dir + "/" + f.name;
    script += fmt::format("if [ ! -e {0} ] && [ ! -L {0} ]; then\n  mkdir -p /{1}\n  printf '%s' '{2}' > {0}\n"
                          "  chmod {3:o} {0}\nfi\n",
                          path, f.dir, f.contents, f.mode);
  }
  return script;
}

} // namespace strata
