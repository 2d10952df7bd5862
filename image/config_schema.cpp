#include "image/config_schema.h"

#include "sys/error.h"

#include <optional>
#include <map>

namespace strata {
namespace {

using nlohmann::json;

std::string kind_of(const json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer()) return "a whole number";
  if (v.is_number()) return "a number";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  return "null";
}

class ConfigChecker {
public:
  explicit ConfigChecker(const std::string& what) : what_(what) {}

  [[noreturn]] void wrong(const std::string& field, const json& v, const char* expected) const {
    fail_input("{}: 'config.{}' must be {}, not {}", what_, field, expected, kind_of(v));
  }
  [[noreturn]] void bad(const std::string& field, const std::string& problem) const {
    fail_input("{}: 'config.{}' {}", what_, field, problem);
  }

  void string(const std::string& field, const json& v) const {
    if (!v.is_string()) wrong(field, v, "a string");
  }
  void boolean(const std::string& field, const json& v) const {
    if (!v.is_boolean()) wrong(field, v, "a boolean");
  }
  void int64(const std::string& field, const json& v) const {
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
      wrong(field, v, "a whole number (64-bit)");
  }
  void strings(const std::string& field, const json& v) const {
    if (!v.is_array()) wrong(field, v, "a list of strings");
    for (size_t i = 0; i < v.size(); ++i)
      if (!v[i].is_string()) wrong(fmt::format("{}[{}]", field, i), v[i], "a string");
  }
  // {"key": {}} sets: ExposedPorts, Volumes.
  void object_set(const std::string& field, const json& v) const {
    if (!v.is_object()) wrong(field, v, "an object whose members are {}");
    for (const auto& [key, value] : v.items()) {
      if (key.empty()) bad(field, "has an empty key");
      if (!value.is_object()) wrong(fmt::format("{}.{}", field, key), value, "an object ({})");
    }
  }
  void labels(const std::string& field, const json& v) const {
    if (!v.is_object()) wrong(field, v, "an object of strings");
    for (const auto& [key, value] : v.items()) {
      if (key.empty()) bad(field, "has an empty key");
      if (!value.is_string()) wrong(fmt::format("{}.{}", field, key), value, "a string");
    }
  }
  void env(const std::string& field, const json& v) const {
    strings(field, v);
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string& s = v[i].get_ref<const std::string&>();
      auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0)
        bad(fmt::format("{}[{}]", field, i), fmt::format("is '{:.80}', not NAME=value", s));
    }
  }
  void exposed_ports(const std::string& field, const json& v) const {
    object_set(field, v);
    for (const auto& [key, value] : v.items()) {
      auto slash = key.find('/');
      std::string port = key.substr(0, slash), proto = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
      bool numeric = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
      if (!numeric || std::stoi(port) < 1 || std::stoi(port) > 65535 || (proto != "tcp" && proto != "udp" && proto != "sctp"))
        bad(field, fmt::format("has the key '{:.80}', not PORT or PORT/tcp, /udp, /sctp (PORT 1..65535)", key));
    }
  }
  void healthcheck(const std::string& field, const json& v) const {
    if (!v.is_object()) wrong(field, v, "an object");
    for (const auto& [key, value] : v.items()) {
      std::string sub = field + "." + key;
      if (value.is_null()) continue;
      if (key == "Test") strings(sub, value);
      else if (key == "Interval" || key == "Timeout" || key == "StartPeriod" || key == "StartInterval" || key == "Retries")
        int64(sub, value);
    }
  }

  const std::string& what() const { return what_; }

private:
  std::string what_;
};

using FieldCheck = void (ConfigChecker::*)(const std::string&, const json&) const;

// Every field of the OCI image spec's config and of Docker's (image spec v1.2 and the
// container config Docker writes there), with the type both give it.
const std::map<std::string, FieldCheck>& known_fields() {
  static const std::map<std::string, FieldCheck> fields = {
      {"User", &ConfigChecker::string},
      {"ExposedPorts", &ConfigChecker::exposed_ports},
      {"Env", &ConfigChecker::env},
      {"Entrypoint", &ConfigChecker::strings},
      {"Cmd", &ConfigChecker::strings},
      {"Volumes", &ConfigChecker::object_set},
      {"WorkingDir", &ConfigChecker::string},
      {"Labels", &ConfigChecker::labels},
      {"StopSignal", &ConfigChecker::string},
      {"ArgsEscaped", &ConfigChecker::boolean},
      {"Memory", &ConfigChecker::int64},
      {"MemorySwap", &ConfigChecker::int64},
      {"CpuShares", &ConfigChecker::int64},
      {"Healthcheck", &ConfigChecker::healthcheck},
      {"OnBuild", &ConfigChecker::strings},
      {"Shell", &ConfigChecker::strings},
      {"Hostname", &ConfigChecker::string},
      {"Domainname", &ConfigChecker::string},
      {"AttachStdin", &ConfigChecker::boolean},
      {"AttachStdout", &ConfigChecker::boolean},
      {"AttachStderr", &ConfigChecker::boolean},
      {"Tty", &ConfigChecker::boolean},
      {"OpenStdin", &ConfigChecker::boolean},
      {"StdinOnce", &ConfigChecker::boolean},
      {"Image", &ConfigChecker::string},
      {"NetworkDisabled", &ConfigChecker::boolean},
      {"MacAddress", &ConfigChecker::string},
      {"StopTimeout", &ConfigChecker::int64},
  };
  return fields;
}

// The first string (member name or value) holding a NUL, as a path such as "Labels.a".
std::optional<std::string> nul_inside(const json& v, const std::string& path) {
  if (v.is_string()) {
    if (v.get_ref<const std::string&>().find('\0') != std::string::npos) return path;
  } else if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      std::string sub = path.empty() ? key : path + "." + key;
      if (auto nul = sub.find('\0'); nul != std::string::npos) return sub.replace(nul, 1, "\\0");
      if (auto found = nul_inside(value, sub)) return found;
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i)
      if (auto found = nul_inside(v[i], fmt::format("{}[{}]", path, i))) return found;
  }
  return std::nullopt;
}

} // namespace

void validate_container_config(const json& config, const std::string& what) {
  ConfigChecker check(what);
  if (!config.is_object()) fail_input("{}: 'config' must be an object, not {}", what, kind_of(config));
  if (auto path = nul_inside(config, "")) fail_input("{}: 'config.{}' holds a NUL byte", what, *path);
  for (const auto& [key, value] : config.items()) {
    auto it = known_fields().find(key);
    if (it != known_fields().end() && !value.is_null()) (check.*(it->second))(key, value);
  }
  size_t size = config.dump().size();
  if (size > max_config_bytes)
    fail_input("{}: 'config' is {} bytes of JSON, more than the {} strata writes", what, size, max_config_bytes);
}

} // namespace strata
