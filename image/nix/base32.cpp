#include "image/nix/base32.h"

namespace strata::nix {
namespace {

constexpr std::string_view alphabet = "0123456789abcdfghijklmnpqrsvwxyz";

int digit_value(char c) {
  auto pos = alphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

} // namespace

size_t base32_length(size_t size) { return size == 0 ? 0 : (size * 8 - 1) / 5 + 1; }

bool is_base32_char(char c) { return digit_value(c) >= 0; }

std::string base32_encode(std::string_view bytes) {
  size_t len = base32_length(bytes.size());
  std::string out;
  out.reserve(len);
  auto byte = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[i])); };
  for (size_t n = len; n-- > 0;) {
    size_t bit = n * 5;
    size_t i = bit / 8;
    unsigned j = bit % 8;
    unsigned c = byte(i) >> j;
    if (i + 1 < bytes.size()) c |= byte(i + 1) << (8 - j);
    out.push_back(alphabet[c & 0x1f]);
  }
  return out;
}

std::optional<std::string> base32_decode(std::string_view text, size_t size) {
  if (text.size() != base32_length(size)) return std::nullopt;
  std::string out(size, '\0');
  for (size_t n = 0; n < text.size(); ++n) {
    int digit = digit_value(text[text.size() - n - 1]);
    if (digit < 0) return std::nullopt;
    size_t bit = n * 5;
    size_t i = bit / 8;
    unsigned j = bit % 8;
    out[i] = static_cast<char>(static_cast<unsigned char>(out[i]) | ((static_cast<unsigned>(digit) << j) & 0xff));
    unsigned carry = static_cast<unsigned>(digit) >> (8 - j);
    if (i + 1 < size)
      out[i + 1] = static_cast<char>(static_cast<unsigned char>(out[i + 1]) | carry);
    else if (carry != 0)
      return std::nullopt;
  }
  return out;
}

} // namespace strata::nix
