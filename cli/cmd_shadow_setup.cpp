#include "cli/commands.h"
#include "cli/common.h"
#include "image/shadow.h"
#include "sys/error.h"

#include <cstdio>
#include <fmt/format.h>
#include <memory>

namespace strata::cli {

void define_shadow_setup_command(CommandLine& cmd) {
  struct Options {
    std::string root;
    bool script = false;
  };
  auto opts = std::make_shared<Options>();
  cmd.option("ROOT", opts->root, "The image's root directory");
  cmd.flag("--script", opts->script, "Print the same as a shell snippet for a script running as root instead");
  add_global_flags(cmd);
  cmd.callback([opts] {
    if (opts->script) {
      if (!opts->root.empty()) fail_input("shadow-setup: --script takes no ROOT (got {})", opts->root);
      write_stdout(shadow_setup_script());
      return;
    }
    if (opts->root.empty()) fail_input("shadow-setup: ROOT is missing (the image root directory)");
    ShadowSetupReport report = shadow_setup(opts->root);
    if (global_options().json) {
      print_json({{"root", opts->root}, {"created", report.created}, {"kept", report.kept}});
      return;
    }
    note(fmt::format("shadow-setup {}: created {}, kept {}", opts->root, report.created.size(), report.kept.size()));
    for (const auto& p : report.created) verbose("created " + p);
    for (const auto& p : report.kept) verbose("kept " + p);
  });
}

} // namespace strata::cli
