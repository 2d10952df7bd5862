#include "image/layer_reader.h"

#include "sys/error.h"

#include <archive.h>
#include <archive_entry.h>
#include <memory>
#include <unistd.h>
#include <vector>

namespace strata {
namespace {

struct RangeReader {
  ImageSource::BlobLocation blob;
  uint64_t pos = 0;
  std::vector<char> buffer = std::vector<char>(1 << 20);
};

la_ssize_t read_range(archive* a, void* client, const void** out) {
  auto* r = static_cast<RangeReader*>(client);
  uint64_t left = r->blob.size - r->pos;
  if (left == 0) return 0;
  size_t want = static_cast<size_t>(std::min<uint64_t>(left, r->buffer.size()));
  ssize_t n = ::pread(r->blob.fd, r->buffer.data(), want, static_cast<off_t>(r->blob.offset + r->pos));
  if (n < 0) {
    archive_set_error(a, errno, "read failed");
    return -1;
  }
  r->pos += static_cast<uint64_t>(n);
  *out = r->buffer.data();
  return n;
}

} // namespace

void support_layer_compressions(archive* a) {
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_xz(a);
}

void read_layer_entries(const ImageSource::BlobLocation& blob, const std::string& what,
                        const std::function<void(archive*, archive_entry*)>& visit) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  support_layer_compressions(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());
  RangeReader reader{blob};
  if (archive_read_open(a.get(), &reader, nullptr, read_range, nullptr) != ARCHIVE_OK)
    fail_input("{} is not a readable layer: {}", what, archive_error_string(a.get()));
  for (;;) {
    archive_entry* entry;
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) fail_input("{} is corrupt: {}", what, archive_error_string(a.get()));
    if (!archive_entry_pathname(entry)) fail_input("{} is corrupt: an entry has no name", what);
    visit(a.get(), entry);
  }
}

} // namespace strata
