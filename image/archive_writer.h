// The outer tar of docker-archive and oci-archive outputs. Members are streamed
// straight into the output file: a blob's header is written after its data (the name
// is its digest, known only at the end) into 512 bytes reserved before it, so no blob
// is ever staged in a second file.
#pragma once
#include "image/sink.h"

#include <cstdint>
#include <string>

namespace strata {

class ArchiveWriter {
public:
  // fd is open for writing at offset 0 and not owned; it must be a regular file unless only
// sized members and add_* are used.
  ArchiveWriter(int fd, std::string what, int64_t mtime);

  // Starts a member whose name and size are given to end_member().
  ByteSink& begin_member();
  void end_member(const std::string& name, uint64_t size);
  // Drops the member begun last, as if it had never been started.
  void abandon_member();

  // A member whose name and size are known before its data (for outputs that cannot
  // seek: a stream). Exactly `size` bytes must be written to the sink.
  ByteSink& begin_sized_member(const std::string& name, uint64_t size);
  void end_sized_member();

  void add_file(const std::string& name, std::string_view data, uint32_t mode = 0644);
  void add_directory(const std::string& name);
  void finish();

private:
  void write(const void* data, size_t size);
  void pad_to_block();

  class MemberSink : public ByteSink {
  public:
    explicit MemberSink(ArchiveWriter& w) : w_(w) {}
    void write(const void* data, size_t size) override { w_.write(data, size); }

  private:
    ArchiveWriter& w_;
  };

  int fd_;
  std::string what_;
  int64_t mtime_;
  uint64_t offset_ = 0;
  uint64_t member_header_ = 0;
  uint64_t member_size_ = 0;
  MemberSink member_sink_{*this};
};

// A 512-byte ustar header (names up to 100 bytes, or 255 split at a '/'); type '0' or '5'.
std::string ustar_header(const std::string& name, uint64_t size, uint32_t mode, char type, int64_t mtime);

} // namespace strata
