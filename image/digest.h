// SHA-256 and MD5 over streams (OpenSSL, so SHA-NI is used where the CPU has it).
#pragma once
#include "sys/hex.h" // to_hex
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace strata {

class Hasher {
public:
  enum class Algorithm { Sha256, Md5 };
  explicit Hasher(Algorithm algorithm = Algorithm::Sha256);
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  ~Hasher();

  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Raw digest bytes; the hasher cannot be updated afterwards.
  std::string finish();
  std::string finish_hex();

private:
  struct CtxFree {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxFree> ctx_;
};

std::string sha256_hex(std::string_view data);
std::string md5_hex(std::string_view data);
// Hash of a whole file, streamed.
std::string sha256_file_hex(const std::string& path);
std::string md5_file_hex(const std::string& path);

// "sha256:<64 hex>" helpers.
std::string sha256_digest(std::string_view data);
bool is_sha256_digest(std::string_view digest);
std::string digest_hex(std::string_view digest); // strips "sha256:", validates

} // namespace strata
