// `strata sandbox-exec`: runs a command in the sandbox over a rootfs dir or an overlay of
// dirs. Hidden: it exists so tests and benchmarks can drive the sandbox directly;
// `strata run` is the command for users.
#include "cli/commands.h"
#include "cli/common.h"
#include "mount/overlay.h"
#include "ns/sandbox.h"
#include "sys/error.h"
#include "sys/files.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace strata::cli {
namespace {

ns::BindMount parse_bind(const std::string& text) {
  size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    fail_input("--bind {:?}: expected SRC:DST or SRC:DST:ro", text);
  ns::BindMount bind;
  bind.source = absolute_path(text.substr(0, colon));
  bind.target = text.substr(colon + 1);
  bind.read_only = false;
  if (bind.target.size() > 3 && bind.target.compare(bind.target.size() - 3, 3, ":ro") == 0) {
    bind.target.resize(bind.target.size() - 3);
    bind.read_only = true;
  } else if (bind.target.size() > 3 && bind.target.compare(bind.target.size() - 3, 3, ":rw") == 0) {
    bind.target.resize(bind.target.size() - 3);
  }
  return bind;
}

} // namespace

void define_sandbox_exec_command(CommandLine& cmd) {
  struct Options {
    std::string rootfs, upper, work, id_mode = "auto", network = "none", overlay = "auto", cwd = "/";
    std::vector<std::string> lower, binds, env, command;
    unsigned timeout = 0;
  };
  auto opts = std::make_shared<Options>();
  cmd.option("--rootfs", opts->rootfs, "Directory that becomes /");
  cmd.option("--lower", opts->lower, "Overlay lower directory, newest first (repeat)");
  cmd.option("--upper", opts->upper, "Overlay upper directory (receives the changes)");
  cmd.option("--work", opts->work, "Overlay work directory (empty, on upper's filesystem)");
  cmd.option("--overlay", opts->overlay, "Overlay driver: auto, kernel, fuse or plain");
  cmd.option("--id-mode", opts->id_mode, "Id mapping: auto, root, subuid, fuse or single");
  cmd.option("--network", opts->network, "none (default) or host");
  cmd.option("--bind", opts->binds, "Bind SRC:DST[:ro] into the sandbox (repeat)");
  cmd.option("--env", opts->env, "KEY=VALUE added to the command's environment (repeat)");
  cmd.option("--cwd", opts->cwd, "Working directory inside");
  cmd.option("--timeout", opts->timeout, "Kill the sandbox after this many seconds");
  cmd.option("command", opts->command, "The command and its arguments (after --)").required();
  add_global_flags(cmd);
  cmd.callback([opts] {
    ns::SandboxConfig config;
    config.id_mode = ns::parse_id_mode(opts->id_mode);
    if (opts->network != "none" && opts->network != "host")
      fail_input("--network {:?}: expected none or host", opts->network);
    config.network = opts->network == "host";
    config.timeout = std::chrono::seconds(opts->timeout);
    config.argv = opts->command;
    config.cwd = opts->cwd;
    config.env = ns::default_env();
    for (const std::string& e : opts->env) {
      if (e.find('=') == std::string::npos) fail_input("--env {:?}: expected KEY=VALUE", e);
      config.env.push_back(e);
    }
    for (const std::string& b : opts->binds) config.binds.push_back(parse_bind(b));

    bool overlay = !opts->upper.empty() || !opts->lower.empty();
    if (overlay == !opts->rootfs.empty()) fail_input("give either --rootfs DIR or --upper DIR (with --lower/--work)");
    if (overlay) {
      mount::OverlaySpec spec;
      for (const std::string& l : opts->lower) spec.lower.push_back(absolute_path(l));
      if (opts->upper.empty()) fail_input("--lower needs --upper (and --work)");
      spec.upper = absolute_path(opts->upper);
      if (!opts->work.empty()) spec.work = absolute_path(opts->work);
      mount::OverlayDriver driver = mount::parse_overlay_driver(opts->overlay);
      if (config.id_mode == ns::IdMode::Fuse) driver = mount::OverlayDriver::Fuse;
      config.prepare_root = [spec, driver](const std::string& root) {
        return "overlay:" + std::string(mount::overlay_driver_name(mount::mount_overlay(spec, root, driver)));
      };
    } else {
      config.rootfs = opts->rootfs;
    }

    ns::SandboxResult result = ns::run_sandbox(config);
    verbose(fmt::format("id mode: {}", ns::id_mode_name(result.mode_used)));
    for (const std::string& n : result.notes) verbose(n);
    if (global_options().json) {
      print_json({{"exit_status", result.exit_status},
                  {"id_mode", ns::id_mode_name(result.mode_used)},
                  {"root", result.root_label.empty() ? "dir" : result.root_label},
                  {"notes", result.notes},
                  {"created_paths", result.created_paths}});
    }
    std::fflush(nullptr);
    std::exit(result.exit_status);
  });
}

} // namespace strata::cli
