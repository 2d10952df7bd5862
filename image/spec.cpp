#include "image/spec.h"

#include "image/config_schema.h"
#include "image/json_input.h"
#include "image/perms.h"
#include "image/reference.h"
#include "sys/error.h"
#include "sys/files.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <limits>
#include <cerrno>
#include <cstring>
#include <linux/magic.h>
#include <map>
#include <sys/stat.h>
#include <sys/statfs.h>
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
    const std::string& s = v.get_ref<const std::string&>();
    if (s.find('\0') != std::string::npos) fail_input("{}: '{}' holds a NUL byte", what_, key);
    return s;
  }
  bool boolean(const std::string& key, const json& v) const {
    if (!v.is_boolean()) wrong_type(key, v, "a boolean");
    return v.get<bool>();
  }
  int64_t integer(const std::string& key, const json& v, int64_t lo, int64_t hi) const {
    if (!v.is_number_integer()) wrong_type(key, v, "a whole number");
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi))
      fail_input("{}: '{}' is {}, outside {}..{}", what_, key, v.get<uint64_t>(), lo, hi);
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

  // architecture, os, variant: GOARCH/GOOS-style words ("amd64", "linux", "v8").
  std::string platform_value(const std::string& key, const json& v) const {
    std::string s = str(key, v);
    bool word = !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '_' || c == '.' || c == '-';
    });
    if (!word) fail_input("{}: '{}' is '{:.80}', not a platform name such as amd64, linux or v8", what_, key, s);
    return s;
  }

  const std::string& what() const { return what_; }

private:
  std::string what_, base_dir_;
};

// A copyToRoot path must exist, be readable (a directory searchable too), and hold
// files: the kernel's views (/proc, /sys) are no tree to copy.
void check_copy_source(const std::string& what, const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) fail_input("{}: copyToRoot path {} does not exist", what, path);
    fail_input("{}: copyToRoot path {} cannot be read: {}", what, path, std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode) && ::stat(path.c_str(), &st) < 0) return; // a dangling link is copied as a link
  if (::access(path.c_str(), S_ISDIR(st.st_mode) ? R_OK | X_OK : R_OK) < 0)
    fail_input("{}: copyToRoot path {} cannot be read: {}", what, path, std::strerror(errno));
  struct statfs fs;
  if (::statfs(path.c_str(), &fs) == 0 && (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC))
    fail_input("{}: copyToRoot path {} is in the kernel's {} filesystem, not a tree of files to copy", what, path,
               fs.f_type == PROC_SUPER_MAGIC ? "proc" : "sys");
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
  spec.layering_pipeline =
      parse_json_input(read_input_file(file, "layeringPipeline file", max_spec_bytes, true), spec.layering_source);
}

} // namespace

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
      {"perms", [&](auto&, auto& v) {
         spec.perms = parse_perms(v, what, [&](const std::string& s) { return resolve_against(base_dir, s); });
       }},
      {"config", [&](auto& k, auto& v) {
         if (v.is_null()) return;
         if (!v.is_object()) p.wrong_type(k, v, "an object");
         validate_container_config(v, what);
         spec.config = v;
       }},
      {"architecture", [&](auto& k, auto& v) { spec.architecture = p.platform_value(k, v); }},
      {"variant", [&](auto& k, auto& v) { spec.variant = v.is_null() ? "" : p.platform_value(k, v); }},
      {"os", [&](auto& k, auto& v) { spec.os = p.platform_value(k, v); }},
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
           fail_input("{}: 'created' is '{:.80}', not \"now\" or an RFC 3339 time such as 1970-01-01T00:00:01Z", what,
                      spec.created);
       }},
      {"mtime", [&](auto& k, auto& v) {
         if (v.is_number_integer()) {
           spec.mtime = p.integer(k, v, 0, max_epoch_seconds);
           return;
         }
         std::string s = p.str(k, v);
         if (s == "now")
           fail_input("{}: 'mtime' cannot be \"now\": layers must not depend on the clock (use 'created')", what);
         auto t = parse_rfc3339(s);
         if (!t) fail_input("{}: 'mtime' is '{:.80}', not an RFC 3339 time or seconds since 1970", what, s);
         if (*t < 0 || *t > max_epoch_seconds)
           fail_input("{}: 'mtime' is '{:.80}', outside 1970-01-01T00:00:00Z..9999-12-31T23:59:59Z", what, s);
         spec.mtime = *t;
       }},
      {"maxLayers", [&](auto& k, auto& v) {
         int64_t n = p.integer(k, v, INT64_MIN, INT64_MAX);
         if (n <= 1) fail_input("{}: 'maxLayers' must be greater than 1, not {}", what, n);
         // dockerTools takes any value above 1: past int's range it is as good as none.
         spec.max_layers = static_cast<int>(std::min<int64_t>(n, std::numeric_limits<int>::max()));
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
  if (std::string problem = image_name_problem(spec.name); !problem.empty())
    fail_input("{}: 'name' '{:.80}' is not a valid image name: {}", what, spec.name, problem);
  if (!spec.tag.empty() && !is_valid_tag(spec.tag))
    fail_input("{}: 'tag' '{:.80}' is not a valid tag (1 to {} letters, digits, '_', '.' and '-', not starting with "
               "'.' or '-')",
               what, spec.tag, max_tag_length);
  if ((!spec.from_image_name.empty() || !spec.from_image_tag.empty()) && spec.from_image.empty())
    fail_input("{}: 'fromImageName'/'fromImageTag' need 'fromImage'", what);
  for (const auto& path : spec.copy_to_root) check_copy_source(what, path);
  check_perm_paths(spec.perms, spec.copy_to_root, what);
  if (!spec.from_image.empty() && spec.from_image.rfind("docker://", 0) != 0 && !path_exists(spec.from_image))
    fail_input("{}: fromImage {} does not exist", what, spec.from_image);
  if (!spec.closure_graph.empty() && !path_exists(spec.closure_graph))
    fail_input("{}: closureGraph {} does not exist", what, spec.closure_graph);
  return spec;
}

SpecSource read_spec_source(const std::string& path) {
  SpecSource source{json(), "spec " + path, ""};
  std::string text = read_input_file(path == "-" ? "/dev/stdin" : path, path == "-" ? "the spec on" : "spec",
                                     max_spec_bytes, true);
  source.base_dir = path == "-" ? absolute_path(".") : dirname_of(absolute_path(path));
  source.object = parse_json_input(text, source.what);
  if (!source.object.is_object()) fail_input("spec {}: the spec must be a JSON object, not {}", path, type_name(source.object));
  return source;
}

Spec load_spec_file(const std::string& path) {
  SpecSource source = read_spec_source(path);
  return parse_spec(source.object, source.what, source.base_dir);
}

int64_t layer_mtime(const Spec& spec) {
  if (spec.mtime) return checked_epoch_seconds(*spec.mtime, "the mtime");
  return source_date_epoch().value_or(1);
}

int64_t nix_registration_time(const std::string& resolved_created) {
  if (auto epoch = source_date_epoch()) return *epoch;
  auto t = parse_rfc3339(resolved_created);
  return t && *t > 0 ? *t : 1;
}

std::string resolve_created(const std::string& created) { return created == "now" ? now_rfc3339() : created; }

} // namespace strata
