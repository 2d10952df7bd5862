#include "cli/commands.h"
#include "cli/common.h"
#include "cli/root_script_runner.h"
#include "cli/spec_flags.h"
#include "image/build/layer_dir.h"
#include "ns/sys/error.h"

#include <fmt/format.h>
#include <memory>

namespace strata::cli {

void define_layer_command(CommandLine& cmd) {
  struct Options {
    SpecFlags spec;
    std::string output;
    SandboxOptions sandbox;
    std::string id_mode = "auto", overlay = "auto", network = "none";
    unsigned timeout = 0;
  };
  auto opts = std::make_shared<Options>();
  opts->spec.add_to(cmd, false);
  cmd.option("-o,--output", opts->output, "Directory to create (or an empty one); appears only when complete")
      .required();
  add_sandbox_flags(cmd, opts->sandbox, opts->id_mode, opts->overlay, opts->network, opts->timeout);
  add_global_flags(cmd);
  cmd.callback([opts] {
    Spec spec = opts->spec.load();
    SandboxRootScriptRunner runner(parse_sandbox_flags(opts->id_mode, opts->overlay, opts->network, opts->timeout,
                                                       opts->sandbox.layer_store_dir));
    LayerDirReport report = write_layer_dir(spec, opts->output, [](const std::string& s) { verbose(s); }, &runner);
    if (global_options().json) {
      print_json(report.to_json());
      return;
    }
    note(fmt::format("layer ({} entries, {}) -> {}", report.layer.entries, report.checksum, opts->output));
  });
}

} // namespace strata::cli
