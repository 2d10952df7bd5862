#include "mount/overlay.h"

#include "mount/fuse_upper.h"

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/files.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <set>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>


namespace strata::mount {
namespace {

constexpr long kFuseSuperMagic = 0x65735546;
constexpr size_t kFsconfigValueMax = 255;  // fsconfig(2) copies at most 256 bytes with the NUL

std::string escape_overlay_path(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ':' || c == ',' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string find_program(const char* name) {
  const char* env_path = std::getenv("PATH");
  std::string path = std::string(env_path && *env_path ? env_path : "") + ":/usr/bin:/bin:/usr/sbin:/sbin";
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(start, end - start) + "/" + name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

void check_spec(const OverlaySpec& spec, bool needs_work) {
  if (spec.upper.empty()) fail_input("an overlay needs an upper directory");
  if (!is_directory(spec.upper)) fail_input("overlay upper directory {} is not a directory", spec.upper);
  if (needs_work && !is_directory(spec.work)) fail_input("overlay work directory {:?} is not a directory", spec.work);
  for (const std::string& lower : spec.lower)
    if (!is_directory(lower)) fail_input("overlay lower directory {} is not a directory", lower);
}

// The messages the kernel logged on an fs context ("e overlayfs: ...").
std::string context_log(int fs) {
  std::string log;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fs, buf, sizeof buf - 1)) > 0) {
    std::string line(buf, static_cast<size_t>(n));
    if (line.size() > 2 && line[1] == ' ') line = line.substr(2);
    log += (log.empty() ? "" : "; ") + line;
  }
  return log;
}

enum class NewApi { Mounted, Unsupported };

// Mounts with fsopen/fsconfig/fsmount; Unsupported when the kernel lacks "lowerdir+"
// or a path is too long for fsconfig, so the caller falls back to mount(2).
NewApi mount_kernel_new_api(const OverlaySpec& spec, const std::string& target) {
  for (const std::string* p : {&spec.upper, &spec.work})
    if (p->size() > kFsconfigValueMax) return NewApi::Unsupported;
  for (const std::string& lower : spec.lower)
    if (lower.size() > kFsconfigValueMax) return NewApi::Unsupported;

  Fd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) {
    if (errno == ENOSYS) return NewApi::Unsupported;
    fail_errno("cannot open an overlay filesystem context (is overlayfs available?)");
  }
  for (const std::string& lower : spec.lower) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", lower.c_str(), 0) != 0) {
      if (errno == EINVAL && &lower == &spec.lower.front()) return NewApi::Unsupported;  // before Linux 6.8
      std::string log = context_log(fs.get());
      fail_errno(fmt::format("overlay lower directory {}{}", lower, log.empty() ? "" : " (" + log + ")"));
    }
  }
  auto set = [&](const char* key, const char* value, unsigned cmd) {
    if (::fsconfig(fs.get(), cmd, key, value, 0) == 0) return;
    int err = errno;
    std::string log = context_log(fs.get());
    fail_work("cannot mount the overlay on {}: {}{}", target, log.empty() ? std::strerror(err) : log,
              err == EINVAL && std::string(key ? key : "") == "userxattr" ? " (userxattr needs Linux 5.11)" : "");
  };
  set("upperdir", spec.upper.c_str(), FSCONFIG_SET_STRING);
  set("workdir", spec.work.c_str(), FSCONFIG_SET_STRING);
  set("userxattr", nullptr, FSCONFIG_SET_FLAG);
  set(nullptr, nullptr, FSCONFIG_CMD_CREATE);
  Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt) fail_errno("cannot mount the overlay on " + target);
  if (::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    fail_errno("cannot attach the overlay at " + target);
  return NewApi::Mounted;
}

void mount_kernel(const OverlaySpec& spec, const std::string& target) {
  if (spec.lower.empty()) fail_input("a kernel overlay needs at least one lower directory");
  check_spec(spec, true);
  if (mount_kernel_new_api(spec, target) == NewApi::Mounted) return;
  std::string options = kernel_overlay_options(spec);
  if (options.size() >= 4096)
    fail_work("the overlay's lower directories are too long for mount(2) ({} bytes of options, at most 4095 "
              "before Linux 6.8): use shorter paths or fewer layers",
              options.size());
  if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0)
    fail_errno(fmt::format("cannot mount the overlay on {}{}", target,
                           errno == EINVAL ? " (userxattr needs Linux 5.11; see dmesg for overlayfs' reason)" : ""));
}

// What fuse-overlayfs wrote to stderr (the memfd fd), without the warning that versions
// before 1.15 give about the "lazytime" they add to their own options when run as root
// (containers/fuse-overlayfs#429): strata does not pass it, and it changes nothing.
std::string fuse_messages(int fd) {
  std::string all;
  char buf[4096];
  ssize_t n;
  off_t offset = 0;
  while ((n = ::pread(fd, buf, sizeof buf, offset)) > 0) {
    all.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  std::string kept;
  size_t start = 0;
  while (start < all.size()) {
    size_t end = all.find('\n', start);
    end = end == std::string::npos ? all.size() : end + 1;
    std::string_view line(all.data() + start, end - start);
    if (line != "unknown argument ignored: lazytime\n" && line != "unknown argument ignored: lazytime") kept += line;
    start = end;
  }
  return kept;
}

void mount_fuse(const OverlaySpec& spec, const std::string& target) {
  check_spec(spec, true);
  if (spec.lower.empty()) fail_input("fuse-overlayfs needs at least one lower directory");
  std::string program = find_program("fuse-overlayfs");
  if (program.empty()) fail_work("fuse-overlayfs is not installed (Debian package fuse-overlayfs)");
  record_upper_for_fuse(spec.upper);
  std::string lowers;
  for (const std::string& lower : spec.lower) lowers += (lowers.empty() ? "" : ":") + escape_overlay_path(lower);
  std::string options = fmt::format("lowerdir={},upperdir={},workdir={},xattr_permissions=2", lowers,
                                    escape_overlay_path(spec.upper), escape_overlay_path(spec.work));
  std::vector<std::string> args{program, "-o", options, target};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // The daemon gets a mount namespace of its own, a peer of ours at target: its mount
  // propagates to us, and a later pivot_root here leaves its root alone. (Sharing our
  // namespace, pivot_root would make its own mount its root, and its first absolute
  // path lookup would wait on itself.)
  if (::mount(target.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
      ::mount(nullptr, target.c_str(), nullptr, MS_SHARED, nullptr) != 0)
    fail_errno("cannot prepare " + target + " for fuse-overlayfs");
  Fd messages(::memfd_create("fuse-overlayfs-stderr", MFD_CLOEXEC));
  if (!messages) fail_errno("cannot run fuse-overlayfs");
  pid_t pid = ::fork();
  if (pid < 0) fail_errno("cannot run fuse-overlayfs");
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(125);
    if (::dup2(messages.get(), STDERR_FILENO) < 0) ::_exit(125);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail_errno("cannot wait for fuse-overlayfs");
  // It returns once the mount is up and its daemon runs in the background (libfuse
  // points the daemon's stderr at /dev/null).
  std::string said = fuse_messages(messages.get());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail_work("fuse-overlayfs could not mount the overlay on {} (status {}){}", target,
              WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
              said.empty() ? "" : ": " + said.substr(0, said.find_last_not_of('\n') + 1));
  std::fputs(said.c_str(), stderr); // its warnings, as it gave them
  if (::mount(nullptr, target.c_str(), nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    fail_errno("cannot make the fuse-overlayfs mount private");
  struct statfs fs;
  if (::statfs(target.c_str(), &fs) != 0 || fs.f_type != kFuseSuperMagic)
    fail_work("fuse-overlayfs reported success but no FUSE mount is at {}", target);
}

void mount_plain(const OverlaySpec& spec, const std::string& target) {
  check_spec(spec, false);
  if (!spec.lower.empty())
    fail_input("a plain-directory root cannot stack {} lower directories: without an overlay there is no copy-up "
               "(put the whole tree in the upper directory, or use the kernel or fuse driver)",
               spec.lower.size());
  if (::mount(spec.upper.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    fail_errno(fmt::format("cannot bind {} onto {}", spec.upper, target));
}

} // namespace

std::string_view overlay_driver_name(OverlayDriver driver) {
  switch (driver) {
  case OverlayDriver::Auto: return "auto";
  case OverlayDriver::Kernel: return "kernel";
  case OverlayDriver::Fuse: return "fuse";
  case OverlayDriver::Plain: return "plain";
  }
  return "?";
}

OverlayDriver parse_overlay_driver(std::string_view name) {
  for (OverlayDriver d : {OverlayDriver::Auto, OverlayDriver::Kernel, OverlayDriver::Fuse, OverlayDriver::Plain})
    if (name == overlay_driver_name(d)) return d;
  fail_input("unknown overlay driver {:?}: expected auto, kernel, fuse or plain", std::string(name));
}

bool fuse_overlay_available() {
  if (find_program("fuse-overlayfs").empty()) return false;
  Fd fuse(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
  return static_cast<bool>(fuse);
}

std::string kernel_overlay_options(const OverlaySpec& spec) {
  std::string lowers;
  for (const std::string& lower : spec.lower) lowers += (lowers.empty() ? "" : ":") + escape_overlay_path(lower);
  return fmt::format("lowerdir={},upperdir={},workdir={},userxattr", lowers, escape_overlay_path(spec.upper),
                     escape_overlay_path(spec.work));
}

std::vector<std::string> distinct_lower_dirs(const std::vector<std::string>& lower) {
  std::vector<std::string> distinct;
  std::set<std::string> seen;
  for (const std::string& dir : lower)
    if (seen.insert(dir).second) distinct.push_back(dir);
  return distinct;
}

OverlayDriver mount_overlay(const OverlaySpec& given, const std::string& target, OverlayDriver driver) {
  OverlaySpec spec = given;
  spec.lower = distinct_lower_dirs(given.lower);
  switch (driver) {
  case OverlayDriver::Kernel: mount_kernel(spec, target); return driver;
  case OverlayDriver::Fuse: mount_fuse(spec, target); return driver;
  case OverlayDriver::Plain: mount_plain(spec, target); return driver;
  case OverlayDriver::Auto: break;
  }
  if (spec.lower.empty()) {
    mount_plain(spec, target);
    return OverlayDriver::Plain;
  }
  try {
    mount_kernel(spec, target);
    return OverlayDriver::Kernel;
  } catch (const WorkError& kernel_failure) {
    if (!fuse_overlay_available()) throw;
    mount_fuse(spec, target);
    return OverlayDriver::Fuse;
  }
}

} // namespace strata::mount
