#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "cli/registry_flags.h"
#include "image/registry/push.h"

#include <memory>

namespace strata::cli {

void define_push_command(CommandLine& cmd) {
  struct Options {
    std::string image, destination, name, tag;
    std::vector<std::string> mount_from;
    RegistryFlags registry;
  };
  auto opts = std::make_shared<Options>();
  cmd.option("IMAGE", opts->image, "docker-archive, OCI dir or archive, or a `strata manifest` dir").required();
  cmd.option("DESTINATION", opts->destination, "docker://HOST[:PORT]/REPO[:TAG|@DIGEST]").required();
  cmd.option("--name", opts->name, "Pick the image of IMAGE with this name");
  cmd.option("--tag", opts->tag, "Pick the image of IMAGE with this tag");
  cmd.option("--mount-from", opts->mount_from, "Another repository of the registry to mount blobs from (repeatable)");
  opts->registry.add_to(cmd);
  add_global_flags(cmd);
  cmd.callback([opts] {
    registry::Reference target = registry::parse_docker_reference(opts->destination, "DESTINATION");
    Progress progress;
    registry::PushOptions options;
    options.registry = opts->registry.options();
    options.mount_from = opts->mount_from;
    options.events = push_events(progress);
    registry::RegistryPush push(target, options);
    registry::push_image(opts->image, {opts->name, opts->tag}, push);
    progress.done();
    if (global_options().json) print_json(push.report().to_json());
    else note_push(push.report());
  });
}

} // namespace strata::cli
