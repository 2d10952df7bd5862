#include "sys/owner_table.h"

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/files.h"
#include "sys/hex.h"
#include "sys/temp.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace strata {
namespace {

constexpr std::string_view kOpaque = "opaque";
constexpr std::string_view kXattrs = "xattrs:";

std::string encode_xattrs(const Xattrs& xattrs) {
  std::string out(kXattrs);
  for (size_t i = 0; i < xattrs.size(); ++i) {
    if (i) out.push_back(',');
    out += to_hex(xattrs[i].first) + "=" + to_hex(xattrs[i].second);
  }
  return out;
}

std::optional<Xattrs> decode_xattrs(std::string_view text) {
  Xattrs out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    auto name = from_hex(item.substr(0, eq)), value = from_hex(item.substr(eq + 1));
    if (!name || !value || name->empty()) return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string record(std::string_view path, std::string_view value) {
  std::string out(path);
  out.push_back('\0');
  out.append(value);
  out.push_back('\0');
  return out;
}

} // namespace

std::string owner_table_path(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d + ".owners";
}

std::optional<std::string> user_xattrs_refused(const std::string& dir) {
  constexpr const char* name = "user.strata.probe";
  Fd probe(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  bool on_dir = false;
  if (!probe && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) { // no O_TMPFILE here: the dir itself
    probe = Fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    on_dir = true;
  }
  if (!probe) fail_errno("cannot probe user xattrs in " + dir);
  if (::fsetxattr(probe.get(), name, "1", 1, 0) == 0) {
    if (on_dir) (void)::fremovexattr(probe.get(), name);
    return std::nullopt;
  }
  if (errno != ENOTSUP && errno != EPERM && errno != EACCES) fail_errno("cannot set a user xattr in " + dir);
  return fmt::format("user xattrs are refused in {}: {}", dir, std::strerror(errno));
}

OwnerTable OwnerTable::load(const std::string& file) {
  OwnerTable table;
  if (!path_exists(file)) return table;
  std::string text = read_file(file);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t path_end = text.find('\0', pos);
    size_t value_end = path_end == std::string::npos ? path_end : text.find('\0', path_end + 1);
    if (value_end == std::string::npos) fail_input("owner table {} is cut short at byte {}", file, pos);
    std::string path = text.substr(pos, path_end - pos);
    std::string_view value = std::string_view(text).substr(path_end + 1, value_end - path_end - 1);
    pos = value_end + 1;
    if (value == kOpaque) {
      table.set_opaque(path);
      continue;
    }
    if (value.substr(0, kXattrs.size()) == kXattrs) {
      auto xattrs = decode_xattrs(value.substr(kXattrs.size()));
      if (!xattrs) fail_input("owner table {}: malformed xattrs of '{}'", file, path);
      table.set_xattrs(path, std::move(*xattrs));
      continue;
    }
    if (value.empty()) {
      table.set(path, std::nullopt);
      continue;
    }
    auto stat = decode_override_stat(value);
    if (!stat) fail_input("owner table {}: malformed record '{}' of '{}'", file, std::string(value), path);
    table.set(path, *stat);
  }
  return table;
}

const OverrideStat* OwnerTable::find(std::string_view path) const {
  auto it = stats_.find(path);
  return it == stats_.end() ? nullptr : &it->second;
}

bool OwnerTable::is_opaque(std::string_view path) const { return opaque_.find(path) != opaque_.end(); }

std::vector<std::string> OwnerTable::opaque_dirs() const {
  std::vector<std::string> dirs;
  for (const auto& [path, opaque] : opaque_) dirs.push_back(path);
  return dirs;
}

void OwnerTable::set(const std::string& path, const std::optional<OverrideStat>& stat) {
  if (stat) stats_[path] = *stat;
  else stats_.erase(path);
}

void OwnerTable::set_opaque(const std::string& path) { opaque_[path] = true; }

const Xattrs* OwnerTable::find_xattrs(std::string_view path) const {
  auto it = xattrs_.find(path);
  return it == xattrs_.end() ? nullptr : &it->second;
}

void OwnerTable::set_xattrs(const std::string& path, Xattrs xattrs) {
  if (xattrs.empty()) {
    xattrs_.erase(path);
    return;
  }
  std::sort(xattrs.begin(), xattrs.end());
  xattrs_[path] = std::move(xattrs);
}

void OwnerTable::erase_tree(const std::string& path) {
  auto below = [&](const std::string& p) {
    return path.empty() || p == path || (p.size() > path.size() && p.compare(0, path.size(), path) == 0 && p[path.size()] == '/');
  };
  for (auto it = stats_.lower_bound(path); it != stats_.end() && (path.empty() || it->first.compare(0, path.size(), path) == 0);)
    it = below(it->first) ? stats_.erase(it) : std::next(it);
  for (auto it = opaque_.lower_bound(path); it != opaque_.end() && (path.empty() || it->first.compare(0, path.size(), path) == 0);)
    it = below(it->first) ? opaque_.erase(it) : std::next(it);
  for (auto it = xattrs_.lower_bound(path); it != xattrs_.end() && (path.empty() || it->first.compare(0, path.size(), path) == 0);)
    it = below(it->first) ? xattrs_.erase(it) : std::next(it);
}

void OwnerTable::save(const std::string& file) const {
  std::string text;
  for (const auto& [path, stat] : stats_) text += record(path, encode_override_stat(stat));
  for (const auto& [path, yes] : opaque_) text += record(path, kOpaque);
  for (const auto& [path, xattrs] : xattrs_) text += record(path, encode_xattrs(xattrs));
  AtomicFile out(file, 0644);
  write_all(out.fd(), text, file);
  out.commit();
}

void OwnerTable::append(int fd, std::string_view path, const std::optional<OverrideStat>& stat) {
  std::string r = record(path, stat ? encode_override_stat(*stat) : "");
  if (::write(fd, r.data(), r.size()) != static_cast<ssize_t>(r.size())) fail_errno("cannot append to an owner table");
}

} // namespace strata
