#include "image/spec.h"

#include "sys/error.h"
#include "sys/files.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <sys/utsname.h>
#include <unistd.h>

namespace strata {

using nlohmann::json;

namespace {

std::string type_name(const json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  return "null";
}

class SpecParser {
public:
  SpecParser(const std::string& what, const std::string& base_dir) : what_(what), base_dir_(base_dir) {}

  [[noreturn]] void wrong_type(const std::string& key, const json& v, const char* expected) const {
    fail_input("{}: '{}' must be {}, not {}", what_, key, expected, type_name(v));
  }
  std::string str(const std::string& key, const json& v) const {
    if (!v.is_string()) wrong_type(key, v, "a string");
    return v.get<std::string>();
  }
  bool boolean(const std::string& key, const json& v) const {
    if (!v.is_boolean()) wrong_type(key, v, "a boolean");
    return v.get<bool>();
  }
  int64_t integer(const std::string& key, const json& v, int64_t lo, int64_t hi) const {
    if (!v.is_number_integer()) wrong_type(key, v, "a whole number");
    int64_t n = v.get<int64_t>();
    if (n < lo || n > hi) fail_input("{}: '{}' is {}, outside {}..{}", what_, key, n, lo, hi);
    return n;
  }
  std::string path(const std::string& key, const json& v) const {
    std::string p = str(key, v);
    if (p.empty()) fail_input("{}: '{}' is an empty path", what_, key);
    return resolve_against(base_dir_, p);
  }
  std::vector<std::string> paths(const std::string& key, const json& v) const {
    std::vector<std::string> out;
    if (v.is_null()) return out;
    if (v.is_string()) return {path(key, v)};
    if (!v.is_array()) wrong_type(key, v, "a path or a list of paths");
    for (const auto& item : v) out.push_back(path(key, item));
    return out;
  }

  const std::string& what() const { return what_; }

private:
  std::string what_, base_dir_;
};

bool valid_image_name(const std::string& n) {
  if (n.empty()) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
           c == '_' || c == '-' || c == '/' || c == ':';
  });
}

bool valid_tag(const std::string& t) {
  if (t.empty() || t.size() > 128 || t[0] == '.' || t[0] == '-') return false;
  return std::all_of(t.begin(), t.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; });
}

// null, "auto" or "popularity", a list of steps, or the path of a JSON file holding one
// (what nixpkgs accepts, a derivation making the file included).
void parse_layering(const SpecParser& p, const std::string& key, const json& v, Spec& spec) {
  if (v.is_null()) return;
  if (v.is_array()) {
    spec.layering = "pipeline";
    spec.layering_pipeline = v;
    spec.layering_source = p.what() + ": " + key;
    return;
  }
  std::string text = p.str(key, v);
  if (text == "auto" || text == "popularity") {
    spec.layering = text;
    return;
  }
  std::string file = p.path(key, v);
  if (!path_exists(file) || is_directory(file))
    fail_input("{}: '{}' is \"{}\": not \"auto\", \"popularity\", a list of steps or a pipeline file", p.what(), key, text);
  spec.layering = "pipeline";
  spec.layering_source = "layeringPipeline file " + file;
  try {
    spec.layering_pipeline = json::parse(read_file(file));
  } catch (const json::parse_error& e) {
    fail_input("{} is not valid JSON: {}", spec.layering_source, e.what());
  }
}

} // namespace

std::optional<int64_t> parse_rfc3339(const std::string& text) {
  int y, mo, d, h, mi, s;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6 || consumed != 19)
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::string rest = text.substr(19);
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
    if (i == 1) return std::nullopt;
    rest = rest.substr(i);
  }
  int64_t offset = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = std::atoi(rest.substr(1, 2).c_str()), om = std::atoi(rest.substr(4, 2).c_str());
    offset = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(::timegm(&tm)) - offset;
}

std::string host_architecture() {
  struct utsname u;
  ::uname(&u);
  static const std::map<std::string, std::string> go_names = {
      {"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armv7l", "arm"}, {"i686", "386"},
      {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"}};
  auto it = go_names.find(u.machine);
  return it == go_names.end() ? u.machine : it->second;
}

Spec parse_spec(const json& object, const std::string& what, const std::string& base_dir) {
  if (!object.is_object()) fail_input("{}: the spec must be a JSON object, not {}", what, type_name(object));
  SpecParser p(what, base_dir);
  Spec spec;
  spec.architecture = host_architecture();
  bool saw_contents = false, saw_copy = false;

  using Handler = std::function<void(const std::string&, const json&)>;
  const std::map<std::string, Handler> handlers = {
      {"name", [&](auto& k, auto& v) { spec.name = p.str(k, v); }},
      {"tag", [&](auto& k, auto& v) { spec.tag = v.is_null() ? "" : p.str(k, v); }},
      {"fromImage", [&](auto& k, auto& v) {
         // a registry reference (pulled by the caller before the build) or a file
         if (v.is_null()) spec.from_image = "";
         else spec.from_image = p.str(k, v).rfind("docker://", 0) == 0 ? p.str(k, v) : p.path(k, v);
       }},
      {"fromImageName", [&](auto& k, auto& v) { spec.from_image_name = v.is_null() ? "" : p.str(k, v); }},
      {"fromImageTag", [&](auto& k, auto& v) { spec.from_image_tag = v.is_null() ? "" : p.str(k, v); }},
      {"copyToRoot", [&](auto& k, auto& v) { saw_copy = true; spec.copy_to_root = p.paths(k, v); }},
      {"contents", [&](auto& k, auto& v) { saw_contents = true; spec.copy_to_root = p.paths(k, v); }},
      {"keepContentsDirlinks", [&](auto& k, auto& v) { spec.keep_contents_dirlinks = p.boolean(k, v); }},
      {"config", [&](auto& k, auto& v) {
         if (v.is_null()) return;
         if (!v.is_object()) p.wrong_type(k, v, "an object");
         spec.config = v;
       }},
      {"architecture", [&](auto& k, auto& v) { spec.architecture = p.str(k, v); }},
      {"variant", [&](auto& k, auto& v) { spec.variant = v.is_null() ? "" : p.str(k, v); }},
      {"os", [&](auto& k, auto& v) { spec.os = p.str(k, v); }},
      {"extraCommands", [&](auto& k, auto& v) { spec.extra_commands = p.str(k, v); }},
      {"fakeRootCommands", [&](auto& k, auto& v) { spec.fake_root_commands = p.str(k, v); }},
      {"runAsRoot", [&](auto& k, auto& v) { spec.run_as_root = v.is_null() ? "" : p.str(k, v); }},
      {"uid", [&](auto& k, auto& v) { spec.owner.uid = static_cast<uint32_t>(p.integer(k, v, 0, 4294967294)); }},
      {"gid", [&](auto& k, auto& v) { spec.owner.gid = static_cast<uint32_t>(p.integer(k, v, 0, 4294967294)); }},
      {"uname", [&](auto& k, auto& v) { spec.owner.uname = p.str(k, v); }},
      {"gname", [&](auto& k, auto& v) { spec.owner.gname = p.str(k, v); }},
      {"created", [&](auto& k, auto& v) {
         spec.created = p.str(k, v);
         if (spec.created != "now" && !parse_rfc3339(spec.created))
           fail_input("{}: 'created' is '{}', not \"now\" or an RFC 3339 time such as 1970-01-01T00:00:01Z", what, spec.created);
       }},
      {"mtime", [&](auto& k, auto& v) {
         if (v.is_number_integer()) {
           spec.mtime = p.integer(k, v, 0, INT64_C(253402300799));
           return;
         }
         std::string s = p.str(k, v);
         if (s == "now")
           fail_input("{}: 'mtime' cannot be \"now\": layers must not depend on the clock (use 'created')", what);
         auto t = parse_rfc3339(s);
         if (!t || *t < 0) fail_input("{}: 'mtime' is '{}', not an RFC 3339 time or seconds since 1970", what, s);
         spec.mtime = *t;
       }},
      {"maxLayers", [&](auto& k, auto& v) {
         int64_t n = p.integer(k, v, INT64_MIN, INT64_MAX);
         if (n <= 1) fail_input("{}: 'maxLayers' must be greater than 1, not {}", what, n);
         if (n > 125) fail_input("{}: 'maxLayers' is {}; images may have at most 125 layers", what, n);
         spec.max_layers = static_cast<int>(n);
       }},
      {"includeStorePaths", [&](auto& k, auto& v) { spec.include_store_paths = p.boolean(k, v); }},
      {"includeNixDB", [&](auto& k, auto& v) { spec.include_nix_db = p.boolean(k, v); }},
      {"compressor", [&](auto& k, auto& v) {
         spec.compression = parse_compression(p.str(k, v), what + ": '" + k + "'");
         spec.compression_given = true;
       }},
      {"diskSize", [&](auto&, auto&) {}},
      {"buildVMMemorySize", [&](auto&, auto&) {}},
      {"enableFakechroot", [&](auto& k, auto& v) { p.boolean(k, v); }},
      {"storeDir", [&](auto& k, auto& v) {
         spec.store_dir = p.str(k, v);
         if (spec.store_dir.empty() || spec.store_dir[0] != '/' || spec.store_dir == "/")
           fail_input("{}: 'storeDir' must be an absolute directory such as /nix/store, not '{}'", what, spec.store_dir);
         while (spec.store_dir.size() > 1 && spec.store_dir.back() == '/') spec.store_dir.pop_back();
       }},
      {"closureGraph", [&](auto& k, auto& v) { spec.closure_graph = v.is_null() ? "" : p.path(k, v); }},
      {"shadowSetup", [&](auto& k, auto& v) { spec.shadow_setup = p.boolean(k, v); }},
      {"layeringPipeline", [&](auto& k, auto& v) { parse_layering(p, k, v, spec); }},
  };

  for (const auto& [key, value] : object.items()) {
    auto it = handlers.find(key);
    if (it == handlers.end()) fail_input("{}: unknown key '{}'", what, key);
    it->second(key, value);
  }
  if (saw_contents && saw_copy) fail_input("{}: give 'copyToRoot' or its older alias 'contents', not both", what);
  if (spec.name.empty()) fail_input("{}: 'name' is missing", what);
  std::string lower = spec.name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  spec.name = lower;
  if (!valid_image_name(spec.name)) fail_input("{}: 'name' '{}' is not a valid image name", what, spec.name);
  if (!spec.tag.empty() && !valid_tag(spec.tag)) fail_input("{}: 'tag' '{}' is not a valid tag", what, spec.tag);
  if ((!spec.from_image_name.empty() || !spec.from_image_tag.empty()) && spec.from_image.empty())
    fail_input("{}: 'fromImageName'/'fromImageTag' need 'fromImage'", what);
  for (const auto& path : spec.copy_to_root)
    if (!path_exists(path)) fail_input("{}: copyToRoot path {} does not exist", what, path);
  if (!spec.from_image.empty() && spec.from_image.rfind("docker://", 0) != 0 && !path_exists(spec.from_image))
    fail_input("{}: fromImage {} does not exist", what, spec.from_image);
  if (!spec.closure_graph.empty() && !path_exists(spec.closure_graph))
    fail_input("{}: closureGraph {} does not exist", what, spec.closure_graph);
  return spec;
}

SpecSource read_spec_source(const std::string& path) {
  std::string text;
  SpecSource source{json(), "spec " + path, ""};
  if (path == "-") {
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) text.append(buf, n);
    source.base_dir = absolute_path(".");
  } else {
    if (is_directory(path)) fail_input("spec {} is a directory", path);
    if (!path_exists(path)) fail_input("spec {} does not exist", path);
    text = read_file(path);
    source.base_dir = dirname_of(absolute_path(path));
  }
  try {
    source.object = json::parse(text);
  } catch (const json::parse_error& e) {
    fail_input("spec {} is not valid JSON: {}", path, e.what());
  }
  if (!source.object.is_object()) fail_input("spec {}: the spec must be a JSON object, not {}", path, type_name(source.object));
  return source;
}

Spec load_spec_file(const std::string& path) {
  SpecSource source = read_spec_source(path);
  return parse_spec(source.object, source.what, source.base_dir);
}

int64_t layer_mtime(const Spec& spec) {
  if (spec.mtime) return *spec.mtime;
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) {
    char* end = nullptr;
    long long v = std::strtoll(sde, &end, 10);
    if (*end || v < 0) fail_input("SOURCE_DATE_EPOCH '{}' is not a number of seconds", sde);
    return v;
  }
  return 1;
}

int64_t nix_registration_time(const std::string& resolved_created) {
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) return layer_mtime(Spec{});
  auto t = parse_rfc3339(resolved_created);
  return t && *t > 0 ? *t : 1;
}

std::string resolve_created(const std::string& created) {
  if (created != "now") return created;
  std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

} // namespace strata
