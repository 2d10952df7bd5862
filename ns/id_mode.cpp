#include "ns/id_mode.h"

#include "sys/error.h"
#include "sys/files.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace strata::ns {
namespace {

std::optional<uint32_t> parse_u32(std::string_view s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The path of an executable found on $PATH (or in the usual places), or "".
std::string find_program(const std::string& name) {
  const char* env_path = std::getenv("PATH");
  std::string path = env_path && *env_path ? env_path : "/usr/bin:/bin:/usr/sbin:/sbin";
  path += ":/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return {};
}

std::string read_optional(const std::string& path) {
  try {
    return read_file(path);
  } catch (const Error&) {
    return {};
  }
}

std::string map_text(const std::vector<IdRange>& ranges) {
  std::string text;
  for (const IdRange& r : ranges) text += fmt::format("{} {} {}\n", r.inside, r.outside, r.count);
  return text;
}

void write_proc_file(pid_t pid, const char* name, const std::string& text) {
  std::string path = fmt::format("/proc/{}/{}", pid, name);
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) fail_errno("cannot open " + path);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    fail_errno(fmt::format("cannot write {:?} to {}", text, path));
}

pid_t spawn_map_helper(const std::string& program, pid_t pid, const std::vector<IdRange>& ranges) {
  std::vector<std::string> args{program, std::to_string(pid)};
  for (const IdRange& r : ranges) {
    args.push_back(std::to_string(r.inside));
    args.push_back(std::to_string(r.outside));
    args.push_back(std::to_string(r.count));
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = -1;
  int err = ::posix_spawn(&child, program.c_str(), nullptr, nullptr, argv.data(), environ);
  if (err != 0) fail_errno("cannot run " + program, err);
  return child;
}

void wait_map_helper(pid_t child, const std::string& program) {
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) fail_errno("cannot wait for " + program);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail_work("{} failed (status {}): cannot map the subordinate ids of /etc/subuid and /etc/subgid", program,
              WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

struct Caller {
  uid_t uid;
  gid_t gid;
  std::string name;
};

Caller caller() {
  Caller c{::geteuid(), ::getegid(), {}};
  if (c.uid != 0)  // root needs no name: its map is the full one
    if (const passwd* pw = ::getpwuid(c.uid)) c.name = pw->pw_name;
  return c;
}

// Maps every id the caller's own namespace has onto itself (real root only).
IdMapPlan full_plan(IdMode mode) {
  IdMapPlan plan;
  plan.mode = mode;
  for (const IdRange& r : parse_id_map(read_optional("/proc/self/uid_map"))) plan.uids.push_back({r.inside, r.inside, r.count});
  for (const IdRange& r : parse_id_map(read_optional("/proc/self/gid_map"))) plan.gids.push_back({r.inside, r.inside, r.count});
  if (plan.uids.empty()) plan.uids.push_back({0, 0, 4294967295u});
  if (plan.gids.empty()) plan.gids.push_back({0, 0, 4294967295u});
  return plan;
}

// nullopt (with the reason in why) when the caller has no usable subordinate ranges.
std::optional<IdMapPlan> subuid_plan(IdMode mode, const Caller& c, std::string& why) {
  if (find_program("newuidmap").empty() || find_program("newgidmap").empty()) {
    why = "newuidmap/newgidmap are not installed (Debian package uidmap)";
    return std::nullopt;
  }
  auto uids = find_subid_range(read_optional("/etc/subuid"), c.name, c.uid);
  auto gids = find_subid_range(read_optional("/etc/subgid"), c.name, c.uid);
  if (!uids || !gids || uids->count == 0 || gids->count == 0) {
    why = fmt::format("user {} ({}) has no range in {}", c.name.empty() ? "?" : c.name, c.uid,
                      !uids || uids->count == 0 ? "/etc/subuid" : "/etc/subgid");
    return std::nullopt;
  }
  IdMapPlan plan;
  plan.mode = mode;
  plan.use_newidmap = true;
  plan.uids = {{0, c.uid, 1}, {1, uids->start, uids->count}};
  plan.gids = {{0, c.gid, 1}, {1, gids->start, gids->count}};
  return plan;
}

IdMapPlan single_plan(const Caller& c) {
  IdMapPlan plan;
  plan.mode = IdMode::Single;
  plan.uids = {{0, c.uid, 1}};
  plan.gids = {{0, c.gid, 1}};
  plan.deny_setgroups = true;
  return plan;
}

} // namespace

std::string_view id_mode_name(IdMode mode) {
  switch (mode) {
  case IdMode::Auto: return "auto";
  case IdMode::Root: return "root";
  case IdMode::Subuid: return "subuid";
  case IdMode::Fuse: return "fuse";
  case IdMode::Single: return "single";
  }
  return "?";
}

IdMode parse_id_mode(std::string_view name) {
  for (IdMode m : {IdMode::Auto, IdMode::Root, IdMode::Subuid, IdMode::Fuse, IdMode::Single})
    if (name == id_mode_name(m)) return m;
  fail_input("unknown id mode {:?}: expected auto, root, subuid, fuse or single", std::string(name));
}

std::optional<SubidRange> find_subid_range(std::string_view contents, std::string_view user_name, uint32_t id) {
  std::string id_text = std::to_string(id);
  while (!contents.empty()) {
    size_t nl = contents.find('\n');
    std::string_view line = trim(contents.substr(0, nl));
    contents = nl == std::string_view::npos ? std::string_view{} : contents.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view owner = line.substr(0, c1);
    if (owner != id_text && (user_name.empty() || owner != user_name)) continue;
    auto start = parse_u32(line.substr(c1 + 1, c2 - c1 - 1));
    auto count = parse_u32(line.substr(c2 + 1));
    if (start && count) return SubidRange{*start, *count};
  }
  return std::nullopt;
}

std::vector<IdRange> parse_id_map(std::string_view contents) {
  std::vector<IdRange> ranges;
  while (!contents.empty()) {
    size_t nl = contents.find('\n');
    std::string_view line = contents.substr(0, nl);
    contents = nl == std::string_view::npos ? std::string_view{} : contents.substr(nl + 1);
    uint32_t fields[3];
    int n = 0;
    while (n < 3) {
      line = trim(line);
      size_t end = line.find_first_of(" \t");
      auto v = parse_u32(line.substr(0, end));
      if (!v) break;
      fields[n++] = *v;
      line = end == std::string_view::npos ? std::string_view{} : line.substr(end);
    }
    if (n == 3) ranges.push_back({fields[0], fields[1], fields[2]});
  }
  return ranges;
}

IdMapPlan plan_id_maps(IdMode requested) {
  Caller c = caller();
  bool real_root = c.uid == 0;
  std::string why;
  switch (requested) {
  case IdMode::Auto: {
    IdMapPlan plan;
    if (real_root) {
      plan = full_plan(IdMode::Root);
      plan.why = "strata runs as real root";
    } else if (auto sub = subuid_plan(IdMode::Subuid, c, why)) {
      plan = *sub;
      plan.why = fmt::format("subordinate ids of user {} from /etc/subuid", c.name);
    } else {
      plan = single_plan(c);
      plan.why = "one id only, chown recorded by the supervisor: " + why;
    }
    return plan;
  }
  case IdMode::Root:
    if (!real_root) fail_work("id mode root needs real root (strata runs as uid {})", c.uid);
    return full_plan(IdMode::Root);
  case IdMode::Subuid:
    if (auto plan = subuid_plan(IdMode::Subuid, c, why)) return *plan;
    fail_work("id mode subuid is not available: {}", why);
  case IdMode::Fuse:
    if (real_root) return full_plan(IdMode::Fuse);
    if (auto plan = subuid_plan(IdMode::Fuse, c, why)) return *plan;
    fail_work("id mode fuse needs real root or a subordinate id range (the kernel refuses chown to unmapped ids "
              "before fuse-overlayfs sees it): {}",
              why);
  case IdMode::Single:
    return single_plan(c);
  }
  fail_work("unknown id mode");
}

void write_id_maps(const IdMapPlan& plan, pid_t pid) {
  if (plan.use_newidmap) {
    // Both helpers at once: each is a setuid exec, the slowest step of a sandbox start.
    std::string newuidmap = find_program("newuidmap"), newgidmap = find_program("newgidmap");
    pid_t u = spawn_map_helper(newuidmap, pid, plan.uids);
    pid_t g = -1;
    try {
      g = spawn_map_helper(newgidmap, pid, plan.gids);
    } catch (...) {
      int status;
      ::waitpid(u, &status, 0);
      throw;
    }
    std::exception_ptr failure;
    try {
      wait_map_helper(u, newuidmap);
    } catch (...) {
      failure = std::current_exception();
    }
    wait_map_helper(g, newgidmap);
    if (failure) std::rethrow_exception(failure);
    return;
  }
  if (plan.deny_setgroups) write_proc_file(pid, "setgroups", "deny");
  write_proc_file(pid, "uid_map", map_text(plan.uids));
  write_proc_file(pid, "gid_map", map_text(plan.gids));
}

} // namespace strata::ns
