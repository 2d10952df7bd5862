#include "image/registry/challenge.h"

#include <cctype>

namespace strata::registry {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

} // namespace

std::optional<Challenge> parse_challenge(const std::string& header) {
  size_t i = header.find_first_not_of(" \t");
  if (i == std::string::npos) return std::nullopt;
  size_t end = header.find_first_of(" \t", i);
  Challenge c;
  c.scheme = lower(header.substr(i, end == std::string::npos ? std::string::npos : end - i));
  if (c.scheme.empty() || c.scheme.find('=') != std::string::npos) return std::nullopt;
  i = end;
  while (i != std::string::npos && i < header.size()) {
    i = header.find_first_not_of(" \t,", i);
    if (i == std::string::npos) break;
    size_t eq = header.find('=', i);
    if (eq == std::string::npos) break;
    std::string name = lower(header.substr(i, eq - i));
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    std::string value;
    i = eq + 1;
    if (i < header.size() && header[i] == '"') {
      for (++i; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i];
      }
      if (i < header.size()) ++i; // the closing quote
    } else {
      size_t stop = header.find(',', i);
      value = header.substr(i, stop == std::string::npos ? std::string::npos : stop - i);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
      i = stop;
    }
    c.params[name] = value;
  }
  return c;
}

} // namespace strata::registry
