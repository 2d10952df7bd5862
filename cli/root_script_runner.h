// Runs root scripts for the image builders: the base image's layers unpacked once each
// (mount/layer_store.h) and stacked as overlay lower dirs under the new layer's upper dir,
// the script run as root in the sandbox (ns/sandbox.h), and the upper dir read back as a
// layer diff (mount/diff.h) with owners mapped back through the sandbox's id map.
#pragma once
#include "image/build/root_script.h"
#include "mount/id_map.h"
#include "mount/overlay.h"
#include "ns/id_mode.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <optional>

namespace strata::cli {

struct SandboxOptions {
  ns::IdMode id_mode = ns::IdMode::Auto;
  mount::OverlayDriver overlay = mount::OverlayDriver::Auto;
  bool network = false;
  std::chrono::seconds timeout{0};
  std::string layer_store_dir; // empty: the default cache
};

// Adds --id-mode, --overlay, --network, --timeout and --layer-store to a command.
void add_sandbox_flags(CLI::App& cmd, SandboxOptions& options, std::string& id_mode, std::string& overlay,
                       std::string& network, unsigned& timeout);
SandboxOptions parse_sandbox_flags(const std::string& id_mode, const std::string& overlay, const std::string& network,
                                   unsigned timeout, std::string layer_store_dir);

class SandboxRootScriptRunner : public RootScriptRunner {
public:
  explicit SandboxRootScriptRunner(SandboxOptions options) : options_(std::move(options)) {}

  RootScriptReport run(const RootScriptRequest& request) override;
  void walk_upper(const std::string& upper, int64_t mtime, const EntryVisitor& visit) override;
  void remove(const std::string& dir) override;

private:
  SandboxOptions options_;
  std::optional<ns::IdMapPlan> plan_;
  std::vector<std::string> created_paths_;
};

} // namespace strata::cli
