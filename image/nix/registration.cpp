#include "image/nix/registration.h"

#include "image/nix/nar_hash_text.h"
#include "ns/sys/error.h"
#include "ns/sys/file.h"

#include <charconv>

namespace strata::nix {
namespace {

class Lines {
public:
  Lines(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  bool at_end() const { return pos_ >= text_.size(); }

  std::string_view next(std::string_view expected) {
    if (at_end()) fail_input("{}: ends at line {} where {} was expected", source_, line_ + 1, expected);
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++line_;
    return line;
  }

  std::string_view next_store_path(std::string_view expected) {
    std::string_view line = next(expected);
    if (line.empty() || line[0] != '/' || line.find_first_of(" \t\r") != std::string_view::npos) bad(expected, line);
    return line;
  }

  uint64_t next_number(std::string_view expected) {
    std::string_view line = next(expected);
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), n);
    if (line.empty() || ec != std::errc() || end != line.data() + line.size()) bad(expected, line);
    return n;
  }

  [[noreturn]] void bad(std::string_view expected, std::string_view got) const {
    fail_input("{}: line {}: expected {}, got '{}'", source_, line_, expected, got);
  }

private:
  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
  size_t line_ = 0;
};

} // namespace

std::vector<ClosurePath> parse_registration(std::string_view text, const std::string& source) {
  Lines lines(text, source);
  std::vector<ClosurePath> out;
  while (!lines.at_end()) {
    ClosurePath p;
    std::string_view first = lines.next("a store path");
    if (first.empty() && lines.at_end()) break; // a trailing blank line
    if (first.empty() || first[0] != '/') lines.bad("a store path", first);
    p.path = first;
    std::string_view hash = lines.next("a NAR hash");
    auto raw = parse_sha256_text(hash);
    if (!raw) lines.bad("a NAR hash (sha256, base16/base32/base64)", hash);
    p.nar_hash = *raw;
    p.nar_size = lines.next_number("a NAR size");
    std::string_view deriver = lines.next("a deriver (or an empty line)");
    if (!deriver.empty()) {
      if (deriver[0] != '/') lines.bad("a deriver (or an empty line)", deriver);
      p.deriver = deriver;
    }
    uint64_t count = lines.next_number("a reference count");
    if (count > text.size()) lines.bad("a reference count", std::to_string(count));
    for (uint64_t i = 0; i < count; ++i) p.references.emplace_back(lines.next_store_path("a reference"));
    out.push_back(std::move(p));
  }
  if (out.empty()) fail_input("{}: holds no store paths", source);
  return out;
}

std::vector<ClosurePath> read_registration(const std::string& path) {
  std::string file = is_directory(path) ? path + "/registration" : path;
  if (!path_exists(file)) fail_input("closure registration {} does not exist", file);
  return parse_registration(read_file(file), file);
}

} // namespace strata::nix
