// Runs root scripts for the image builders: the base image's layers unpacked once each
// (mount/layer_store.h) and stacked as overlay lower dirs under the new layer's upper dir,
// the script run as root in the sandbox (ns/sandbox.h), and the upper dir read back as a
// layer diff (mount/diff.h) with owners mapped back through the sandbox's id map. The
// same machinery runs any command for `strata run` (run_command).
#pragma once
#include "image/dockertools/root_script.h"
#include "mount/id_map.h"
#include "engine/script_tools.h"
#include "mount/overlay.h"
#include "ns/id_mode.h"
#include "sys/temp.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace strata::engine {

// How root scripts are sandboxed: the choices `--id-mode`, `--overlay`, `--network`,
// `--timeout` and `--layer-store` make.
// The sandbox's resource limits unless asked otherwise: a 1 GiB /tmp (the kernel's
// default is half the RAM) and 2048 processes (podman's default pids limit).
inline constexpr uint64_t kDefaultTmpSize = uint64_t{1} << 30;
inline constexpr uint32_t kDefaultPidsLimit = 2048;

struct SandboxOptions {
  ns::IdMode id_mode = ns::IdMode::Auto;
  mount::OverlayDriver overlay = mount::OverlayDriver::Auto;
  bool network = false;
  std::chrono::seconds timeout{0};
  std::string layer_store_dir; // empty: the default cache
  std::string toolbox;         // a static busybox for root scripts; "": found, "none": none
  uint64_t tmp_size = kDefaultTmpSize;     // ns::SandboxConfig::tmp_size
  uint32_t pids_limit = kDefaultPidsLimit; // ns::SandboxConfig::pids_limit
};

// One command run as root in the sandbox, over a stack of directories: the base image's
// layers (from the layer store, newest first), then `lower_dirs`, under `upper`.
struct SandboxRunRequest {
  const ImageSource* base = nullptr;
  std::vector<std::string> lower_dirs; // below the base's layers, topmost first
  // Receives every change. With nothing below it the overlay driver Auto (or Plain)
  // binds it as the root itself.
  std::string upper;
  std::vector<std::string> argv;     // argv[0] looked up on the sandbox's PATH
  std::vector<std::string> stand_ins; // see ns::SandboxConfig::stand_ins
  std::vector<std::string> env;      // KEY=VALUE over ns::default_env()'s
  std::string store_dir;             // bound read-only at the same path when it exists
  std::vector<ns::BindMount> binds;  // more binds, after the store's
  std::string what = "command";      // names the run in messages
  std::function<void()> meanwhile;   // see ns::SandboxConfig::meanwhile
};

class SandboxRootScriptRunner : public RootScriptRunner {
public:
  explicit SandboxRootScriptRunner(SandboxOptions options) : options_(std::move(options)) {}

  // Runs request.script as `SHELL -e -c SCRIPT` (run_command, or with as_caller in a
  // sandbox of its own), SHELL and PATH chosen as engine/script_tools.h says.
  RootScriptReport run(const RootScriptRequest& request) override;
  // Runs a command; a non-zero exit status is reported, not thrown.
  RootScriptReport run_command(const SandboxRunRequest& request);
  void walk_upper(const std::string& upper, int64_t mtime, const EntryVisitor& visit) override;
  void remove(const std::string& dir) override;
  // Hands what the script left unreadable to the caller, its owner recorded
  // (mount/readable_tree.h), so that the diff and the reference scan can read it.
  void make_upper_readable(const std::string& upper) override;

  const SandboxOptions& options() const { return options_; }

private:
  void sweep_stale_scratch_dirs();
  // Runs work (a host path's changes) as root of a user namespace with the run's id
  // maps, before any sandbox root is entered: for what only a mapped id may do.
  void run_in_user_namespace(const std::function<void()>& work, const std::string& label);
  RootScriptReport run_as_caller(const RootScriptRequest& request);
  const ScriptTools& tools_for(const std::string& store_dir);

  SandboxOptions options_;
  std::optional<ns::IdMapPlan> plan_;
  std::vector<std::string> created_paths_;
  // User xattrs refused (a Nix build): owners go to owner tables (sys/owner_table.h);
  // the reason, probed once; lower dirs of the last run, whose tables walk_upper reads.
  std::optional<std::optional<std::string>> xattrs_refused_;
  bool owner_tables_ = false;
  std::vector<std::string> lower_dirs_;
  std::unique_ptr<ScriptTools> tools_; // made once, for the store dir of tools_store_
  std::string tools_store_;
};

} // namespace strata::engine
