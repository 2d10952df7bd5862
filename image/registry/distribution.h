// The registry HTTP API (OCI distribution spec / Docker registry v2) for one registry:
// blobs (HEAD, GET, cross-repository mount, monolithic and chunked upload) and
// manifests (GET, PUT), with authentication: Basic, and the Bearer token flow its 401
// challenges ask for. Credentials go to the registry and to the token realm it names,
// never to a host a blob redirect leads to.
#pragma once
#include "image/registry/credentials.h"
#include "image/registry/http_client.h"

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace strata::registry {

struct RegistryOptions {
  TlsOptions tls;
  CredentialOptions credentials;
};

struct RemoteManifest {
  std::string media_type; // from the body's mediaType, else the Content-Type
  std::string bytes;
  std::string digest; // sha256 of bytes
};

class RegistryClient {
public:
  // host: "HOST[:PORT]" as the API is reached; `name` is how messages and the credential
  // lookup name it (docker.io for Docker Hub).
  RegistryClient(std::string host, std::string name, RegistryOptions options);

  const std::string& name() const { return name_; }

  // Scopes the token asks for ("repository:REPO:pull,push"), declared before use so
  // one token serves the whole push.
  void want_scope(const std::string& scope) { scopes_.insert(scope); }

  // HEAD: the blob's size when the repository has it.
  std::optional<uint64_t> blob_size(const std::string& repo, const std::string& digest);
  // HEAD of many blobs at once, over a few connections in parallel (a warm push of a
  // 100-layer image is otherwise 100 round trips in a row).
  std::vector<std::optional<uint64_t>> blob_sizes(const std::string& repo, const std::vector<std::string>& digests);
  // POST ?mount=&from=: true when the registry mounted it; false when it did not (then
  // the upload it opened instead is used by the next upload_blob).
  bool mount_blob(const std::string& repo, const std::string& digest, const std::string& from);
  // Uploads a blob: one PUT up to chunk_size, else PATCHes of chunk_size then the PUT.
  // Returns the bytes sent.
  uint64_t upload_blob(const std::string& repo, const std::string& digest, const RequestBody& body,
                       const std::function<void(uint64_t)>& progress);
  // PUT: returns the digest the registry reports (else the sha256 of bytes).
  std::string put_manifest(const std::string& repo, const std::string& reference, const std::string& media_type,
                           const std::string& bytes);
  // GET with the Accept types for images and indexes. The digest is checked when the
  // reference is one, and against Docker-Content-Digest when the registry sends it.
  RemoteManifest get_manifest(const std::string& repo, const std::string& reference);
  // GET into out (restarted from out_restart() on a retry), following redirects.
  void get_blob(const std::string& repo, const std::string& digest, ByteSink& out,
                const std::function<void()>& out_restart);

  unsigned retries() const { return http_.retries(); }
  static constexpr uint64_t kChunkSize = 32ull << 20;

private:
  HttpResponse send(HttpRequest request, const std::string& what);
  HttpResponse send_once(HttpRequest& request);
  void connect();
  void authenticate(const HttpResponse& refused);
  std::string absolute(const std::string& location) const;
  bool same_origin(const std::string& url) const;
  [[noreturn]] void fail_status(const HttpRequest& request, const HttpResponse& response, const std::string& what) const;

  std::string host_, name_;
  RegistryOptions options_;
  HttpClient http_;
  std::string base_;     // "https://HOST", known once connect() ran
  std::string authorization_; // "Authorization: …" for the registry's own host
  bool credentials_looked_up_ = false;
  std::optional<Credentials> credentials_;
  std::set<std::string> scopes_, token_scopes_;
  std::string pending_upload_; // an upload a refused mount opened
};

} // namespace strata::registry
