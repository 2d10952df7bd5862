#include "image/dockertools/layer_limit.h"

#include "sys/log.h"

#include <fmt/format.h>

namespace strata {

void warn_if_unstackable(size_t layer_count) {
  if (layer_count > podman_runnable_layers)
    log_note(fmt::format("warning: the image has {} layers, more than Docker ({}) or podman ({}, the kernel's "
                         "overlayfs limit) can run",
                         layer_count, docker_runnable_layers, podman_runnable_layers));
  else if (layer_count > docker_runnable_layers)
    log_note(fmt::format("warning: the image has {} layers, more than the {} Docker can run (its overlay2 driver "
                         "stacks at most {} lower dirs, a container's init layer among them); podman before 4.4 "
                         "runs up to {}, later podman {}",
                         layer_count, docker_runnable_layers, docker_runnable_layers + 1, docker_runnable_layers + 1,
                         podman_runnable_layers));
}

} // namespace strata
