// HTTP(S) requests over libcurl, for the registry client: one connection pool per client,
// request bodies from memory or a file range (so a retry can send them again), response
// bodies into memory or a sink, retries with backoff on 429, 5xx and dropped connections.
// Redirects are not followed here: the caller decides where credentials may go.
#pragma once
#include "image/sink.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace strata::registry {

struct TlsOptions {
  bool verify = true;    // check the server's certificate and name
  std::string cert_dir;  // podman's --cert-dir: *.crt are CAs (added to the system's), *.cert/*.key a client cert
};

// Bytes sent with a request: a string, or a byte range of an open file.
struct RequestBody {
  const std::string* text = nullptr;
  int fd = -1;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t length() const { return text ? text->size() : size; }
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers; // "Name: value"
  RequestBody body;                 // sent when it has bytes, or with PUT/POST/PATCH
  // The response body goes here when set (after start_body(), called before each
  // attempt so a retried download starts afresh), else into HttpResponse::body.
  ByteSink* sink = nullptr;
  std::function<void()> start_body;
  std::function<void(uint64_t)> upload_progress; // bytes of the body sent so far
  bool retry = true; // false for requests that must not be repeated (a PATCH of a chunk)
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers; // names in lower case
  std::string body;                           // unless the request gave a sink
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// A request that could not be carried out (no connection, TLS refused, cut short).
class TransportError : public std::runtime_error {
public:
  TransportError(const std::string& message, bool retryable) : std::runtime_error(message), retryable_(retryable) {}
  bool retryable() const { return retryable_; } // a dropped connection, not a refusal

private:
  bool retryable_;
};

class HttpClient {
public:
  explicit HttpClient(TlsOptions tls);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request, retrying (up to 5 attempts, backoff from 0.25 s, Retry-After
  // honoured up to 10 s) on 429, 500, 502, 503, 504 and dropped connections; returns the
  // last response. TransportError when no attempt got an answer.
  HttpResponse send(const HttpRequest& request);

  // Times a request was sent again (for reports and tests).
  unsigned retries() const { return retries_; }

private:
  HttpResponse attempt(const HttpRequest& request);

  TlsOptions tls_;
  std::string ca_bundle_;  // system CAs plus --cert-dir's, PEM
  std::string client_cert_, client_key_;
  void* curl_ = nullptr;
  unsigned retries_ = 0;
};

// "a%2Fb" for URLs: every byte but unreserved ones percent-encoded.
std::string url_encode(const std::string& s);

} // namespace strata::registry
