#include "image/image_config.h"

#include "sys/error.h"

#include <map>

namespace strata {

using nlohmann::json;

json merge_env(const json& base_env, const json& new_env) {
  std::vector<std::string> order;
  std::map<std::string, std::string> values;
  for (const json* list : {&base_env, &new_env}) {
    if (list->is_null()) continue;
    if (!list->is_array()) fail_input("config: 'Env' must be a list of \"NAME=value\" strings");
    for (const auto& item : *list) {
      if (!item.is_string()) fail_input("config: 'Env' entries must be strings");
      std::string s = item.get<std::string>();
      std::string name = s.substr(0, s.find('='));
      if (!values.count(name)) order.push_back(name);
      values[name] = s;
    }
  }
  json out = json::array();
  for (const auto& name : order) out.push_back(values[name]);
  return out;
}

std::string compose_config(const json& base_config, const Spec& spec, const std::string& created,
                           const std::vector<std::string>& new_diff_ids, const std::string& created_by) {
  json config = json::object();
  if (base_config.is_object() && base_config.contains("config") && base_config["config"].is_object())
    config = base_config["config"];
  for (const auto& [key, value] : spec.config.items()) {
    if (key == "Env") continue;
    config[key] = value;
  }
  json base_env = config.contains("Env") ? config["Env"] : json();
  json env = merge_env(base_env, spec.config.contains("Env") ? spec.config["Env"] : json());
  if (!env.empty()) config["Env"] = env;
  else config.erase("Env");

  json diff_ids = json::array();
  json history = json::array();
  if (base_config.is_object()) {
    std::string base_created = base_config.value("created", "1970-01-01T00:00:01Z");
    size_t base_layers = 0;
    if (base_config.contains("rootfs") && base_config["rootfs"].contains("diff_ids"))
      for (const auto& id : base_config["rootfs"]["diff_ids"]) diff_ids.push_back(id), ++base_layers;
    size_t non_empty = 0;
    if (base_config.contains("history") && base_config["history"].is_array())
      for (const auto& h : base_config["history"])
        if (!h.value("empty_layer", false)) ++non_empty;
    if (non_empty == base_layers && base_config.contains("history")) {
      for (auto h : base_config["history"]) {
        if (!h.contains("created")) h["created"] = base_created;
        history.push_back(h);
      }
    } else {
      for (size_t i = 0; i < base_layers; ++i) history.push_back({{"created", base_created}, {"comment", "base layer"}});
    }
  }
  for (const auto& id : new_diff_ids) {
    diff_ids.push_back(id);
    history.push_back({{"created", created}, {"created_by", created_by}});
  }

  json out = {{"created", created},
              {"architecture", spec.architecture},
              {"os", spec.os},
              {"config", config},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
              {"history", history}};
  if (!spec.variant.empty()) out["variant"] = spec.variant;
  return out.dump();
}

} // namespace strata
