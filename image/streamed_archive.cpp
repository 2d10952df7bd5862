#include "image/streamed_archive.h"

#include "image/archive_error.h"
#include "image/digest.h"
#include "image/layer_reader.h"
#include "image/tar_index.h"
#include "sys/error.h"
#include "sys/files.h"

#include <archive.h>
#include <archive_entry.h>
#include <cstring>
#include <memory>

namespace strata {
namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

} // namespace

StreamedArchive::StreamedArchive(Fd fd, const std::string& what) : what_(what) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  support_layer_compressions(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_fd(a.get(), fd.get(), 1 << 20) != ARCHIVE_OK)
    fail_input("cannot read {}: {}", what, archive_error_text(a.get()));
  uint64_t kept_total = 0;
  for (;;) {
    archive_entry* entry;
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) fail_input("{} is corrupt: {}", what, archive_error_text(a.get()));
    const char* raw_name = archive_entry_pathname(entry);
    if (!raw_name) fail_input("{} is corrupt: a member has no name", what);
    std::string name = normalise_member_name(raw_name);
    auto previous = members_.find(name);
    if (previous != members_.end()) {
      kept_total -= previous->second.content.size();
      members_.erase(previous);
    }
    Member m;
    if (const char* hardlink = archive_entry_hardlink(entry)) {
      m.type = '1';
      m.link_target = hardlink;
    } else if (archive_entry_filetype(entry) == AE_IFLNK) {
      m.type = '2';
      const char* target = archive_entry_symlink(entry);
      m.link_target = target ? target : "";
    } else if (archive_entry_filetype(entry) != AE_IFREG) {
      m.type = '5';
    }
    if (m.type == '0') {
      // Hash the data as it passes; keep it while it may be JSON (decided at its first
      // non-space byte) and small enough to be metadata.
      Hasher hasher;
      uint64_t size = 0;
      unsigned char magic[4] = {};
      bool undecided = true;
      m.kept = true;
      const void* block;
      size_t length;
      la_int64_t offset;
      for (;;) {
        int data_rc = archive_read_data_block(a.get(), &block, &length, &offset);
        if (data_rc == ARCHIVE_EOF) break;
        if (data_rc < ARCHIVE_WARN) fail_input("{} is corrupt: {}", what, archive_error_text(a.get()));
        if (offset < 0 || static_cast<uint64_t>(offset) < size) fail_input("{} is corrupt: member {} goes back", what, name);
        if (size < static_cast<uint64_t>(offset) && m.kept) { // a sparse member is no metadata
          kept_total -= m.content.size();
          m.content = std::string();
          m.kept = false;
        }
        static const char zeros[4096] = {};
        while (size < static_cast<uint64_t>(offset)) { // the hole reads as zeros
          size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof zeros, static_cast<uint64_t>(offset) - size));
          hasher.update(zeros, n);
          size += n;
        }
        auto bytes = static_cast<const char*>(block);
        for (size_t i = 0; i < length && size + i < sizeof magic; ++i) magic[size + i] = static_cast<unsigned char>(bytes[i]);
        hasher.update(bytes, length);
        size += length;
        if (!m.kept) continue;
        for (size_t i = 0; undecided && i < length; ++i) {
          if (is_json_space(bytes[i])) continue;
          undecided = false;
          m.kept = bytes[i] == '{' || bytes[i] == '[';
        }
        if (m.kept && size > max_metadata_bytes) m.kept = false;
        if (!m.kept) {
          kept_total -= m.content.size();
          m.content = std::string();
          continue;
        }
        if (kept_total + length > max_kept_json_bytes)
          fail_input("{} holds more than {} MiB of JSON members; too much metadata to inspect", what,
                     max_kept_json_bytes >> 20);
        m.content.append(bytes, length);
        kept_total += length;
      }
      m.facts = {size, sniff_compression(reinterpret_cast<const char*>(magic), std::min<uint64_t>(size, sizeof magic)),
                 "sha256:" + hasher.finish_hex()};
    }
    members_.emplace(std::move(name), std::move(m));
  }
  if (members_.empty()) fail_input("{} is not a tar archive", what);
}

const StreamedArchive::Member* StreamedArchive::find(const std::string& name) const {
  std::string key = normalise_member_name(name);
  for (int hops = 0; hops < 16; ++hops) {
    auto it = members_.find(key);
    if (it == members_.end()) return nullptr;
    const Member& m = it->second;
    if (m.type == '1') key = normalise_member_name(m.link_target);
    else if (m.type == '2') key = link_target_path(key, m.link_target);
    else return m.type == '0' ? &m : nullptr;
  }
  return nullptr;
}

std::string StreamedArchive::read(const std::string& name) const {
  const Member* m = find(name);
  if (!m) fail_input("{} has no member {}", what_, name);
  if (m->facts.size > max_metadata_bytes) fail_input("{}: member {} is too large to be metadata", what_, name);
  if (!m->kept) fail_input("{}: member {} is not JSON", what_, name);
  return m->content;
}

std::optional<ImageMembers::Facts> StreamedArchive::facts(const std::string& name) const {
  const Member* m = find(name);
  if (!m) return std::nullopt;
  return m->facts;
}

} // namespace strata
