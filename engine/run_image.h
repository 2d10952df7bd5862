// `strata run`: a command as root in the sandbox over an image's layers (from the layer
// store, under a fresh upper dir) or over a rootfs directory (its only lower dir, or the
// root itself with the plain overlay), and what it changed written as a layer dir.
#pragma once
#include "engine/root_script_runner.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace strata::engine {

struct RunImageRequest {
  std::string target;                  // an image strata reads, or a rootfs dir
  std::string image_name, image_tag;   // pick an image from an archive holding several
  std::vector<std::string> command;    // argv, argv[0] looked up on the sandbox's PATH
  std::vector<std::string> env;        // extra KEY=VALUE
  std::string store_dir;               // a host dir bound read-only at the same path
  std::string layer_out;               // when the command exits 0: its changes as a layer dir
  std::optional<int64_t> mtime;        // of every layer_out entry (default: the byte rules')
  SandboxOptions sandbox;
};

struct RunImageResult {
  int exit_status = 0;   // the command's; 128+N when killed by signal N
  nlohmann::json report; // the root script report, with "layer_out" when one was written
};

// A rootfs dir rather than an OCI layout dir.
bool is_rootfs_dir(const std::string& path);

// InputError for a bad request, naming what is wrong. Every temp dir is gone when it
// returns.
RunImageResult run_image(const RunImageRequest& request);

} // namespace strata::engine
