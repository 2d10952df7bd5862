#include "image/registry/http_client.h"

#include "image/registry/curl_library.h"
#include "sys/error.h"
#include "sys/files.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <dirent.h>
#include <exception>
#include <thread>
#include <unistd.h>

namespace strata::registry {
namespace {

constexpr size_t kMaxInMemoryBody = 16 << 20; // manifests and tokens; blobs go to a sink
constexpr int kAttempts = 5;

const CurlApi& api() { return curl_api(); }

// The state one transfer's callbacks share; an exception in a callback is kept and
// rethrown once libcurl has returned (it must not unwind through C frames).
struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  uint64_t sent = 0;
  std::exception_ptr error;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear(); // a new response (after 100 Continue)
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) return size * count;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  size_t start = line.find_first_not_of(" \t", colon + 1);
  t->response->headers[name] = start == std::string::npos ? "" : line.substr(start);
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  try {
    if (t->request->sink) {
      t->request->sink->write(data, n);
    } else {
      if (t->response->body.size() + n > kMaxInMemoryBody)
        fail_input("{} sent a response over {} MiB where a small JSON document belongs", t->request->url,
                   kMaxInMemoryBody >> 20);
      t->response->body.append(data, n);
    }
  } catch (...) {
    t->error = std::current_exception();
    return 0;
  }
  return n;
}

size_t on_read(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const RequestBody& body = t->request->body;
  size_t want = std::min<uint64_t>(size * count, body.length() - t->sent);
  if (want == 0) return 0;
  if (body.text) {
    std::copy_n(body.text->data() + t->sent, want, buffer);
  } else {
    ssize_t n = ::pread(body.fd, buffer, want, static_cast<off_t>(body.offset + t->sent));
    if (n <= 0) {
      t->error = std::make_exception_ptr(WorkError(fmt::format("cannot read the bytes to send to {}", t->request->url)));
      return CURL_READFUNC_ABORT;
    }
    want = static_cast<size_t>(n);
  }
  t->sent += want;
  if (t->request->upload_progress) t->request->upload_progress(t->sent);
  return want;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > t->request->body.length())
    return CURL_SEEKFUNC_CANTSEEK;
  t->sent = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

bool retryable_status(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

bool retryable_transport(CURLcode rc) {
  return rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
         rc == CURLE_PARTIAL_FILE || rc == CURLE_OPERATION_TIMEDOUT;
}

std::chrono::milliseconds backoff(int attempt, const HttpResponse* response) {
  std::chrono::milliseconds wait(250 << attempt);
  if (response) {
    std::string after = response->header("retry-after");
    if (!after.empty() && std::all_of(after.begin(), after.end(), ::isdigit))
      wait = std::chrono::milliseconds(std::min<long>(std::stol(after.substr(0, 6)), 10) * 1000);
  }
  return wait;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

HttpClient::HttpClient(TlsOptions tls) : tls_(std::move(tls)) {
  if (!tls_.cert_dir.empty()) {
    if (!is_directory(tls_.cert_dir)) fail_input("--cert-dir {} is not a directory", tls_.cert_dir);
    for (const char* system : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"})
      if (path_exists(system)) {
        ca_bundle_ = read_file(system);
        break;
      }
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(tls_.cert_dir.c_str()), ::closedir);
    if (!dir) fail_input("--cert-dir {} cannot be read", tls_.cert_dir);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(dir.get())) names.push_back(e->d_name);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::string path = tls_.cert_dir + "/" + name;
      if (ends_with(name, ".crt")) ca_bundle_ += "\n" + read_file(path);
      else if (ends_with(name, ".cert")) client_cert_ = path;
      else if (ends_with(name, ".key")) client_key_ = path;
    }
    if (client_cert_.empty() != client_key_.empty())
      fail_input("--cert-dir {} has a client {} without its {}", tls_.cert_dir, client_cert_.empty() ? "key" : "certificate",
                 client_cert_.empty() ? ".cert" : ".key");
  }
  curl_ = api().easy_init();
  if (!curl_) fail_work("libcurl cannot make a connection handle");
}

HttpClient::~HttpClient() {
  if (curl_) api().easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResponse HttpClient::send(const HttpRequest& request) {
  for (int attempt = 0;; ++attempt) {
    bool last = !request.retry || attempt + 1 == kAttempts;
    try {
      HttpResponse response = this->attempt(request);
      if (last || !retryable_status(response.status)) return response;
      std::this_thread::sleep_for(backoff(attempt, &response));
    } catch (const TransportError& e) {
      if (last || !e.retryable()) throw;
      std::this_thread::sleep_for(backoff(attempt, nullptr));
    }
    ++retries_;
  }
}

HttpResponse HttpClient::attempt(const HttpRequest& request) {
  CURL* c = static_cast<CURL*>(curl_);
  const CurlApi& a = api();
  a.easy_reset(c); // keeps the connection cache
  HttpResponse response;
  Transfer t{&request, &response, 0, nullptr};
  if (request.start_body) request.start_body();

  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, a.slist_free_all);
  auto add_header = [&](const std::string& h) {
    curl_slist* next = a.slist_append(headers.get(), h.c_str());
    if (!next) throw std::bad_alloc();
    (void)headers.release();
    headers.reset(next);
  };
  for (const auto& h : request.headers) add_header(h);
  add_header("Expect:"); // no 100-continue round trip before a body

  a.easy_setopt(c, CURLOPT_URL, request.url.c_str());
  a.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  a.easy_setopt(c, CURLOPT_USERAGENT, "strata/0.1.0");
  a.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  a.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  a.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  a.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L); // a connection silent for a minute is dropped
  a.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  a.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  a.easy_setopt(c, CURLOPT_HEADERDATA, &t);
  a.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  a.easy_setopt(c, CURLOPT_WRITEDATA, &t);
  if (!tls_.verify) {
    a.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    a.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!ca_bundle_.empty()) {
    curl_blob blob{ca_bundle_.data(), ca_bundle_.size(), CURL_BLOB_NOCOPY};
    a.easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!client_cert_.empty()) {
    a.easy_setopt(c, CURLOPT_SSLCERT, client_cert_.c_str());
    a.easy_setopt(c, CURLOPT_SSLKEY, client_key_.c_str());
  }

  bool has_body = request.body.length() > 0 || request.method == "PUT" || request.method == "POST" ||
                  request.method == "PATCH";
  if (request.method == "HEAD") {
    a.easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    a.easy_setopt(c, CURLOPT_UPLOAD, 1L);
    a.easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.length()));
    a.easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    a.easy_setopt(c, CURLOPT_READDATA, &t);
    a.easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
    a.easy_setopt(c, CURLOPT_SEEKDATA, &t);
    if (request.method != "PUT") a.easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    a.easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  a.easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

  CURLcode rc = a.easy_perform(c);
  if (t.error) std::rethrow_exception(t.error);
  if (rc != CURLE_OK) {
    std::string message = fmt::format("{} {}: {}", request.method, request.url, a.easy_strerror(rc));
    if (retryable_transport(rc)) throw TransportError(message, true);
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
      fail_work("{} (the certificate is not trusted: give its CA with --cert-dir DIR, or --tls-verify=false)", message);
    // Not retried: an answer will not come by asking again (refused, no such host, TLS).
    throw TransportError(message, false);
  }
  a.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

} // namespace strata::registry
