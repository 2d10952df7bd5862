#include "image/tar_writer.h"

#include "image/archive_error.h"
#include "sys/error.h"
#include "sys/files.h"

#include <archive.h>
#include <archive_entry.h>
#include <memory>
#include <sys/stat.h>
#include <vector>

namespace strata {
namespace {

la_ssize_t write_callback(archive*, void* client, const void* buffer, size_t length) {
  static_cast<ByteSink*>(client)->write(buffer, length);
  return static_cast<la_ssize_t>(length);
}

struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

mode_t file_type_bits(EntryType type) {
  switch (type) {
  case EntryType::File: return AE_IFREG;
  case EntryType::Directory: return AE_IFDIR;
  case EntryType::Symlink: return AE_IFLNK;
  case EntryType::Hardlink: return AE_IFREG;
  case EntryType::CharDevice: return AE_IFCHR;
  case EntryType::BlockDevice: return AE_IFBLK;
  case EntryType::Fifo: return AE_IFIFO;
  }
  return AE_IFREG;
}

} // namespace

TarWriter::TarWriter(ByteSink& out) : out_(out), archive_(archive_write_new()) {
  if (!archive_) throw std::bad_alloc();
  archive_write_set_format_pax_restricted(archive_);
  // Names are converted through the C.UTF-8 locale main() sets, never the caller's: PAX
  // records carry non-ASCII names as UTF-8.
  // Unblocked: each header and data chunk goes straight to the sink.
  archive_write_set_bytes_per_block(archive_, 0);
  if (archive_write_open2(archive_, &out_, nullptr, write_callback, nullptr, nullptr) != ARCHIVE_OK)
    fail_work("tar: {}", archive_error_text(archive_));
}

TarWriter::~TarWriter() {
  // Without finish() the archive is abandoned: free without writing the trailer.
  if (!finished_) archive_write_fail(archive_);
  archive_write_free(archive_);
}

void TarWriter::add(const LayerEntry& e) {
  std::unique_ptr<archive_entry, EntryFree> ae(archive_entry_new());
  std::string name = e.type == EntryType::Directory ? e.path + "/" : e.path;
  archive_entry_copy_pathname(ae.get(), name.c_str());
  archive_entry_set_mode(ae.get(), file_type_bits(e.type) | (e.mode & 07777));
  archive_entry_set_uid(ae.get(), e.owner.uid);
  archive_entry_set_gid(ae.get(), e.owner.gid);
  archive_entry_copy_uname(ae.get(), e.owner.uname.c_str());
  archive_entry_copy_gname(ae.get(), e.owner.gname.c_str());
  archive_entry_set_mtime(ae.get(), e.mtime, 0);
  archive_entry_set_size(ae.get(), 0);
  switch (e.type) {
  case EntryType::File: archive_entry_set_size(ae.get(), static_cast<la_int64_t>(e.size)); break;
  case EntryType::Symlink: archive_entry_copy_symlink(ae.get(), e.link_target.c_str()); break;
  case EntryType::Hardlink: archive_entry_copy_hardlink(ae.get(), e.link_target.c_str()); break;
  case EntryType::CharDevice:
  case EntryType::BlockDevice:
    archive_entry_set_rdevmajor(ae.get(), e.dev_major);
    archive_entry_set_rdevminor(ae.get(), e.dev_minor);
    break;
  default: break;
  }
  for (const auto& [key, value] : e.xattrs)
    archive_entry_xattr_add_entry(ae.get(), key.c_str(), value.data(), value.size());

  if (archive_write_header(archive_, ae.get()) != ARCHIVE_OK)
    fail_work("tar: cannot write the header of {}: {}", e.path, archive_error_text(archive_));
  ++entries_;
  if (e.type != EntryType::File || e.size == 0) return;

  if (e.content_fd < 0) {
    if (e.inline_data.size() != e.size) fail_work("tar: {}: content size mismatch", e.path);
    if (archive_write_data(archive_, e.inline_data.data(), e.inline_data.size()) < 0)
      fail_work("tar: {}: {}", e.path, archive_error_text(archive_));
    return;
  }
  static thread_local std::vector<char> buffer(1 << 18);
  uint64_t left = e.size;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
    size_t got = read_full(e.content_fd, buffer.data(), want, e.path);
    if (got == 0) fail_work("{} shrank while it was being archived", e.path);
    if (archive_write_data(archive_, buffer.data(), got) < 0)
      fail_work("tar: {}: {}", e.path, archive_error_text(archive_));
    left -= got;
  }
}

void TarWriter::finish() {
  if (archive_write_close(archive_) != ARCHIVE_OK) fail_work("tar: {}", archive_error_text(archive_));
  finished_ = true;
}

} // namespace strata
