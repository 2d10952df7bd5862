// Registry credentials: --creds USER[:PASS], else the first auth file that has an entry
// for the registry, searched in the order podman and skopeo use: --authfile,
// $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json.
// A secret is never printed: messages name the file, not what it holds.
#pragma once
#include <optional>
#include <string>

namespace strata::registry {

struct Credentials {
  std::string username, password;
};

struct CredentialOptions {
  std::string creds;    // --creds USER[:PASS]
  std::string authfile; // --authfile FILE
};

// InputError for a malformed --creds or auth file (naming the file, never its content),
// or an --authfile that does not exist.
std::optional<Credentials> find_credentials(const std::string& registry, const CredentialOptions& options);

// Base64 (RFC 4648, padded), as auth files and Basic auth use it.
std::string base64_encode(const std::string& bytes);
std::optional<std::string> base64_decode(const std::string& text);

} // namespace strata::registry
