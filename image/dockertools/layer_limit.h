// How many layers the container runtimes stack, and the warning for an image of more.
// dockerTools takes any maxLayers above 1 and strata does too; an image past these still
// builds, loads and pushes, but a runtime cannot mount it:
//  - Docker's overlay2 driver stacks at most 128 lower dirs (maxDepth in moby's
//    daemon/graphdriver/overlay2/overlay.go), and a container's are its image's layers
//    and its init layer: an image of more than 127 layers does not run;
//  - podman's overlay driver (containers/storage drivers/overlay/overlay.go, maxDepth) had
//    the same 128 until containers/storage 1.44 (podman 4.4), 500 since: the kernel's
//    overlayfs limit.
#pragma once
#include <cstddef>

namespace strata {

inline constexpr size_t docker_runnable_layers = 127;
inline constexpr size_t podman_runnable_layers = 500;

// A warning on stderr (a note: -q silences it) when an image of layer_count layers is
// more than Docker runs, naming the count and the limits.
void warn_if_unstackable(size_t layer_count);

} // namespace strata
