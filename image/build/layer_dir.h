// `strata layer`: nixpkgs' mkPureLayer as a directory of three files:
//   layer.tar  the layer, uncompressed, written by the one layer writer: copyToRoot (as
//              `strata build` lays it out), its store closure, extraCommands run on a
//              copy, the Nix DB with includeNixDB, the shadow files with shadowSetup;
//   json       the legacy (v1) layer JSON: the image's base JSON (architecture, config,
//              created, os), `checksum` = the tarsum.v1+sha256 of layer.tar (computed
//              while it is written), `id` = sha256 of that JSON, and `Size`;
//   VERSION    "1.0".
// runAsRoot (mkRootLayer) is refused for now: it needs the sandbox.
#pragma once
#include "image/build/root_script.h"
#include "image/layer_writer.h"
#include "image/spec.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace strata {

struct LayerDirReport {
  std::string dir;
  LayerDigests layer;     // diff_id (= digest: layer.tar is uncompressed), size, entries
  std::string checksum;   // "tarsum.v1+sha256:<hex>"
  std::string id;         // 64 hex digits
  std::vector<std::string> store_paths;
  uint64_t file_bytes = 0;

  nlohmann::json to_json() const;
};

// Writes the layer dir at out_dir, which must not exist or be an empty directory; it is
// built beside it and renamed into place when complete. InputError for a bad spec or
// target, naming it. With runAsRoot (mkRootLayer) the runner runs the script, over
// fromImage's layers when given.
LayerDirReport write_layer_dir(const Spec& spec, const std::string& out_dir,
                               const std::function<void(const std::string& step)>& step = {},
                               RootScriptRunner* runner = nullptr);

} // namespace strata
