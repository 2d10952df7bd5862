// `strata layer`: nixpkgs' mkPureLayer, a layer dir (image/layer_dir_writer.h) whose
// layer.tar is laid out as `strata build` lays its layer: copyToRoot, its store closure,
// extraCommands run on a copy, the Nix DB with includeNixDB, the shadow files with
// shadowSetup. With runAsRoot it is mkRootLayer: the layer is what the script changed,
// over fromImage's layers when given.
#pragma once
#include "image/dockertools/root_script.h"
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
