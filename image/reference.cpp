#include "image/reference.h"

#include <fmt/format.h>

namespace strata {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

// Empty when `c` is a path component, else why not.
std::string component_problem(std::string_view c) {
  if (c.empty()) return "it has an empty component (a leading, trailing or doubled '/')";
  if (!is_lower_alnum(c.front()) || !is_lower_alnum(c.back()))
    return fmt::format("its component '{}' must start and end with a lower-case letter or digit", c);
  for (size_t i = 0; i < c.size();) {
    if (is_lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < c.size() && !is_lower_alnum(c[i])) ++i;
    std::string_view sep = c.substr(start, i - start);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (sep != "." && sep != "_" && sep != "__" && !dashes)
      return fmt::format("its component '{}' holds '{}': only lower-case letters, digits and the separators "
                         "'.', '_', '__' or dashes are allowed",
                         c, sep);
  }
  return "";
}

bool is_dns_label(std::string_view label) {
  if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
  for (char c : label)
    if (!is_alnum(c) && c != '-') return false;
  return true;
}

bool is_domain(std::string_view domain) {
  std::string_view host = domain;
  if (auto colon = domain.rfind(':'); colon != std::string_view::npos && domain.find(']', colon) == std::string_view::npos) {
    std::string_view port = domain.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
    host = domain.substr(0, colon);
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    std::string_view address = host.substr(1, host.size() - 2);
    return address.find(':') != std::string_view::npos &&
           address.find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos;
  }
  for (size_t start = 0;;) {
    size_t dot = host.find('.', start);
    if (!is_dns_label(host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string path_problem(std::string_view path) {
  for (size_t start = 0;;) {
    size_t slash = path.find('/', start);
    std::string problem =
        component_problem(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (!problem.empty() || slash == std::string_view::npos) return problem;
    start = slash + 1;
  }
}

} // namespace

std::string image_name_problem(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name.size() > max_image_name_length)
    return fmt::format("it is {} characters long, more than {}", name.size(), max_image_name_length);
  if (auto slash = name.find('/'); slash != std::string_view::npos && is_domain(name.substr(0, slash)) &&
                                   path_problem(name.substr(slash + 1)).empty())
    return "";
  return path_problem(name);
}

bool is_valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > max_tag_length || !is_word(tag[0])) return false;
  for (char c : tag)
    if (!is_word(c) && c != '.' && c != '-') return false;
  return true;
}

std::pair<std::string, std::string> split_repo_tag(const std::string& ref) {
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    return {ref.substr(0, colon), ref.substr(colon + 1)};
  return {ref, "latest"};
}

} // namespace strata
