#include "engine/script_tools.h"

#include "image/dockertools/root_script.h"
#include "sys/error.h"
#include "sys/files.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace strata::engine {
namespace {

// The PATH a tree's own tools are found on (ns::default_env's).
constexpr const char* kTreePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool is_executable_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

template <typename Ehdr, typename Phdr> bool has_interpreter(int fd) {
  Ehdr header;
  if (::pread(fd, &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) return true;
  if (header.e_phentsize != sizeof(Phdr)) return true;
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Phdr ph;
    off_t at = static_cast<off_t>(header.e_phoff + static_cast<uint64_t>(i) * sizeof ph);
    if (::pread(fd, &ph, sizeof ph, at) != static_cast<ssize_t>(sizeof ph)) return true;
    if (ph.p_type == PT_INTERP) return true;
  }
  return false;
}

// The applet names `busybox --list` prints.
std::vector<std::string> busybox_applets(const std::string& busybox) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) fail_errno("cannot list the toolbox's applets");
  Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  std::string list_flag = "--list";
  char* argv[] = {const_cast<char*>(busybox.c_str()), list_flag.data(), nullptr};
  pid_t child = 0;
  int err = ::posix_spawn(&child, busybox.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (err != 0) fail_work("cannot run the toolbox {} --list: {}", busybox, std::strerror(err));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_work("the toolbox {} --list failed", busybox);
  std::vector<std::string> applets;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string name = out.substr(start, end - start);
    if (!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..") applets.push_back(name);
    start = end + 1;
  }
  return applets;
}

} // namespace

bool is_static_executable(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  unsigned char ident[EI_NIDENT];
  if (::pread(fd.get(), ident, sizeof ident, 0) != static_cast<ssize_t>(sizeof ident)) return false;
  if (std::memcmp(ident, ELFMAG, SELFMAG) != 0) return false;
  if (ident[EI_CLASS] == ELFCLASS64) return !has_interpreter<Elf64_Ehdr, Elf64_Phdr>(fd.get());
  if (ident[EI_CLASS] == ELFCLASS32) return !has_interpreter<Elf32_Ehdr, Elf32_Phdr>(fd.get());
  return false;
}

std::optional<std::string> find_toolbox(const std::string& requested) {
  if (requested == "none") return std::nullopt;
  auto checked = [](const std::string& path, const char* where) {
    if (!is_executable_file(path)) fail_input("the toolbox {} ({}) is not an executable file", path, where);
    if (!is_static_executable(path))
      fail_input("the toolbox {} ({}) is not a statically linked executable: it must run in a root without "
                 "the host's libraries",
                 path, where);
    return path;
  };
  if (!requested.empty()) return checked(requested, "--toolbox");
  if (const char* env = std::getenv("STRATA_TOOLBOX"); env && *env) {
    if (std::string(env) == "none") return std::nullopt;
    return checked(env, "STRATA_TOOLBOX");
  }
  for (const char* candidate : {"/bin/busybox", "/usr/bin/busybox"})
    if (is_executable_file(candidate) && is_static_executable(candidate)) return std::string(candidate);
  return std::nullopt;
}

ScriptTools::ScriptTools(const std::string& store_dir, const std::string& caller_path,
                         const std::optional<std::string>& toolbox) {
  shells_.push_back("/bin/sh");
  path_ = kTreePath;
  std::string prefix = store_dir + "/";
  std::vector<std::string> store_entries;
  if (is_directory(store_dir)) {
    size_t start = 0;
    while (start <= caller_path.size()) {
      size_t end = caller_path.find(':', start);
      if (end == std::string::npos) end = caller_path.size();
      std::string dir = caller_path.substr(start, end - start);
      start = end + 1;
      if (dir.compare(0, prefix.size(), prefix) != 0 || dir.find("/../") != std::string::npos) continue;
      if (!is_directory(dir)) continue;
      store_entries.push_back(dir);
      path_ += ":" + dir;
    }
  }
  for (const char* name : {"sh", "bash"})
    for (const auto& dir : store_entries)
      if (is_executable_file(dir + "/" + name)) shells_.push_back(dir + "/" + name);
  if (!toolbox) return;

  applets_ = std::make_unique<TempDir>(fmt::format("{}-{}-toolbox", kScratchPrefix, ::getpid()));
  ::chmod(applets_->path().c_str(), 0755);
  for (const auto& applet : busybox_applets(*toolbox)) {
    if (applet == "busybox") continue;
    if (::symlink("busybox", (applets_->path() + "/" + applet).c_str()) != 0 && errno != EEXIST)
      fail_errno("cannot prepare the toolbox");
  }
  write_file(applets_->path() + "/busybox", "", 0755); // the mount point of the binary
  binds_.push_back({applets_->path(), kToolboxDir, true});
  binds_.push_back({*toolbox, std::string(kToolboxDir) + "/busybox", true});
  shells_.push_back(std::string(kToolboxDir) + "/sh");
  path_ += std::string(":") + kToolboxDir;
}

std::string ScriptTools::describe() const {
  std::string out;
  for (const auto& s : shells_) out += (out.empty() ? "" : ", ") + s;
  return out;
}

} // namespace strata::engine
