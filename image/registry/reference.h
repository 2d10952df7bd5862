// Image references: docker://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST], and pullImage's
// imageName (a name without a host is Docker Hub's, "alpine" is "library/alpine").
#pragma once
#include <string>
#include <string_view>

namespace strata::registry {

struct Reference {
  std::string registry;  // as written or implied: "127.0.0.1:5000", "docker.io"
  std::string repository; // "library/alpine"
  std::string tag;       // empty when not given
  std::string digest;    // "sha256:…", empty when not given

  // Where the API is: Docker Hub's "docker.io" is served by registry-1.docker.io.
  std::string api_host() const;
  // The tag or digest a manifest request names: the digest when both are given, else the
  // tag, else `fallback`.
  std::string manifest_reference(const std::string& fallback = "latest") const;
  // "HOST/REPO[:TAG][@DIGEST]"
  std::string to_string() const;
};

// "docker://…": InputError naming `what` when malformed (a digest must be sha256:<64 hex>).
Reference parse_docker_reference(std::string_view text, std::string_view what);
// A reference without the transport: "alpine", "ghcr.io/o/r:1", "host:5000/r@sha256:…".
Reference parse_image_name(std::string_view text, std::string_view what);

bool is_docker_reference(std::string_view text); // starts with docker://

} // namespace strata::registry
