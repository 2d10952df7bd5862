// The flags that choose how root scripts are sandboxed, shared by build, layer, layered
// and run.
#pragma once
#include "cli/command_line.h"
#include "engine/root_script_runner.h"

#include <string>

namespace strata::cli {

struct SandboxFlags {
  std::string id_mode = "auto", overlay = "auto", network = "none", layer_store, toolbox;
  unsigned timeout = 0;
  std::string tmp_size = "1g";
  unsigned pids_limit = engine::kDefaultPidsLimit;

  // Adds --id-mode, --overlay, --network, --timeout, --tmp-size, --pids-limit, --layer-store and
  // --toolbox to a command.
  void add_to(CommandLine& cmd);
  // The options they give; a bad value is an InputError naming the flag.
  engine::SandboxOptions options() const;
};

} // namespace strata::cli
