#include "image/perms.h"

#include "sys/error.h"
#include "sys/files.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace strata {
namespace {

using nlohmann::json;

std::string text_field(const json& rule, const char* key, const std::string& where, bool required) {
  auto it = rule.find(key);
  if (it == rule.end() || it->is_null()) {
    if (required) fail_input("{}: has no '{}'", where, key);
    return {};
  }
  if (!it->is_string()) fail_input("{}: '{}' must be a string", where, key);
  std::string s = it->get<std::string>();
  if (s.find('\0') != std::string::npos) fail_input("{}: '{}' holds a NUL byte", where, key);
  return s;
}

std::optional<uint32_t> id_field(const json& rule, const char* key, const std::string& where) {
  auto it = rule.find(key);
  if (it == rule.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_unsigned() || it->get<uint64_t>() > 0xFFFFFFFEu)
    fail_input("{}: '{}' must be a whole number 0..4294967294", where, key);
  return static_cast<uint32_t>(it->get<uint64_t>());
}

// "4755", "0644" (nix2container's strings of octal digits), or a number given in decimal
// whose digits are read as octal as well (755 means 0755, as chmod reads it).
std::optional<uint32_t> mode_field(const json& rule, const char* key, const std::string& where) {
  auto it = rule.find(key);
  if (it == rule.end() || it->is_null()) return std::nullopt;
  std::string digits;
  if (it->is_string()) digits = it->get<std::string>();
  else if (it->is_number_unsigned()) digits = std::to_string(it->get<uint64_t>());
  else fail_input("{}: '{}' must be octal digits such as \"4755\"", where, key);
  if (digits.empty() || digits.size() > 5 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; }))
    fail_input("{}: '{}' is '{}', not octal permission bits such as \"4755\"", where, key, digits);
  uint32_t mode = static_cast<uint32_t>(std::stoul(digits, nullptr, 8));
  if (mode > 07777) fail_input("{}: '{}' is '{}', beyond 7777", where, key, digits);
  return mode;
}

} // namespace

std::vector<PermRule> parse_perms(const json& value, const std::string& what,
                                  const std::function<std::string(const std::string&)>& resolve) {
  std::vector<PermRule> rules;
  if (value.is_null()) return rules;
  if (!value.is_array()) fail_input("{}: 'perms' must be a list of {{path, regex, mode, orMode, uid, gid, uname, gname}}", what);
  for (size_t i = 0; i < value.size(); ++i) {
    const json& r = value[i];
    std::string where = fmt::format("{}: perms[{}]", what, i);
    if (!r.is_object()) fail_input("{}: must be an object {{path, regex, mode, orMode, uid, gid, uname, gname}}", where);
    for (const auto& [key, v] : r.items())
      if (key != "path" && key != "regex" && key != "mode" && key != "orMode" && key != "uid" && key != "gid" && key != "uname" &&
          key != "gname")
        fail_input("{}: unknown key '{}' (path, regex, mode, orMode, uid, gid, uname, gname)", where, key);
    PermRule rule;
    std::string path = text_field(r, "path", where, true);
    if (path.empty()) fail_input("{}: 'path' is empty", where);
    rule.path = resolve(path);
    struct stat st;
    rule.is_file = ::stat(rule.path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
    rule.regex = text_field(r, "regex", where, true);
    try {
      rule.pattern = std::make_shared<const std::regex>(rule.regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      fail_input("{}: 'regex' {:?} is not a regular expression: {}", where, rule.regex, e.what());
    }
    rule.mode = mode_field(r, "mode", where);
    rule.or_mode = mode_field(r, "orMode", where);
    rule.uid = id_field(r, "uid", where);
    rule.gid = id_field(r, "gid", where);
    if (auto s = text_field(r, "uname", where, false); !s.empty()) rule.uname = s;
    if (auto s = text_field(r, "gname", where, false); !s.empty()) rule.gname = s;
    rules.push_back(std::move(rule));
  }
  return rules;
}

void check_perm_paths(const std::vector<PermRule>& rules, const std::vector<std::string>& copy_to_root,
                      const std::string& what) {
  for (size_t i = 0; i < rules.size(); ++i)
    if (std::find(copy_to_root.begin(), copy_to_root.end(), rules[i].path) == copy_to_root.end())
      fail_input("{}: perms[{}]: 'path' {} is not one of the copyToRoot entries", what, i, rules[i].path);
}

EntryVisitor apply_perms(const std::vector<PermRule>& rules, const EntryVisitor& visit) {
  if (rules.empty()) return visit;
  return [&rules, visit](LayerEntry& e) {
    const std::string image_path = "/" + e.path;
    for (const PermRule& rule : rules) {
      // The entry's source path: a file entry lands as /<its name>, a dir's contents at /.
      if (rule.is_file && e.path != basename_of(rule.path)) continue;
      const std::string source = rule.is_file || e.path.empty() ? rule.path : rule.path + "/" + e.path;
      if (!std::regex_search(source, *rule.pattern) && !std::regex_search(image_path, *rule.pattern)) continue;
      struct stat st;
      if (!rule.is_file && ::lstat(source.c_str(), &st) != 0) continue; // another entry's file
      if (e.type != EntryType::Symlink) {
        if (rule.mode) e.mode = *rule.mode;
        if (rule.or_mode) e.mode |= *rule.or_mode;
      }
      // A new id without a name given: no stale name of the old id in the header.
      if (rule.uid && *rule.uid != e.owner.uid) e.owner.uname = *rule.uid == 0 ? "root" : "";
      if (rule.gid && *rule.gid != e.owner.gid) e.owner.gname = *rule.gid == 0 ? "root" : "";
      if (rule.uid) e.owner.uid = *rule.uid;
      if (rule.gid) e.owner.gid = *rule.gid;
      if (rule.uname) e.owner.uname = *rule.uname;
      if (rule.gname) e.owner.gname = *rule.gname;
    }
    visit(e);
  };
}

} // namespace strata
