#include "image/closure/store_path.h"

#include "sys/error.h"
#include "sys/files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>

namespace strata::closure {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
         c == '.' || c == '_' || c == '?' || c == '=';
}

// The part of `path` after "<store_dir>/", or nullopt when path is not below store_dir.
std::optional<std::string_view> below_store_dir(std::string_view path, std::string_view store_dir) {
  if (path.size() <= store_dir.size() + 1 || path.substr(0, store_dir.size()) != store_dir ||
      path[store_dir.size()] != '/')
    return std::nullopt;
  return path.substr(store_dir.size() + 1);
}

// Why `path` is not a store path in store_dir, or "" when it is one.
std::string store_path_problem(std::string_view path, std::string_view store_dir) {
  auto rest = below_store_dir(path, store_dir);
  if (!rest) return fmt::format("is not in the store dir {}", store_dir);
  if (rest->find('/') != std::string_view::npos) return "is a path inside a store path, not a store path";
  std::string_view base = *rest;
  if (base.size() < hash_part_length + 2 || base[hash_part_length] != '-')
    return "does not have the form <store dir>/<32-character hash>-<name>";
  for (char c : base.substr(0, hash_part_length))
    if (!is_nix_base32_char(c)) return fmt::format("has a hash part with a character outside Nix's base32 ('{}')", c);
  if (!is_valid_path_name(base.substr(hash_part_length + 1)))
    return "has an invalid name (1 to 211 characters from A-Za-z0-9+-._?=, not starting with '.')";
  return "";
}

} // namespace


std::string normalize_store_dir(std::string_view store_dir, std::string_view what) {
  std::string dir(store_dir);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty() || dir[0] != '/') fail_input("{} '{}' is not an absolute path", what, store_dir);
  if (dir == "/") fail_input("{} cannot be '/'", what);
  return dir;
}

bool is_valid_path_name(std::string_view name) {
  if (name.empty() || name.size() > max_name_length || name[0] == '.') return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

bool is_store_base_name(std::string_view base) {
  if (base.size() < hash_part_length + 2 || base[hash_part_length] != '-') return false;
  for (char c : base.substr(0, hash_part_length))
    if (!is_nix_base32_char(c)) return false;
  return is_valid_path_name(base.substr(hash_part_length + 1));
}

bool is_store_path(std::string_view path, std::string_view store_dir) {
  auto rest = below_store_dir(path, store_dir);
  return rest && rest->find('/') == std::string_view::npos && is_store_base_name(*rest);
}

std::optional<StorePath> try_parse_store_path(std::string_view path, std::string_view store_dir) {
  if (!is_store_path(path, store_dir)) return std::nullopt;
  std::string_view base = path.substr(store_dir.size() + 1);
  return StorePath{std::string(path), std::string(base.substr(0, hash_part_length)),
                   std::string(base.substr(hash_part_length + 1))};
}

StorePath parse_store_path(std::string_view path, std::string_view store_dir, std::string_view what) {
  if (auto parsed = try_parse_store_path(path, store_dir)) return *parsed;
  std::string problem = store_path_problem(path, store_dir);
  if (what.empty()) fail_input("'{}' {}", path, problem);
  fail_input("{}: '{}' {}", what, path, problem);
}

std::optional<std::string> containing_store_path(std::string_view path, std::string_view store_dir) {
  auto rest = below_store_dir(path, store_dir);
  if (!rest) return std::nullopt;
  std::string_view base = rest->substr(0, rest->find('/'));
  if (!is_store_base_name(base)) return std::nullopt;
  return std::string(path.substr(0, store_dir.size() + 1 + base.size()));
}

std::string follow_links_to_store(const std::string& path, std::string_view store_dir, const std::string& what) {
  std::string current = "/" + lexically_normal_relative(absolute_path(path));
  for (int hops = 0; hops < 40; ++hops) { // as the kernel's limit on nested links
    struct stat st;
    if (::lstat(current.c_str(), &st) < 0) break;
    if (containing_store_path(current, store_dir)) return current;
    if (!S_ISLNK(st.st_mode)) break;
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlink(current.c_str(), target.data(), target.size());
    if (n < 0) break;
    target.resize(static_cast<size_t>(n));
    current = "/" + lexically_normal_relative(resolve_against(dirname_of(current), target));
  }
  return resolved_path(path, what);
}

std::string_view hash_part_of(std::string_view store_path, std::string_view store_dir) {
  return store_path.substr(store_dir.size() + 1, hash_part_length);
}

StoreLocation StoreLocation::with_root(std::string_view store_dir, std::string_view root) {
  StoreLocation location;
  location.store_dir = normalize_store_dir(store_dir);
  if (!root.empty()) {
    std::string r(root);
    while (r.size() > 1 && r.back() == '/') r.pop_back();
    location.real_dir = (r == "/" ? "" : r) + location.store_dir;
  }
  return location;
}

std::string StoreLocation::on_disk(std::string_view store_path) const {
  if (real_dir.empty() || store_path.substr(0, store_dir.size()) != store_dir) return std::string(store_path);
  return real_dir + std::string(store_path.substr(store_dir.size()));
}

} // namespace strata::closure
