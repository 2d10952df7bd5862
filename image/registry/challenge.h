// WWW-Authenticate challenges as registries send them:
//   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"
//   Basic realm="Registry Realm"
#pragma once
#include <map>
#include <optional>
#include <string>

namespace strata::registry {

struct Challenge {
  std::string scheme;                        // lower case: "bearer", "basic"
  std::map<std::string, std::string> params; // names in lower case, values unquoted
  std::string param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? "" : it->second;
  }
};

// nullopt when the header is empty or not a challenge.
std::optional<Challenge> parse_challenge(const std::string& header);

} // namespace strata::registry
