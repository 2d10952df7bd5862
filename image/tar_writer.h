// Deterministic tar writing (libarchive, pax restricted: ustar headers, PAX records only
// for long names, large files and xattrs). Fields come only from the LayerEntry: nothing
// is looked up from the host (no user database, no clock).
#pragma once
#include "image/layer_entry.h"
#include "image/sink.h"

#include <memory>

struct archive;

namespace strata {

class TarWriter {
public:
  explicit TarWriter(ByteSink& out);
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;
  ~TarWriter();

  // Writes one entry; for a File, its content from content_fd or inline_data.
  void add(const LayerEntry& entry);
  // Writes the end-of-archive marker and flushes; the sink is not finished.
  void finish();
  uint64_t entries() const { return entries_; }

private:
  ByteSink& out_;
  archive* archive_;
  uint64_t entries_ = 0;
  bool finished_ = false;
};

} // namespace strata
