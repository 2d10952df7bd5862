#include "cli/sandbox_flags.h"

#include "sys/error.h"

namespace strata::cli {

void SandboxFlags::add_to(CommandLine& cmd) {
  cmd.option("--id-mode", id_mode, "Id mapping for root scripts: auto (default), root, subuid, fuse or single");
  cmd.option("--overlay", overlay, "How base layers are stacked: auto (default), kernel, fuse or plain");
  cmd.option("--network", network, "Network for root scripts: none (default) or host");
  cmd.option("--timeout", timeout, "Kill a root script after this many seconds (default: never)");
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
  o.layer_store_dir = layer_store;
  o.toolbox = toolbox;
  return o;
}

} // namespace strata::cli
