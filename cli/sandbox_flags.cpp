#include "cli/sandbox_flags.h"

#include "cli/common.h"
#include "sys/error.h"

namespace strata::cli {

void SandboxFlags::add_to(CommandLine& cmd) {
  cmd.option("--id-mode", id_mode, "Id mapping for root scripts: auto (default), root, subuid, fuse or single");
  cmd.option("--overlay", overlay, "How base layers are stacked: auto (default), kernel, fuse or plain");
  cmd.option("--network", network, "Network for root scripts: none (default) or host");
  cmd.option("--timeout", timeout, "Kill a root script after this many seconds (default: never)");
  cmd.option("--tmp-size", tmp_size,
             "Size of the sandbox's /tmp tmpfs (k, m, g suffixes; default 1g), and an inode per 4 KiB of it");
  cmd.option("--pids-limit", pids_limit,
             "Processes the sandbox may hold (default 2048; 0: no limit): per uid in it, and 300 more in all");
  cmd.option("--layer-store", layer_store, "Where unpacked base layers are cached");
  cmd.option("--toolbox", toolbox,
             "A static busybox giving root scripts a shell and tools when neither the image nor PATH has them "
             "(default: $STRATA_TOOLBOX, else /bin/busybox if static; none: no toolbox)");
}

engine::SandboxOptions SandboxFlags::options() const {
  engine::SandboxOptions o;
  o.id_mode = ns::parse_id_mode(id_mode);
  o.overlay = mount::parse_overlay_driver(overlay);
  if (network != "none" && network != "host") fail_input("--network '{}': expected none or host", network);
  o.network = network == "host";
  o.timeout = std::chrono::seconds(timeout);
  o.tmp_size = parse_size(tmp_size, "--tmp-size");
  if (pids_limit > 4194304 - 300) fail_input("--pids-limit {}: at most {}", pids_limit, 4194304 - 300);
  o.pids_limit = pids_limit;
  o.layer_store_dir = layer_store;
  o.toolbox = toolbox;
  return o;
}

} // namespace strata::cli
