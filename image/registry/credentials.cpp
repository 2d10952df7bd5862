#include "image/registry/credentials.h"

#include "sys/error.h"
#include "sys/files.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <vector>

namespace strata::registry {
namespace {

using nlohmann::json;

// "https://index.docker.io/v1/" -> "index.docker.io"; "host:5000/ns" -> "host:5000/ns".
std::string normalise_key(std::string key) {
  for (std::string scheme : {"https://", "http://"})
    if (key.rfind(scheme, 0) == 0) {
      key = key.substr(scheme.size());
      if (auto slash = key.find('/'); slash != std::string::npos) key = key.substr(0, slash); // …/v1/
    }
  while (!key.empty() && key.back() == '/') key.pop_back();
  return key;
}

bool same_registry(const std::string& key, const std::string& registry) {
  static const std::vector<std::string> hub = {"docker.io", "index.docker.io", "registry-1.docker.io"};
  auto is_hub = [&](const std::string& h) { return std::find(hub.begin(), hub.end(), h) != hub.end(); };
  return key == registry || (is_hub(key) && is_hub(registry));
}

std::optional<Credentials> from_file(const std::string& path, const std::string& registry) {
  json doc;
  try {
    doc = json::parse(read_file(path));
  } catch (const json::exception&) {
    fail_input("auth file {} is not valid JSON", path);
  }
  if (!doc.is_object() || !doc.contains("auths")) return std::nullopt;
  if (!doc["auths"].is_object()) fail_input("auth file {}: 'auths' is not an object", path);
  for (const auto& [key, entry] : doc["auths"].items()) {
    if (!same_registry(normalise_key(key), registry)) continue;
    if (!entry.is_object()) fail_input("auth file {}: the entry for {} is not an object", path, key);
    if (entry.contains("auth") && entry["auth"].is_string()) {
      auto decoded = base64_decode(entry["auth"].get<std::string>());
      auto colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos)
        fail_input("auth file {}: the 'auth' of {} is not base64 of USER:PASSWORD", path, key);
      return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
    }
    if (entry.contains("username") && entry["username"].is_string() && entry.contains("password") &&
        entry["password"].is_string())
      return Credentials{entry["username"], entry["password"]};
  }
  return std::nullopt;
}

} // namespace

std::string base64_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(const std::string& text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t size = static_cast<size_t>(n);
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size; // EVP counts the padding
  out.resize(size);
  return out;
}

std::optional<Credentials> find_credentials(const std::string& registry, const CredentialOptions& options) {
  if (!options.creds.empty()) {
    auto colon = options.creds.find(':');
    if (colon == 0) fail_input("--creds must be USER[:PASSWORD], with a user name");
    if (colon == std::string::npos) return Credentials{options.creds, ""};
    return Credentials{options.creds.substr(0, colon), options.creds.substr(colon + 1)};
  }
  if (!options.authfile.empty()) {
    if (!path_exists(options.authfile)) fail_input("--authfile {} does not exist", options.authfile);
    return from_file(options.authfile, registry);
  }
  std::vector<std::string> files;
  if (const char* f = std::getenv("REGISTRY_AUTH_FILE"); f && *f) files.push_back(f);
  if (const char* run = std::getenv("XDG_RUNTIME_DIR"); run && *run)
    files.push_back(std::string(run) + "/containers/auth.json");
  if (const char* home = std::getenv("HOME"); home && *home) files.push_back(std::string(home) + "/.docker/config.json");
  for (const auto& f : files)
    if (path_exists(f))
      if (auto c = from_file(f, registry)) return c;
  return std::nullopt;
}

} // namespace strata::registry
