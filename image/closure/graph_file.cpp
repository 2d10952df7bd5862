#include "image/closure/graph_file.h"

#include "image/closure/store_path.h"
#include "image/json_input.h"
#include "sys/error.h"
#include "sys/files.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>

namespace strata::closure {

namespace {

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_base64(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '='; });
}

// A SHA-256 hash in a form Nix writes: base16 or Nix base32, bare or after "sha256:", or SRI.
bool is_sha256_text(std::string_view s) {
  if (s.substr(0, 7) == "sha256-") return s.size() == 7 + 44 && is_base64(s.substr(7));
  if (s.substr(0, 7) == "sha256:") s.remove_prefix(7);
  if (s.size() == 64) return is_hex(s);
  if (s.size() == 52) return std::all_of(s.begin(), s.end(), is_nix_base32_char);
  return false;
}

std::optional<uint64_t> parse_decimal(std::string_view s) {
  uint64_t value = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Reads a graph file (a pipe too: `<(nix path-info --json …)`); missing, unreadable or
// special files are bad input, not failed work.
std::string read_graph_file(const std::string& path) {
  return read_input_file(path, "closure graph", max_graph_file_bytes, true);
}

class LineReader {
public:
  LineReader(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  bool at_end() const { return pos_ >= text_.size(); }
  // Only blank lines remain (tolerated after the last block).
  bool only_blank_left() const { return text_.find_first_not_of(" \t\r\n", pos_) == std::string_view::npos; }
  size_t line_number() const { return line_; }

  // The next line; InputError when the text has ended (`expected` says what was due).
  std::string_view next(std::string_view expected) {
    if (at_end()) fail_input("{}:{}: the file ends where {} was expected", source_, line_ + 1, expected);
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++line_;
    return line;
  }

  [[noreturn]] void fail(std::string_view what, std::string_view line) const {
    fail_input("{}:{}: {}, got '{}'", source_, line_, what, line);
  }

private:
  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
  size_t line_ = 0;
};

std::string store_path_line(LineReader& in, std::string_view store_dir, std::string_view expected) {
  std::string_view line = in.next(expected);
  if (!is_store_path(line, store_dir)) {
    try {
      parse_store_path(line, store_dir);
    } catch (const InputError& e) {
      in.fail(fmt::format("expected {} ({})", expected, e.what()), line);
    }
  }
  return std::string(line);
}

PathNode registration_block(LineReader& in, std::string_view store_dir) {
  PathNode node;
  node.path = store_path_line(in, store_dir, "a store path");
  std::string_view line = in.next("a NAR hash or deriver line");
  // A hash line is never empty and never absolute; a deriver line is one or the other.
  if (!line.empty() && line[0] != '/') {
    if (!is_sha256_text(line)) in.fail(fmt::format("expected the SHA-256 NAR hash of {}", node.path), line);
    node.nar_hash = std::string(line);
    line = in.next("a NAR size");
    auto size = parse_decimal(line);
    if (!size) in.fail(fmt::format("expected the NAR size of {}", node.path), line);
    node.nar_size = *size;
    line = in.next("a deriver line");
  }
  if (!line.empty()) {
    if (!is_store_path(line, store_dir)) in.fail(fmt::format("expected the deriver of {} (a store path or empty)", node.path), line);
    node.deriver = std::string(line);
  }
  line = in.next("a reference count");
  auto count = parse_decimal(line);
  if (!count) in.fail(fmt::format("expected the number of references of {}", node.path), line);
  for (uint64_t i = 0; i < *count; ++i)
    node.references.push_back(store_path_line(in, store_dir, fmt::format("reference {} of {}", i + 1, node.path)));
  return node;
}

const nlohmann::json* member(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

PathNode json_node(const nlohmann::json& entry, size_t index, const std::string& source) {
  auto where = [&](const PathNode& n) {
    return n.path.empty() ? fmt::format("{}: entry {}", source, index) : fmt::format("{}: entry {} ({})", source, index, n.path);
  };
  PathNode node;
  if (!entry.is_object()) fail_input("{}: entry {} is not an object", source, index);
  const auto* path = member(entry, "path");
  if (!path || !path->is_string()) fail_input("{} has no string member \"path\"", where(node));
  node.path = path->get<std::string>();
  const auto* refs = member(entry, "references");
  if (!refs || !refs->is_array()) fail_input("{} has no array member \"references\"", where(node));
  for (const auto& ref : *refs) {
    if (!ref.is_string()) fail_input("{}: \"references\" holds a non-string {}", where(node), ref.dump());
    node.references.push_back(ref.get<std::string>());
  }
  if (const auto* hash = member(entry, "narHash")) {
    if (!hash->is_string() || !is_sha256_text(hash->get<std::string>()))
      fail_input("{}: \"narHash\" is not a SHA-256 hash: {}", where(node), hash->dump());
    node.nar_hash = hash->get<std::string>();
  }
  if (const auto* size = member(entry, "narSize")) {
    if (!size->is_number_unsigned()) fail_input("{}: \"narSize\" is not a non-negative integer: {}", where(node), size->dump());
    node.nar_size = size->get<uint64_t>();
  }
  if (const auto* deriver = member(entry, "deriver")) {
    if (!deriver->is_string()) fail_input("{}: \"deriver\" is not a string: {}", where(node), deriver->dump());
    node.deriver = deriver->get<std::string>();
  }
  return node;
}

// An array of graph entries: every element an object with a "path".
bool is_graph_array(const nlohmann::json& value) {
  return value.is_array() && !value.empty() &&
         std::all_of(value.begin(), value.end(), [](const nlohmann::json& e) { return e.is_object() && e.contains("path"); });
}

} // namespace

ClosureGraph parse_registration_text(std::string_view text, const std::string& source, std::string_view store_dir) {
  std::string dir = normalize_store_dir(store_dir);
  LineReader in(text, source);
  std::vector<PathNode> nodes;
  while (!in.only_blank_left()) nodes.push_back(registration_block(in, dir));
  return ClosureGraph(std::move(nodes), dir, source);
}

ClosureGraph parse_json_graph(std::string_view text, const std::string& source, std::string_view store_dir) {
  nlohmann::json doc = parse_json_input(text, source);
  std::vector<const nlohmann::json*> arrays;
  if (doc.is_array()) {
    arrays.push_back(&doc);
  } else if (doc.is_object()) {
    for (const auto& [key, value] : doc.items())
      if (is_graph_array(value)) arrays.push_back(&value);
    if (arrays.empty())
      fail_input("{}: the object holds no array of {{path, references}} entries (as exportReferencesGraph writes)", source);
  } else {
    fail_input("{}: expected a JSON array of {{path, references}} entries, got {}", source, doc.type_name());
  }
  std::vector<PathNode> nodes;
  for (const auto* array : arrays) {
    size_t index = 0;
    for (const auto& entry : *array) nodes.push_back(json_node(entry, index++, source));
  }
  return ClosureGraph(std::move(nodes), store_dir, source);
}

ClosureGraph read_closure_info(const std::string& dir, std::string_view store_dir) {
  std::string registration_file = dir + "/registration";
  std::string store_paths_file = dir + "/store-paths";
  for (const auto& file : {registration_file, store_paths_file})
    if (!path_exists(file)) fail_input("closureInfo dir {} has no file {}", dir, basename_of(file));
  ClosureGraph graph = parse_registration_text(read_graph_file(registration_file), registration_file, store_dir);

  std::string listed = read_graph_file(store_paths_file);
  std::set<std::string> listed_paths;
  LineReader in(listed, store_paths_file);
  while (!in.at_end()) {
    std::string_view line = in.next("a store path");
    if (line.empty() && in.at_end()) break;
    if (!graph.contains(line))
      in.fail(fmt::format("store path not in {} (expected one of its paths)", registration_file), line);
    listed_paths.insert(std::string(line));
  }
  for (const auto& node : graph.nodes())
    if (!listed_paths.count(node.path))
      fail_input("{}: {} is registered in {} but not listed", store_paths_file, node.path, registration_file);
  return graph;
}

ClosureGraph load_graph_file(const std::string& path, std::string_view store_dir) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) fail_input("cannot read closure graph {}: {}", path, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return read_closure_info(path, store_dir);
  std::string text = read_graph_file(path);
  auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '[' || text[first] == '{')) return parse_json_graph(text, path, store_dir);
  return parse_registration_text(text, path, store_dir);
}

} // namespace strata::closure
