// Test helpers: run Debian's nix-bin tools (isolated in a temp state dir) and build trees.
#pragma once
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::nix::test {

// Runs a shell command, returns its stdout; a non-zero exit fails the test by throwing.
inline std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, n);
  int status = ::pclose(pipe.release());
  if (status != 0) throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command);
  return out;
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

// Points nix-bin's state, log, config and cache dirs at a temp dir for the test's life,
// so no test reads the host's Nix setup or leaves anything behind.
class NixEnvironment {
public:
  NixEnvironment() : dir_("strata-nix-env") {
    for (const char* sub : {"state", "log", "conf", "home"}) make_dirs(dir_.path() + "/" + sub);
    set("NIX_STATE_DIR", "state");
    set("NIX_LOG_DIR", "log");
    set("NIX_CONF_DIR", "conf");
    set("HOME", "home");
    set("XDG_CACHE_HOME", "home");
  }
  const std::string& path() const { return dir_.path(); }

private:
  void set(const char* name, const char* sub) { ::setenv(name, (dir_.path() + "/" + sub).c_str(), 1); }
  TempDir dir_;
};

inline void write_mode(const std::string& path, std::string_view contents, mode_t mode) {
  write_file(path, contents, 0600);
  ::chmod(path.c_str(), mode);
}

} // namespace strata::nix::test
