#include "image/tar_index.h"

#include "image/image_members.h"
#include "sys/error.h"
#include "sys/files.h"

#include <algorithm>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace strata {
namespace {

bool parse_number(const char* field, size_t width, uint64_t& out) {
  auto p = reinterpret_cast<const unsigned char*>(field);
  if (p[0] & 0x80) { // base-256
    out = 0;
    for (size_t i = 1; i < width; ++i) out = (out << 8) | p[i];
    return true;
  }
  out = 0;
  size_t i = 0;
  while (i < width && (field[i] == ' ' || field[i] == '\0')) ++i;
  bool any = false;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    out = out * 8 + static_cast<uint64_t>(field[i] - '0');
    any = true;
  }
  for (; i < width; ++i)
    if (field[i] != ' ' && field[i] != '\0') return false;
  (void)any; // an empty field reads as 0
  return true;
}

bool checksum_ok(const char* h) {
  uint64_t stored;
  if (!parse_number(h + 148, 8, stored)) return false;
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  return sum == stored;
}

std::string field_string(const char* f, size_t width) { return std::string(f, strnlen(f, width)); }

// "len key=value\n" records of a pax extended header.
void parse_pax(const std::string& data, std::string& path, std::string& linkpath, uint64_t* size) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t space = data.find(' ', pos);
    if (space == std::string::npos) break;
    size_t len = std::strtoull(data.c_str() + pos, nullptr, 10);
    if (len == 0 || pos + len > data.size() || space + 1 >= pos + len) break; // malformed: stop reading
    std::string record = data.substr(space + 1, pos + len - space - 2);
    auto eq = record.find('=');
    if (eq != std::string::npos) {
      std::string key = record.substr(0, eq), value = record.substr(eq + 1);
      if (key == "path") path = value;
      else if (key == "linkpath") linkpath = value;
      else if (key == "size" && size) *size = std::strtoull(value.c_str(), nullptr, 10);
    }
    pos += len;
  }
}

} // namespace

std::string normalise_member_name(std::string name) {
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  while (!name.empty() && name.back() == '/') name.pop_back();
  return name;
}

TarIndex::TarIndex(int fd, std::string what) : fd_(fd), what_(std::move(what)) {
  struct stat st;
  if (::fstat(fd_, &st) < 0) fail_errno(fmt::format("cannot stat {}", what_));
  uint64_t file_size = static_cast<uint64_t>(st.st_size);
  uint64_t offset = 0;
  std::string long_name, long_link, pax_path, pax_link;
  uint64_t pax_size = UINT64_MAX;
  char h[512];
  bool saw_end = false;
  while (offset + 512 <= file_size) {
    if (::pread(fd_, h, 512, static_cast<off_t>(offset)) != 512) fail_errno(fmt::format("cannot read {}", what_));
    bool zero = std::all_of(h, h + 512, [](char c) { return c == 0; });
    if (zero) {
      saw_end = true;
      break;
    }
    if (!checksum_ok(h)) fail_input("{} is not a valid tar archive (bad header at byte {})", what_, offset);
    uint64_t size;
    if (!parse_number(h + 124, 12, size)) fail_input("{}: bad size field at byte {}", what_, offset);
    char type = h[156] ? h[156] : '0';
    uint64_t data = offset + 512;
    if (type == 'x' || type == 'L' || type == 'K') {
      if (size > (1u << 20) || data + size > file_size) fail_input("{} is truncated (at byte {})", what_, offset);
      std::string ext(size, '\0');
      if (::pread(fd_, ext.data(), size, static_cast<off_t>(data)) != static_cast<ssize_t>(size))
        fail_errno(fmt::format("cannot read {}", what_));
      if (type == 'x') parse_pax(ext, pax_path, pax_link, &pax_size);
      else if (type == 'L') long_name = field_string(ext.data(), ext.size());
      else long_link = field_string(ext.data(), ext.size());
      offset = data + (size + 511) / 512 * 512;
      continue;
    }
    if (pax_size != UINT64_MAX) size = pax_size;
    std::string name = !pax_path.empty() ? pax_path : !long_name.empty() ? long_name : [&] {
      std::string prefix = std::memcmp(h + 257, "ustar", 5) == 0 ? field_string(h + 345, 155) : "";
      std::string base = field_string(h, 100);
      return prefix.empty() ? base : prefix + "/" + base;
    }();
    std::string link = !pax_link.empty() ? pax_link : !long_link.empty() ? long_link : field_string(h + 157, 100);
    long_name.clear(), long_link.clear(), pax_path.clear(), pax_link.clear();
    pax_size = UINT64_MAX;
    bool has_data = type == '0' || type == '7';
    if (has_data && data + size > file_size)
      fail_input("{} is truncated: member {} needs {} bytes, the file ends {} bytes in", what_, name, size,
                 file_size - data);
    members_[normalise_member_name(name)] = Member{data, has_data ? size : 0, type, link};
    offset = data + (has_data ? (size + 511) / 512 * 512 : 0);
  }
  if (members_.empty()) fail_input("{} is not a tar archive", what_);
  if (!saw_end && offset != file_size) fail_input("{} is truncated (ends inside a header)", what_);
}

const TarIndex::Member* TarIndex::find(const std::string& name) const {
  std::string key = normalise_member_name(name);
  for (int hops = 0; hops < 16; ++hops) {
    auto it = members_.find(key);
    if (it == members_.end()) return nullptr;
    const Member& m = it->second;
    if (m.type == '1') {
      key = normalise_member_name(m.link_target);
    } else if (m.type == '2') {
      key = link_target_path(key, m.link_target);
    } else {
      return &m;
    }
  }
  return nullptr;
}

std::string TarIndex::read(const std::string& name) const {
  const Member* m = find(name);
  if (!m) fail_input("{} has no member {}", what_, name);
  if (m->size > max_metadata_bytes) fail_input("{}: member {} is too large to be metadata", what_, name);
  std::string out(m->size, '\0');
  if (::pread(fd_, out.data(), out.size(), static_cast<off_t>(m->offset)) != static_cast<ssize_t>(out.size()))
    fail_errno(fmt::format("cannot read {} from {}", name, what_));
  return out;
}

void TarIndex::copy(const std::string& name, ByteSink& out) const {
  const Member* m = find(name);
  if (!m) fail_input("{} has no member {}", what_, name);
  copy(*m, out);
}

void TarIndex::copy(const Member& m, ByteSink& out) const {
  static thread_local std::vector<char> buf(1 << 20);
  uint64_t pos = m.offset, left = m.size;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    ssize_t n = ::pread(fd_, buf.data(), want, static_cast<off_t>(pos));
    if (n <= 0) fail_input("{} is truncated", what_);
    out.write(buf.data(), static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
    left -= static_cast<uint64_t>(n);
  }
}

} // namespace strata
