#include "image/registry/reference.h"

#include "image/digest.h"
#include "sys/error.h"

#include <cctype>

namespace strata::registry {
namespace {

constexpr std::string_view kScheme = "docker://";

bool valid_repository(const std::string& repo) {
  if (repo.empty() || repo.size() > 255) return false;
  char prev = '/';
  for (char c : repo) {
    bool lower_alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!lower_alnum && c != '.' && c != '_' && c != '-' && c != '/') return false;
    if (c == '/' && prev == '/') return false;
    prev = c;
  }
  return prev != '/';
}

bool valid_tag(const std::string& tag) {
  if (tag.empty() || tag.size() > 128) return false;
  for (char c : tag)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
  return tag[0] != '.' && tag[0] != '-';
}

} // namespace

bool is_docker_reference(std::string_view text) { return text.substr(0, kScheme.size()) == kScheme; }

std::string Reference::api_host() const { return registry == "docker.io" ? "registry-1.docker.io" : registry; }

std::string Reference::manifest_reference(const std::string& fallback) const {
  if (!digest.empty()) return digest;
  return tag.empty() ? fallback : tag;
}

std::string Reference::to_string() const {
  std::string s = registry + "/" + repository;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

Reference parse_image_name(std::string_view text, std::string_view what) {
  std::string s(text);
  auto bad = [&](const std::string& why) -> Reference {
    fail_input("{}: '{}' is not an image reference: {}", what, s, why);
  };
  if (s.empty()) return bad("it is empty");
  Reference ref;
  std::string rest = s;
  if (auto at = rest.find('@'); at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!is_sha256_digest(ref.digest)) return bad("the digest must be sha256: and 64 lower-case hex digits");
  }
  auto slash = rest.find('/');
  std::string first = slash == std::string::npos ? "" : rest.substr(0, slash);
  if (!first.empty() && (first.find_first_of(".:") != std::string::npos || first == "localhost")) {
    ref.registry = first;
    rest = rest.substr(slash + 1);
  } else {
    ref.registry = "docker.io";
  }
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    ref.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!valid_tag(ref.tag)) return bad("bad tag '" + ref.tag + "'");
  }
  if (ref.registry == "docker.io" && rest.find('/') == std::string::npos) rest = "library/" + rest;
  if (!valid_repository(rest))
    return bad("the repository '" + rest + "' must be lower-case letters, digits and . _ - separated by /");
  ref.repository = rest;
  for (char c : ref.registry)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' && c != '[' && c != ']')
      return bad("bad registry host '" + ref.registry + "'");
  return ref;
}

Reference parse_docker_reference(std::string_view text, std::string_view what) {
  if (!is_docker_reference(text))
    fail_input("{}: '{}' is not a registry reference (docker://HOST/REPO[:TAG|@DIGEST])", what, text);
  return parse_image_name(text.substr(kScheme.size()), what);
}

} // namespace strata::registry
