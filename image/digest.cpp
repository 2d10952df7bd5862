#include "image/digest.h"

#include "sys/error.h"
#include "sys/files.h"

#include <fcntl.h>
#include <openssl/evp.h>

namespace strata {

void Hasher::CtxFree::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Hasher::Hasher(Algorithm algorithm) : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_) throw std::bad_alloc();
  const EVP_MD* md = algorithm == Algorithm::Sha256 ? EVP_sha256() : EVP_md5();
  if (EVP_DigestInit_ex(ctx_.get(), md, nullptr) != 1) fail_work("cannot initialise the digest");
}
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;
Hasher::~Hasher() = default;

void Hasher::update(const void* data, size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }

std::string Hasher::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string Hasher::finish_hex() { return to_hex(finish()); }

std::string sha256_hex(std::string_view data) {
  Hasher h;
  h.update(data);
  return h.finish_hex();
}

std::string md5_hex(std::string_view data) {
  Hasher h(Hasher::Algorithm::Md5);
  h.update(data);
  return h.finish_hex();
}

namespace {
std::string file_hex(const std::string& path, Hasher::Algorithm algorithm) {
  Fd fd = open_or_fail(path, O_RDONLY);
  Hasher h(algorithm);
  static thread_local char buf[1 << 17];
  for (;;) {
    size_t n = read_full(fd.get(), buf, sizeof buf, path);
    h.update(buf, n);
    if (n < sizeof buf) break;
  }
  return h.finish_hex();
}
} // namespace

std::string sha256_file_hex(const std::string& path) { return file_hex(path, Hasher::Algorithm::Sha256); }
std::string md5_file_hex(const std::string& path) { return file_hex(path, Hasher::Algorithm::Md5); }

std::string sha256_digest(std::string_view data) { return "sha256:" + sha256_hex(data); }

bool is_sha256_digest(std::string_view digest) {
  if (digest.size() != 71 || digest.substr(0, 7) != "sha256:") return false;
  for (char c : digest.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string digest_hex(std::string_view digest) {
  if (!is_sha256_digest(digest)) fail_input("'{}' is not a sha256 digest", digest);
  return std::string(digest.substr(7));
}

} // namespace strata
