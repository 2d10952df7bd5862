// Composes an image config: the base's config (if any) with the spec's, the layers'
// diff_ids and a history entry per layer.
#pragma once
#include "image/spec.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace strata {

// `base_config` is the base image's whole config JSON or null. `new_diff_ids` follow the
// base's; each new layer gets a history entry saying `created_by`.
std::string compose_config(const nlohmann::json& base_config, const Spec& spec, const std::string& created,
                           const std::vector<std::string>& new_diff_ids, const std::string& created_by);

// Env lists merged: base first, then new; one entry per name, the last value winning,
// each name where it first appeared.
nlohmann::json merge_env(const nlohmann::json& base_env, const nlohmann::json& new_env);

} // namespace strata
