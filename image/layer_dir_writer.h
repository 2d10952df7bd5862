// A Docker v1 layer directory, as nixpkgs' mkPureLayer and mkRootLayer write it (and
// `strata run --layer-out`):
//   layer.tar  the layer, uncompressed, from the one layer writer;
//   json       the legacy layer JSON: the caller's fields (architecture, config, created,
//              os), `checksum` = tarsum.v1+sha256 of layer.tar (computed while it is
//              written), `id` = sha256 of that JSON, and `Size`;
//   VERSION    "1.0".
// It is built under a hidden name beside the target and renamed into place when complete.
#pragma once
#include "image/layer_writer.h"

#include <nlohmann/json.hpp>
#include <string>

namespace strata {

// The absolute target for a layer dir: a new or empty directory in an existing, writable
// one. `label` names the target in messages ("output directory", "--layer-out").
std::string checked_layer_dir_target(const std::string& out_dir, const std::string& label);

struct LayerDirFiles {
  LayerDigests layer;     // diff_id (= digest: layer.tar is uncompressed), size, entries
  std::string checksum;   // "tarsum.v1+sha256:<hex>"
  std::string id;         // 64 hex digits
};

// Writes the three files at `target` (from checked_layer_dir_target). `legacy` holds the
// json fields before checksum, id and Size.
LayerDirFiles write_layer_dir_files(const std::string& target, const std::string& label,
                                    const EntryProducer& produce, nlohmann::json legacy);

} // namespace strata
