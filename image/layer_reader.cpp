#include "image/layer_reader.h"

#include "image/archive_error.h"
#include "image/verified_layer.h"
#include "sys/error.h"

#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <exception>
#include <memory>
#include <unistd.h>
#include <vector>

namespace strata {
namespace {

// The layer's uncompressed tar, from VerifiedLayer; an error of the read is kept to be
// rethrown as it was.
struct VerifiedReader {
  VerifiedLayer& layer;
  std::vector<char> buffer = std::vector<char>(1 << 20);
  std::exception_ptr error;
};

la_ssize_t read_verified(archive* a, void* client, const void** out) {
  auto* r = static_cast<VerifiedReader*>(client);
  try {
    size_t n = r->layer.read(r->buffer.data(), r->buffer.size());
    *out = r->buffer.data();
    return static_cast<la_ssize_t>(n);
  } catch (...) {
    r->error = std::current_exception();
    archive_set_error(a, EIO, "read failed");
    return -1;
  }
}

} // namespace

void support_layer_compressions(archive* a) {
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_xz(a);
}

void read_layer_entries(const ImageSource& image, size_t i,
                        const std::function<void(archive*, archive_entry*)>& visit) {
  VerifiedLayer layer(image, i);
  VerifiedReader reader{layer};
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());
  auto fail = [&](const char* how) {
    if (reader.error) std::rethrow_exception(reader.error);
    fail_input("{} {}: {}", layer.name(), how, archive_error_text(a.get()));
  };
  if (archive_read_open(a.get(), &reader, nullptr, read_verified, nullptr) != ARCHIVE_OK) fail("is not a readable layer");
  for (;;) {
    archive_entry* entry;
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) fail("is corrupt");
    if (!archive_entry_pathname(entry)) fail_input("{} is corrupt: an entry has no name", layer.name());
    visit(a.get(), entry);
  }
  layer.verify();
}

} // namespace strata
