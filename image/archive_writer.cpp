#include "image/archive_writer.h"

#include "sys/error.h"
#include "sys/files.h"

#include <cstring>
#include <unistd.h>

namespace strata {
namespace {

void put_octal(char* field, size_t width, uint64_t value) {
  // width includes the terminating NUL.
  std::string digits = fmt::format("{:0{}o}", value, width - 1);
  if (digits.size() > width - 1) {
    // base-256 for values that do not fit (GNU extension, read by every tar reader)
    std::memset(field, 0, width);
    field[0] = static_cast<char>(0x80);
    for (size_t i = width - 1; i > 0 && value; --i, value >>= 8) field[i] = static_cast<char>(value & 0xff);
    return;
  }
  std::memcpy(field, digits.data(), digits.size());
  field[width - 1] = '\0';
}

} // namespace

std::string ustar_header(const std::string& name, uint64_t size, uint32_t mode, char type, int64_t mtime) {
  char h[512];
  std::memset(h, 0, sizeof h);
  std::string prefix, base = name;
  if (name.size() > 100) {
    auto slash = name.rfind('/', 155);
    if (slash == std::string::npos || name.size() - slash - 1 > 100) fail_work("archive member name too long: {}", name);
    prefix = name.substr(0, slash);
    base = name.substr(slash + 1);
  }
  std::memcpy(h, base.data(), base.size());
  put_octal(h + 100, 8, mode);
  put_octal(h + 108, 8, 0);
  put_octal(h + 116, 8, 0);
  put_octal(h + 124, 12, size);
  put_octal(h + 136, 12, static_cast<uint64_t>(mtime));
  h[156] = type;
  std::memcpy(h + 257, "ustar\0" "00", 8);
  std::memcpy(h + 265, "root", 4);
  std::memcpy(h + 297, "root", 4);
  std::memcpy(h + 345, prefix.data(), prefix.size());
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  put_octal(h + 148, 7, sum);
  h[155] = ' ';
  return std::string(h, sizeof h);
}

ArchiveWriter::ArchiveWriter(int fd, std::string what, int64_t mtime) : fd_(fd), what_(std::move(what)), mtime_(mtime) {}

void ArchiveWriter::write(const void* data, size_t size) {
  write_all(fd_, data, size, what_);
  offset_ += size;
}

void ArchiveWriter::pad_to_block() {
  static const char zeros[512] = {};
  if (offset_ % 512) write(zeros, 512 - offset_ % 512);
}

ByteSink& ArchiveWriter::begin_member() {
  member_header_ = offset_;
  static const char zeros[512] = {};
  write(zeros, sizeof zeros);
  return member_sink_;
}

void ArchiveWriter::end_member(const std::string& name, uint64_t size) {
  if (offset_ - member_header_ - 512 != size) fail_work("{}: member {} size mismatch", what_, name);
  pad_to_block();
  std::string header = ustar_header(name, size, 0644, '0', mtime_);
  if (::pwrite(fd_, header.data(), header.size(), static_cast<off_t>(member_header_)) != 512)
    fail_errno(fmt::format("cannot write {}", what_));
}

void ArchiveWriter::abandon_member() {
  if (::ftruncate(fd_, static_cast<off_t>(member_header_)) < 0 ||
      ::lseek(fd_, static_cast<off_t>(member_header_), SEEK_SET) < 0)
    fail_errno(fmt::format("cannot rewind {}", what_));
  offset_ = member_header_;
}

ByteSink& ArchiveWriter::begin_sized_member(const std::string& name, uint64_t size) {
  std::string header = ustar_header(name, size, 0644, '0', mtime_);
  write(header.data(), header.size());
  member_header_ = offset_ - 512;
  member_size_ = size;
  return member_sink_;
}

void ArchiveWriter::end_sized_member() {
  if (offset_ - member_header_ - 512 != member_size_)
    fail_work("{}: a layer changed while it was written ({} bytes, {} announced)", what_,
              offset_ - member_header_ - 512, member_size_);
  pad_to_block();
}

void ArchiveWriter::add_file(const std::string& name, std::string_view data, uint32_t mode) {
  std::string header = ustar_header(name, data.size(), mode, '0', mtime_);
  write(header.data(), header.size());
  write(data.data(), data.size());
  pad_to_block();
}

void ArchiveWriter::add_directory(const std::string& name) {
  std::string header = ustar_header(name.back() == '/' ? name : name + "/", 0, 0755, '5', mtime_);
  write(header.data(), header.size());
}

void ArchiveWriter::finish() {
  static const char zeros[1024] = {};
  write(zeros, sizeof zeros);
}

} // namespace strata
