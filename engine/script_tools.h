// The shell and basic tools a root script (runAsRoot, fakeRootCommands, extraCommands)
// runs with, whatever the tree it runs over holds. Nothing of the host appears at its own
// path inside; the shell is the first of these that exists in the sandbox:
//   1. the tree's own /bin/sh, with the usual PATH (/usr/local/sbin … /bin);
//   2. `sh`, then `bash`, of the caller's PATH entries that lie in the store dir (the
//      store is bound read-only at its own path, so they work inside as they do outside:
//      inside a Nix build these are the build's tools);
//   3. the toolbox: a statically linked busybox (the --toolbox flag, else
//      $STRATA_TOOLBOX, else the host's /bin/busybox or /usr/bin/busybox when it is
//      static, as Debian's busybox-static is), bound read-only with its applets at
//      /dev/.strata-toolbox (on /dev's tmpfs, so it never reaches a layer).
// PATH inside is the tree's usual PATH, then those store entries, then the toolbox, so a
// script over a tree with a shell but no coreutils still finds mkdir.
#pragma once
#include "ns/sandbox.h"
#include "sys/temp.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace strata::engine {

inline constexpr const char* kToolboxDir = "/dev/.strata-toolbox";

// Where the toolbox comes from: "" = the default search, "none" = no toolbox.
std::optional<std::string> find_toolbox(const std::string& requested);

// True when the ELF file at path needs no program interpreter (is statically linked).
bool is_static_executable(const std::string& path);

class ScriptTools {
public:
  // store_dir: the store bound into the sandbox (may not exist); caller_path: the
  // caller's $PATH; toolbox: a static busybox, or nullopt.
  ScriptTools(const std::string& store_dir, const std::string& caller_path, const std::optional<std::string>& toolbox);

  // argv[0] and its stand-ins (ns::SandboxConfig::stand_ins), in the order above.
  const std::string& shell() const { return shells_.front(); }
  std::vector<std::string> stand_ins() const { return {shells_.begin() + 1, shells_.end()}; }
  // The PATH=... entry of the script's environment.
  std::string path_env() const { return "PATH=" + path_; }
  // The toolbox's binds (none without a toolbox).
  const std::vector<ns::BindMount>& binds() const { return binds_; }
  // For messages when no shell could run.
  std::string describe() const;

private:
  std::vector<std::string> shells_;
  std::string path_;
  std::vector<ns::BindMount> binds_;
  std::unique_ptr<TempDir> applets_; // the toolbox's applet links, a host dir bound inside
};

} // namespace strata::engine
