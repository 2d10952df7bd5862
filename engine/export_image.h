// `strata export` (dockerTools' exportImage): an image's layers flattened into one tree
// (whiteouts applied, owners recorded rootless: in xattrs, or in an owner table where
// user xattrs are refused) and written back by the one layer writer as a single tar, its
// entries named as dockerTools' exportImage names them ("./", "./bin/bash").
#pragma once
#include "image/image_reader.h"
#include "image/layer_writer.h"
#include "image/sink.h"

#include <cstdint>
#include <nlohmann/json.hpp>

namespace strata::engine {

struct ExportResult {
  LayerDigests tar;
  uint64_t file_bytes = 0; // content bytes read back from the flattened tree
  nlohmann::json unpack;   // what flattening wrote (mount::unpack_stats_json)
  std::string owners;      // how owners were kept while flattened: real | xattr | table (no user xattrs)
};

// Flattens `image` into a temp dir (removed before it returns) and writes it to `out`.
ExportResult export_image(const ImageSource& image, Compression compression, int64_t mtime, ByteSink& out);

} // namespace strata::engine
