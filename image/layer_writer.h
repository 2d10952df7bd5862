// The one layer writer: entries -> deterministic tar -> sha256 (diff_id) -> compressor
// -> sha256 (blob digest) -> sink, in a single streaming pass.
#pragma once
#include "image/compress.h"
#include "image/layer_entry.h"
#include "image/sink.h"

#include <functional>
#include <string>

namespace strata {

struct LayerDigests {
  std::string diff_id;          // sha256 of the uncompressed tar
  std::string digest;           // sha256 of the stored (compressed) bytes
  uint64_t size = 0;            // stored bytes
  uint64_t uncompressed_size = 0;
  uint64_t entries = 0;
  Compression compression = Compression::None;
};

// Produces a layer's entries by calling the given visitor for each, in layer order.
using EntryProducer = std::function<void(const EntryVisitor&)>;

// Called with the uncompressed bytes written so far (for progress displays).
using ProgressFn = std::function<void(uint64_t uncompressed_bytes)>;

LayerDigests write_layer(const EntryProducer& produce, Compression compression, ByteSink& out,
                         const ProgressFn& progress = {});

} // namespace strata
