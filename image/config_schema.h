// The execution defaults of an image config (`config`: Cmd, Env, Labels, …) checked
// against the types the OCI image spec and Docker's image spec v1.2 give their fields,
// so that strata never writes a config that Docker, podman or skopeo would refuse.
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace strata {

// A config larger than this, serialised, is refused (strata's own readers take image
// metadata of up to 64 MiB; registries refuse far less).
inline constexpr size_t max_config_bytes = 4u << 20;

// InputError "<what>: 'config.Cmd' must be a list of strings, not a number" and the
// like. Fields neither spec names pass unchanged (both say readers ignore them), but
// no string anywhere may hold a NUL byte (no exec or environment could carry it).
void validate_container_config(const nlohmann::json& config, const std::string& what);

} // namespace strata
