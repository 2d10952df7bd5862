#include "sys/override_stat.h"

#include <charconv>
#include <fmt/format.h>
#include <sys/stat.h>

namespace strata {
namespace {

std::optional<uint32_t> parse_uint(std::string_view s, int base) {
  uint32_t value = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// "char-1-3" (later dash-separated parts are ignored, for forward compatibility).
bool parse_device(std::string_view type, OverrideStat& stat) {
  size_t first = type.find('-');
  if (first == std::string_view::npos) return false;
  std::string_view rest = type.substr(first + 1);
  size_t second = rest.find('-');
  if (second == std::string_view::npos) return false;
  std::string_view minor = rest.substr(second + 1);
  minor = minor.substr(0, minor.find('-'));
  auto maj = parse_uint(rest.substr(0, second), 10);
  auto min = parse_uint(minor, 10);
  if (!maj || !min) return false;
  stat.dev_major = *maj;
  stat.dev_minor = *min;
  return true;
}

OverrideType type_from_mode_bits(uint32_t mode) {
  switch (mode & S_IFMT) {
  case S_IFREG: return OverrideType::File;
  case S_IFDIR: return OverrideType::Dir;
  case S_IFLNK: return OverrideType::Symlink;
  case S_IFIFO: return OverrideType::Pipe;
  case S_IFSOCK: return OverrideType::Socket;
  case S_IFBLK: return OverrideType::BlockDevice;
  case S_IFCHR: return OverrideType::CharDevice;
  default: return OverrideType::Unspecified;
  }
}

// Protobuf varint: 7 bits per byte, least significant first, high bit = more follows.
std::optional<uint64_t> read_varint(std::string_view bytes, size_t& pos) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= bytes.size()) return std::nullopt;
    uint8_t byte = static_cast<uint8_t>(bytes[pos++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return value;
  }
  return std::nullopt;
}

void write_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

constexpr uint32_t kNoopId = 0xFFFFFFFF;

} // namespace

std::string encode_override_stat(const OverrideStat& s) {
  std::string out = fmt::format("{}:{}:{:04o}", s.uid, s.gid, s.mode & 07777);
  switch (s.type) {
  case OverrideType::Unspecified: break;
  case OverrideType::File: out += ":file"; break;
  case OverrideType::Dir: out += ":dir"; break;
  case OverrideType::Symlink: out += ":symlink"; break;
  case OverrideType::Pipe: out += ":pipe"; break;
  case OverrideType::Socket: out += ":socket"; break;
  case OverrideType::BlockDevice: out += fmt::format(":block-{}-{}", s.dev_major, s.dev_minor); break;
  case OverrideType::CharDevice: out += fmt::format(":char-{}-{}", s.dev_major, s.dev_minor); break;
  }
  return out;
}

std::optional<OverrideStat> decode_override_stat(std::string_view value) {
  // Some writers include the terminating NUL in the xattr value.
  while (!value.empty() && value.back() == '\0') value.remove_suffix(1);
  std::string_view fields[4];
  size_t count = 0;
  while (count < 4) {
    size_t colon = value.find(':');
    fields[count++] = value.substr(0, colon);
    if (colon == std::string_view::npos) {
      value = {};
      break;
    }
    value.remove_prefix(colon + 1);
  } // fields after the fourth are ignored, for forward compatibility
  if (count < 3) return std::nullopt;

  OverrideStat stat;
  auto uid = parse_uint(fields[0], 10);
  auto gid = parse_uint(fields[1], 10);
  auto mode = parse_uint(fields[2], 8);
  if (!uid || !gid || !mode) return std::nullopt;
  stat.uid = *uid;
  stat.gid = *gid;
  stat.mode = *mode & 07777;
  if (*mode & ~static_cast<uint32_t>(07777)) {
    stat.type = type_from_mode_bits(*mode);
    if (stat.type == OverrideType::Unspecified) return std::nullopt;
  }
  if (count == 4) {
    std::string_view type = fields[3];
    if (starts_with(type, "file")) stat.type = OverrideType::File;
    else if (starts_with(type, "dir")) stat.type = OverrideType::Dir;
    else if (starts_with(type, "symlink")) stat.type = OverrideType::Symlink;
    else if (starts_with(type, "pipe")) stat.type = OverrideType::Pipe;
    else if (starts_with(type, "socket")) stat.type = OverrideType::Socket;
    else if (starts_with(type, "block")) {
      stat.type = OverrideType::BlockDevice;
      if (!parse_device(type, stat)) return std::nullopt;
    } else if (starts_with(type, "char")) {
      stat.type = OverrideType::CharDevice;
      if (!parse_device(type, stat)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  return stat;
}

std::optional<RootlessOwner> decode_rootlesscontainers(std::string_view bytes) {
  uint64_t uid = 0, gid = 0; // proto3: an absent field holds its default, 0
  size_t pos = 0;
  while (pos < bytes.size()) {
    auto key = read_varint(bytes, pos);
    if (!key) return std::nullopt;
    uint64_t field = *key >> 3;
    switch (*key & 7) {
    case 0: { // varint
      auto v = read_varint(bytes, pos);
      if (!v) return std::nullopt;
      if (field == 1 || field == 2) {
        if (*v > 0xFFFFFFFFu) return std::nullopt;
        (field == 1 ? uid : gid) = *v;
      }
      break;
    }
    case 1: // fixed64
      if (field == 1 || field == 2 || bytes.size() - pos < 8) return std::nullopt;
      pos += 8;
      break;
    case 2: { // length-delimited
      auto len = read_varint(bytes, pos);
      if (!len || field == 1 || field == 2 || bytes.size() - pos < *len) return std::nullopt;
      pos += *len;
      break;
    }
    case 5: // fixed32
      if (field == 1 || field == 2 || bytes.size() - pos < 4) return std::nullopt;
      pos += 4;
      break;
    default: return std::nullopt;
    }
    if (field == 0) return std::nullopt;
  }
  RootlessOwner owner;
  if (uid != kNoopId) owner.uid = static_cast<uint32_t>(uid);
  if (gid != kNoopId) owner.gid = static_cast<uint32_t>(gid);
  return owner;
}

std::string encode_rootlesscontainers(const RootlessOwner& owner) {
  std::string out;
  uint32_t uid = owner.uid.value_or(kNoopId), gid = owner.gid.value_or(kNoopId);
  if (uid != 0) {
    out.push_back(0x08); // field 1, varint
    write_varint(out, uid);
  }
  if (gid != 0) {
    out.push_back(0x10); // field 2, varint
    write_varint(out, gid);
  }
  return out;
}

bool is_internal_xattr(std::string_view name) {
  return starts_with(name, "user.containers.") || starts_with(name, "user.overlay.") ||
         starts_with(name, "trusted.overlay.") || starts_with(name, "user.fuseoverlayfs.") ||
         starts_with(name, "security.fuseoverlayfs.") || name == kRootlessXattr;
}

} // namespace strata
