#include "image/nix/nar_hash_text.h"

#include "image/digest.h"
#include "image/nix/base32.h"

namespace strata::nix {
namespace {

std::optional<std::string> decode_base16(std::string_view text) {
  if (text.size() != 2 * sha256_size) return std::nullopt;
  return from_hex(text);
}

std::optional<std::string> decode_base64(std::string_view text) {
  static constexpr std::string_view chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=') {
      if (text.size() - i > 2) return std::nullopt;
      ++padding;
      continue;
    }
    if (padding) return std::nullopt;
    auto v = chars.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = ((acc << 6) | static_cast<unsigned>(v)) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt; // stray low bits
  return out;
}

} // namespace

std::string sha256_base32_text(std::string_view raw_digest) { return "sha256:" + base32_encode(raw_digest); }

std::string sha256_base16_text(std::string_view raw_digest) { return "sha256:" + to_hex(raw_digest); }

std::optional<std::string> parse_sha256_text(std::string_view text) {
  bool sri = false;
  if (text.starts_with("sha256:")) {
    text.remove_prefix(7);
  } else if (text.starts_with("sha256-")) {
    text.remove_prefix(7);
    sri = true;
  }
  std::optional<std::string> raw;
  if (sri)
    raw = decode_base64(text);
  else if (text.size() == 2 * sha256_size)
    raw = decode_base16(text);
  else if (text.size() == base32_length(sha256_size))
    raw = base32_decode(text, sha256_size);
  else
    raw = decode_base64(text);
  if (!raw || raw->size() != sha256_size) return std::nullopt;
  return raw;
}

} // namespace strata::nix
