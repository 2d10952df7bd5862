// The layer a root script makes (mkRootLayer): copyToRoot copied into a fresh upper dir,
// shadowSetup, the script run as root over the base image's layers, extraCommands after
// it; the layer is what changed, merged in layer order with mapped trees (the store
// closure).
#pragma once
#include "image/dockertools/root_script.h"
#include "image/spec.h"
#include "image/tree_source.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace strata {

class RootLayer {
public:
  // Runs everything up to reading the diff; a failing script throws (its exit status is
  // strata's). `meanwhile`, if any, runs while the script does (RootScriptRequest).
  RootLayer(const Spec& spec, const ImageSource* base, const std::vector<TreeMapping>& contents,
            RootScriptRunner& runner, int64_t mtime, const std::function<void(const std::string&)>& step,
            std::function<void()> meanwhile = {});
  ~RootLayer();

  const RootScriptReport& report() const { return report_; }
  // The dir holding what the scripts wrote (readable by the caller), for the reference scan.
  const std::string& upper_dir() const;
  // The mapped trees' entries and the script's diff, in layer order (the script's entry
  // wins where both have a path).
  TreeStats walk(const std::vector<TreeMapping>& mappings, const TreeOptions& options, const EntryVisitor& visit);

private:
  class DiffMerger;
  std::unique_ptr<ScratchDir> upper_;
  std::unique_ptr<DiffMerger> diff_;
  RootScriptReport report_;
};

} // namespace strata
