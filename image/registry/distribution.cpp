#include "image/registry/distribution.h"

#include "image/digest.h"
#include "image/image_format.h"
#include "image/registry/challenge.h"
#include "sys/error.h"

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

namespace strata::registry {
namespace {

using nlohmann::json;

constexpr int kMaxRedirects = 5;
constexpr size_t kParallelHeads = 8;
constexpr int kUploadAttempts = 4; // each from a new upload session

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string origin_of(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  auto path = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, path);
}

std::string path_of(const std::string& url) {
  auto scheme_end = url.find("://");
  auto path = scheme_end == std::string::npos ? 0 : url.find('/', scheme_end + 3);
  return path == std::string::npos ? "/" : url.substr(path);
}

std::string with_query(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

// The first message of a registry's {"errors":[{"code","message"}]} body.
std::string error_detail(const std::string& body) {
  try {
    json doc = json::parse(body);
    const json& e = doc.at("errors").at(0);
    std::string code = e.value("code", ""), message = e.value("message", "");
    if (code.empty() && message.empty()) return "";
    return ": " + code + (code.empty() || message.empty() ? "" : " ") + message;
  } catch (const std::exception&) {
    return "";
  }
}

} // namespace

RegistryClient::RegistryClient(std::string host, std::string name, RegistryOptions options)
    : host_(std::move(host)), name_(std::move(name)), options_(std::move(options)), http_(options_.tls) {}

std::string RegistryClient::absolute(const std::string& location) const {
  if (location.find("://") != std::string::npos) return location;
  if (!location.empty() && location[0] == '/') return base_ + location;
  return base_ + "/" + location;
}

bool RegistryClient::same_origin(const std::string& url) const { return origin_of(url) == base_; }

void RegistryClient::connect() {
  if (!base_.empty()) return;
  HttpRequest ping;
  ping.url = "https://" + host_ + "/v2/";
  HttpResponse response;
  try {
    response = http_.send(ping);
    base_ = "https://" + host_;
  } catch (const TransportError& https_error) {
    if (options_.tls.verify)
      fail_work("cannot reach registry {} over HTTPS: {} (a plain-HTTP registry needs --tls-verify=false)", name_,
                https_error.what());
    ping.url = "http://" + host_ + "/v2/";
    try {
      response = http_.send(ping);
    } catch (const TransportError& e) {
      fail_work("cannot reach registry {}: {}", name_, e.what());
    }
    base_ = "http://" + host_;
  }
  if (response.status == 401) authenticate(response);
}

void RegistryClient::authenticate(const HttpResponse& refused) {
  auto challenge = parse_challenge(refused.header("www-authenticate"));
  if (!credentials_looked_up_) {
    credentials_ = find_credentials(name_, options_.credentials);
    credentials_looked_up_ = true;
  }
  auto required = [&]() -> void { fail_work("authentication required for {}; use --creds or --authfile", name_); };
  if (!challenge) fail_work("registry {} answered HTTP 401 without a WWW-Authenticate challenge", name_);
  if (challenge->scheme == "basic") {
    if (!credentials_) required();
    std::string basic = "Authorization: Basic " + base64_encode(credentials_->username + ":" + credentials_->password);
    if (authorization_ == basic) fail_work("registry {} refused the credentials for {} (HTTP 401)", name_, credentials_->username);
    authorization_ = basic;
    return;
  }
  if (challenge->scheme != "bearer") fail_work("registry {} asks for '{}' authentication, which strata does not speak", name_, challenge->scheme);
  std::string realm = challenge->param("realm");
  if (realm.rfind("https://", 0) != 0 && realm.rfind("http://", 0) != 0)
    fail_work("registry {} names a token realm '{}' that is no http(s) URL", name_, realm);
  if (std::string scope = challenge->param("scope"); !scope.empty()) {
    // a challenge may name several scopes, space-separated
    for (size_t i = 0; i < scope.size();) {
      size_t end = scope.find(' ', i);
      std::string one = scope.substr(i, end == std::string::npos ? std::string::npos : end - i);
      if (!one.empty()) scopes_.insert(one);
      i = end == std::string::npos ? scope.size() : end + 1;
    }
  }
  if (!authorization_.empty() && token_scopes_ == scopes_) {
    if (!credentials_) required();
    fail_work("registry {} refused the token its server {} gave for {} (HTTP 401)", name_, origin_of(realm),
              credentials_->username);
  }
  std::string url = realm;
  if (std::string service = challenge->param("service"); !service.empty()) url = with_query(url, "service=" + url_encode(service));
  for (const auto& s : scopes_) url = with_query(url, "scope=" + url_encode(s));
  HttpRequest token_request;
  token_request.url = url;
  if (credentials_)
    token_request.headers.push_back("Authorization: Basic " +
                                    base64_encode(credentials_->username + ":" + credentials_->password));
  HttpResponse answer;
  try {
    answer = http_.send(token_request);
  } catch (const TransportError& e) {
    fail_work("cannot reach the token server of registry {}: {}", name_, e.what());
  }
  if (answer.status == 401 || answer.status == 403) {
    if (!credentials_) required();
    fail_work("the token server {} of registry {} refused the credentials for {} (HTTP {})", origin_of(realm), name_,
              credentials_->username, answer.status);
  }
  if (answer.status != 200)
    fail_work("the token server {} of registry {} answered HTTP {}", origin_of(realm), name_, answer.status);
  std::string token;
  try {
    json doc = json::parse(answer.body);
    token = doc.contains("token") ? doc["token"].get<std::string>() : doc.at("access_token").get<std::string>();
  } catch (const std::exception&) {
    fail_work("the token server {} of registry {} sent no token", origin_of(realm), name_);
  }
  authorization_ = "Authorization: Bearer " + token;
  token_scopes_ = scopes_;
}

HttpResponse RegistryClient::send_once(HttpRequest& request) {
  std::vector<std::string> base_headers = request.headers;
  if (same_origin(request.url) && !authorization_.empty()) request.headers.push_back(authorization_);
  HttpResponse response = http_.send(request);
  request.headers = std::move(base_headers);
  return response;
}

HttpResponse RegistryClient::send(HttpRequest request, const std::string& what) {
  connect();
  if (request.url.find("://") == std::string::npos) request.url = base_ + request.url;
  try {
    HttpResponse response = send_once(request);
    if (response.status == 401 && same_origin(request.url)) {
      authenticate(response);
      response = send_once(request);
      if (response.status == 401) {
        authenticate(response); // a new scope, or a refusal that fails here
        response = send_once(request);
      }
    }
    for (int i = 0; i < kMaxRedirects && is_redirect(response.status) && (request.method == "GET" || request.method == "HEAD");
         ++i) {
      std::string location = response.header("location");
      if (location.empty()) break;
      request.url = absolute(location); // another host gets no credentials (send_once)
      response = send_once(request);
    }
    if (response.status == 401) fail_status(request, response, what);
    return response;
  } catch (const TransportError& e) {
    fail_work("{}: registry {}: {}", what, name_, e.what());
  }
}

void RegistryClient::fail_status(const HttpRequest& request, const HttpResponse& response, const std::string& what) const {
  if (response.status == 401) {
    if (!credentials_) fail_work("authentication required for {}; use --creds or --authfile", name_);
    fail_work("registry {} refused the credentials for {} (HTTP 401)", name_, credentials_->username);
  }
  bool own = request.url.find("://") == std::string::npos || same_origin(request.url);
  std::string host = own ? name_ : origin_of(request.url);
  fail_work("{}: registry {} answered HTTP {} to {} {}{}", what, host, response.status, request.method,
            path_of(request.url), error_detail(response.body));
}

std::optional<uint64_t> RegistryClient::blob_size(const std::string& repo, const std::string& digest) {
  HttpRequest r;
  r.method = "HEAD";
  r.url = "/v2/" + repo + "/blobs/" + digest;
  HttpResponse response = send(r, "blob " + digest);
  if (response.status == 404) return std::nullopt;
  if (response.status != 200) fail_status(r, response, "blob " + digest);
  std::string length = response.header("content-length");
  try {
    return length.empty() ? 0 : std::stoull(length);
  } catch (const std::exception&) {
    return 0;
  }
}

std::vector<std::optional<uint64_t>> RegistryClient::blob_sizes(const std::string& repo,
                                                               const std::vector<std::string>& digests) {
  std::vector<std::optional<uint64_t>> sizes(digests.size());
  if (digests.empty()) return sizes;
  sizes[0] = blob_size(repo, digests[0]); // settles the scheme and the credentials
  std::vector<char> answered(digests.size(), 0);
  answered[0] = 1;
  std::atomic<size_t> next{1};
  auto ask = [&] {
    try {
      HttpClient http(options_.tls);
      for (size_t i; (i = next++) < digests.size();) {
        HttpRequest r;
        r.method = "HEAD";
        r.url = base_ + "/v2/" + repo + "/blobs/" + digests[i];
        if (!authorization_.empty()) r.headers.push_back(authorization_);
        HttpResponse response = http.send(r);
        if (response.status == 404) answered[i] = 1;
        if (response.status == 200) {
          std::string length = response.header("content-length");
          sizes[i] = length.empty() || length.find_first_not_of("0123456789") != std::string::npos ? 0 : std::stoull(length);
          answered[i] = 1;
        }
      }
    } catch (const std::exception&) {
      // what is not answered here is asked again below, one by one
    }
  };
  std::vector<std::thread> workers;
  for (size_t t = 0; t < std::min(kParallelHeads, digests.size() - 1); ++t) workers.emplace_back(ask);
  for (auto& w : workers) w.join();
  for (size_t i = 1; i < digests.size(); ++i)
    if (!answered[i]) sizes[i] = blob_size(repo, digests[i]);
  return sizes;
}

bool RegistryClient::mount_blob(const std::string& repo, const std::string& digest, const std::string& from) {
  HttpRequest r;
  r.method = "POST";
  r.url = "/v2/" + repo + "/blobs/uploads/?mount=" + url_encode(digest) + "&from=" + url_encode(from);
  HttpResponse response = send(r, "mount of " + digest);
  if (response.status == 201) return true;
  if (response.status == 202 && !response.header("location").empty()) pending_upload_ = absolute(response.header("location"));
  return false;
}

uint64_t RegistryClient::upload_blob(const std::string& repo, const std::string& digest, const RequestBody& body,
                                     const std::function<void(uint64_t)>& progress) {
  std::string what = "upload of " + digest;
  for (int attempt = 1;; ++attempt) {
    std::string location = std::move(pending_upload_);
    pending_upload_.clear();
    try {
      if (location.empty()) {
        HttpRequest start;
        start.method = "POST";
        start.url = "/v2/" + repo + "/blobs/uploads/";
        HttpResponse started = send(start, what);
        if (started.status != 202 || started.header("location").empty()) fail_status(start, started, what);
        location = absolute(started.header("location"));
      }
      uint64_t sent = 0;
      auto chunk_progress = [&](uint64_t base) {
        return [&progress, base](uint64_t n) {
          if (progress) progress(base + n);
        };
      };
      if (body.length() > kChunkSize) {
        while (sent < body.length()) {
          HttpRequest patch;
          patch.method = "PATCH";
          patch.url = location;
          patch.retry = false;
          patch.body = body;
          if (body.text) fail_work("{}: in-memory bodies are sent whole", what);
          patch.body.offset = body.offset + sent;
          patch.body.size = std::min(kChunkSize, body.length() - sent);
          patch.headers = {"Content-Type: application/octet-stream",
                           fmt::format("Content-Range: {}-{}", sent, sent + patch.body.size - 1)};
          patch.upload_progress = chunk_progress(sent);
          HttpResponse answer = send(patch, what);
          if (answer.status != 202) fail_status(patch, answer, what);
          sent += patch.body.size;
          if (!answer.header("location").empty()) location = absolute(answer.header("location"));
        }
      }
      HttpRequest put;
      put.method = "PUT";
      put.url = with_query(location, "digest=" + url_encode(digest));
      put.retry = false;
      put.headers = {"Content-Type: application/octet-stream"};
      if (sent == 0) {
        put.body = body;
        put.upload_progress = chunk_progress(0);
      }
      HttpResponse done = send(put, what);
      if (done.status != 201) {
        if (done.status >= 500 && attempt < kUploadAttempts) continue;
        fail_status(put, done, what);
      }
      return body.length();
    } catch (const WorkError&) {
      if (attempt >= kUploadAttempts) throw;
    }
  }
}

std::string RegistryClient::put_manifest(const std::string& repo, const std::string& reference,
                                         const std::string& media_type, const std::string& bytes) {
  HttpRequest r;
  r.method = "PUT";
  r.url = "/v2/" + repo + "/manifests/" + reference;
  r.headers = {"Content-Type: " + media_type};
  r.body.text = &bytes;
  std::string what = "manifest " + repo + ":" + reference;
  HttpResponse response = send(r, what);
  if (response.status != 201 && response.status != 200) fail_status(r, response, what);
  std::string digest = response.header("docker-content-digest");
  return digest.empty() ? sha256_digest(bytes) : digest;
}

RemoteManifest RegistryClient::get_manifest(const std::string& repo, const std::string& reference) {
  HttpRequest r;
  r.url = "/v2/" + repo + "/manifests/" + reference;
  r.headers = {fmt::format("Accept: {}, {}, {}, {}", media_type::kOciIndex, media_type::kOciManifest,
                           media_type::kDockerManifestList, media_type::kDockerManifest)};
  std::string what = "manifest " + repo + (is_sha256_digest(reference) ? "@" : ":") + reference;
  HttpResponse response = send(r, what);
  if (response.status == 404) fail_work("registry {} has no manifest {}{}{} (HTTP 404)", name_, repo,
                                        is_sha256_digest(reference) ? "@" : ":", reference);
  if (response.status != 200) fail_status(r, response, what);
  RemoteManifest m;
  m.bytes = std::move(response.body);
  m.digest = sha256_digest(m.bytes);
  if (is_sha256_digest(reference) && m.digest != reference)
    fail_input("registry {} sent a manifest for {}@{} whose sha256 is {}", name_, repo, reference, m.digest);
  std::string announced = response.header("docker-content-digest");
  if (is_sha256_digest(announced) && announced != m.digest)
    fail_input("registry {} sent a manifest for {} whose sha256 {} is not the Docker-Content-Digest {} it announced",
               name_, what, m.digest, announced);
  m.media_type = response.header("content-type");
  if (auto semi = m.media_type.find(';'); semi != std::string::npos) m.media_type.resize(semi);
  try {
    json doc = json::parse(m.bytes);
    if (doc.is_object() && doc.contains("mediaType") && doc["mediaType"].is_string()) m.media_type = doc["mediaType"];
  } catch (const json::exception&) {
    fail_input("registry {} sent a {} that is not JSON", name_, what);
  }
  return m;
}

void RegistryClient::get_blob(const std::string& repo, const std::string& digest, ByteSink& out,
                              const std::function<void()>& out_restart) {
  HttpRequest r;
  r.url = "/v2/" + repo + "/blobs/" + digest;
  r.sink = &out;
  r.start_body = out_restart;
  HttpResponse response = send(r, "blob " + digest);
  if (response.status == 404) fail_work("registry {} has no blob {} in {} (HTTP 404)", name_, digest, repo);
  if (response.status != 200) fail_status(r, response, "blob " + digest);
}

} // namespace strata::registry
