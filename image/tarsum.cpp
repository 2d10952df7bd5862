#include "image/tarsum.h"

#include "sys/error.h"

#include <algorithm>
#include <cstring>

namespace strata {
namespace {

constexpr size_t kBlock = 512;
constexpr uint64_t kMaxMetaSize = 64u << 20; // PAX headers / long names held in memory

// A NUL-terminated (or full-width) string field.
std::string field(const std::string& block, size_t offset, size_t width) {
  const char* p = block.data() + offset;
  return std::string(p, strnlen(p, width));
}

// A numeric field as Go's archive/tar reads it: base-256 when the high bit is set, else
// octal with surrounding spaces and NULs ignored.
int64_t numeric(const std::string& block, size_t offset, size_t width) {
  const auto* p = reinterpret_cast<const unsigned char*>(block.data() + offset);
  if (p[0] & 0x80) {
    uint64_t v = p[0] & 0x7f;
    bool negative = (p[0] & 0x40) != 0;
    if (negative) v = ~v & 0x7f;
    for (size_t i = 1; i < width; ++i) v = (v << 8) | (negative ? static_cast<unsigned char>(~p[i]) : p[i]);
    return negative ? -static_cast<int64_t>(v) - 1 : static_cast<int64_t>(v);
  }
  size_t b = 0, e = width;
  while (b < e && (p[b] == ' ' || p[b] == 0)) ++b;
  while (e > b && (p[e - 1] == ' ' || p[e - 1] == 0)) --e;
  int64_t v = 0;
  for (size_t i = b; i < e; ++i) {
    if (p[i] < '0' || p[i] > '7') fail_work("tarsum: bad octal number in a tar header");
    v = v * 8 + (p[i] - '0');
  }
  return v;
}

int64_t decimal(const std::string& text, const std::string& key) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    fail_work("tarsum: bad PAX record {}={}", key, text);
  return std::stoll(text);
}

// Parses PAX records ("LEN KEY=VALUE\n" …).
std::map<std::string, std::string> parse_pax(const std::string& data) {
  std::map<std::string, std::string> records;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t space = data.find(' ', pos);
    if (space == std::string::npos) fail_work("tarsum: malformed PAX header");
    size_t length = std::stoul(data.substr(pos, space - pos));
    if (length < space - pos + 2 || pos + length > data.size() || data[pos + length - 1] != '\n')
      fail_work("tarsum: malformed PAX record");
    std::string record = data.substr(space + 1, pos + length - 1 - (space + 1));
    size_t eq = record.find('=');
    if (eq == std::string::npos) fail_work("tarsum: malformed PAX record");
    records[record.substr(0, eq)] = record.substr(eq + 1);
    pos += length;
  }
  return records;
}

bool counted_xattr(const std::string& key) {
  if (key == "security.capability") return true;
  return key.rfind("security.", 0) != 0 && key.rfind("system.", 0) != 0;
}

} // namespace

TarsumSink::TarsumSink() { block_.reserve(kBlock); }

void TarsumSink::write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0 && state_ != State::Done) {
    switch (state_) {
    case State::Header: {
      size_t n = std::min(size, kBlock - block_.size());
      block_.append(p, n);
      p += n;
      size -= n;
      if (block_.size() == kBlock) {
        on_header();
        block_.clear();
      }
      break;
    }
    case State::Data: {
      size_t n = static_cast<size_t>(std::min<uint64_t>(size, left_));
      if (kind_ == 0) {
        member_.update(p, n);
      } else {
        meta_.append(p, n);
      }
      p += n;
      size -= n;
      left_ -= n;
      if (left_ == 0) {
        if (kind_ == 0) end_member();
        state_ = padding_ > 0 ? State::Padding : State::Header;
      }
      break;
    }
    case State::Padding: {
      size_t n = static_cast<size_t>(std::min<uint64_t>(size, padding_));
      p += n;
      size -= n;
      padding_ -= n;
      if (padding_ == 0) state_ = State::Header;
      break;
    }
    case State::Done: break;
    }
  }
}

void TarsumSink::on_header() {
  // The end of the archive: a zero block.
  if (std::all_of(block_.begin(), block_.end(), [](char c) { return c == 0; })) {
    state_ = State::Done;
    return;
  }
  // A meta entry read before this header applies to it.
  if (kind_ == 'x') pax_ = parse_pax(meta_);
  if (kind_ == 'L') long_name_ = std::string(meta_.c_str());
  if (kind_ == 'K') long_link_ = std::string(meta_.c_str());
  kind_ = 0;
  meta_.clear();

  char typeflag = block_[156];
  int64_t size = numeric(block_, 124, 12);
  if (size < 0) fail_work("tarsum: negative size in a tar header");
  if (typeflag == 'x' || typeflag == 'g' || typeflag == 'L' || typeflag == 'K') {
    if (static_cast<uint64_t>(size) > kMaxMetaSize) fail_work("tarsum: a tar meta entry of {} bytes", size);
    // A global header's records are not applied to members (strata never writes one).
    kind_ = typeflag;
    left_ = static_cast<uint64_t>(size);
    padding_ = (kBlock - left_ % kBlock) % kBlock;
    state_ = left_ > 0 ? State::Data : State::Header;
    if (left_ == 0 && typeflag == 'x') pax_.clear();
    return;
  }

  std::string magic = field(block_, 257, 6);
  bool ustar = std::memcmp(block_.data() + 257, "ustar\0", 6) == 0;
  bool has_devices = ustar || magic == "ustar "; // POSIX or GNU: v7 headers have no device fields
  std::string name = field(block_, 0, 100);
  if (ustar) {
    std::string prefix = field(block_, 345, 155);
    if (!prefix.empty()) name = prefix + "/" + name;
  }
  if (!long_name_.empty()) name = long_name_;
  std::string linkname = long_link_.empty() ? field(block_, 157, 100) : long_link_;
  int64_t uid = numeric(block_, 108, 8), gid = numeric(block_, 116, 8);
  std::string uname = field(block_, 265, 32), gname = field(block_, 297, 32);
  int64_t devmajor = has_devices ? numeric(block_, 329, 8) : 0;
  int64_t devminor = has_devices ? numeric(block_, 337, 8) : 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
  for (const auto& [key, value] : pax_) {
    if (key == "path") name = value;
    else if (key == "linkpath") linkname = value;
    else if (key == "uid") uid = decimal(value, key);
    else if (key == "gid") gid = decimal(value, key);
    else if (key == "uname") uname = value;
    else if (key == "gname") gname = value;
    else if (key == "size") size = decimal(value, key);
    else if (key.rfind("SCHILY.xattr.", 0) == 0 && counted_xattr(key.substr(13))) xattrs.emplace_back(key.substr(13), value);
  }
  pax_.clear();
  long_name_.clear();
  long_link_.clear();
  if (typeflag == '\0') typeflag = !name.empty() && name.back() == '/' ? '5' : '0'; // as Go reads old headers

  std::string fields = "name" + name + "mode" + std::to_string(numeric(block_, 100, 8)) + "uid" + std::to_string(uid) +
                       "gid" + std::to_string(gid) + "size" + std::to_string(size) + "typeflag" +
                       std::string(1, typeflag) + "linkname" + linkname + "uname" + uname + "gname" + gname +
                       "devmajor" + std::to_string(devmajor) + "devminor" + std::to_string(devminor);
  // pax_ is a std::map: xattrs are already in byte order of their names.
  for (const auto& [key, value] : xattrs) fields += key + value;

  // Go's reader gives header-only types (links, devices, dirs, fifos) no data, whatever
  // their size field says; every other member has `size` bytes.
  bool has_data = std::string_view("123456").find(typeflag) == std::string_view::npos;
  begin_member(fields, has_data ? static_cast<uint64_t>(size) : 0);
}

void TarsumSink::begin_member(const std::string& header_fields, uint64_t size) {
  member_ = Hasher();
  member_.update(header_fields);
  in_member_ = true;
  left_ = size;
  padding_ = (kBlock - size % kBlock) % kBlock;
  if (size == 0) {
    end_member();
    state_ = State::Header;
  } else {
    state_ = State::Data;
  }
}

void TarsumSink::end_member() {
  sums_.push_back(member_.finish_hex());
  in_member_ = false;
}

std::string TarsumSink::checksum() {
  if (in_member_ || (state_ != State::Header && state_ != State::Done) || !block_.empty())
    fail_work("tarsum: the tar ended inside a member");
  std::sort(sums_.begin(), sums_.end());
  Hasher all;
  for (const auto& s : sums_) all.update(s);
  return "tarsum.v1+sha256:" + all.finish_hex();
}

} // namespace strata
