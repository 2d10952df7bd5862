#include "cli/commands.h"
#include "cli/common.h"
#include "cli/sandbox_flags.h"
#include "cli/spec_flags.h"
#include "image/dockertools/layer_dir.h"
#include "sys/error.h"

#include <fmt/format.h>
#include <memory>

namespace strata::cli {

void define_layer_command(CommandLine& cmd) {
  struct Options {
    SpecFlags spec;
    std::string output;
    SandboxFlags sandbox;
  };
  auto opts = std::make_shared<Options>();
  opts->spec.add_to(cmd, false);
  cmd.option("-o,--output", opts->output, "Directory to create (or an empty one); appears only when complete")
      .required()
      .not_empty();
  opts->sandbox.add_to(cmd);
  add_global_flags(cmd);
  cmd.callback([opts] {
    Spec spec = opts->spec.load();
    engine::SandboxRootScriptRunner runner(opts->sandbox.options());
    LayerDirReport report = write_layer_dir(spec, opts->output, [](const std::string& s) { verbose(s); }, &runner);
    if (global_options().json) {
      print_json(report.to_json());
      return;
    }
    note(fmt::format("layer ({} entries, {}) -> {}", report.layer.entries, report.checksum, opts->output));
  });
}

} // namespace strata::cli
