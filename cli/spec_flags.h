// Spec keys given as command-line flags, so quick builds need no spec file. Flags are
// applied on top of the spec file's keys and go through the same validation.
#pragma once
#include "cli/command_line.h"
#include "image/spec.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace strata::cli {

struct SpecFlags {
  std::string spec_path;
  std::optional<std::string> name, tag, from_image, from_image_name, from_image_tag, config_json, created, mtime,
      extra_commands, run_as_root, fake_root_commands, store_dir, architecture, closure_graph,
      layering_pipeline;
  std::vector<std::string> copy_to_root;
  std::optional<int> max_layers;
  std::optional<int64_t> uid, gid;
  std::optional<std::string> compress;

  void add_to(CommandLine& cmd, bool layered);
  // The spec file (if any) with the flags applied.
  Spec load() const;
};

} // namespace strata::cli
