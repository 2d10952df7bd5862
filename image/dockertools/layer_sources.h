// What a buildImage-style layer (buildImage's new layer, mkPureLayer) is made of, as tree
// mappings for the one layer writer: copyToRoot merged at the root (in a writable copy
// when shadowSetup or extraCommands change it), the store dir and the contents' store
// closure under it, and the Nix DB when asked.
#pragma once
#include "image/dockertools/root_script.h"
#include "image/dockertools/store_closure.h"
#include "image/spec.h"
#include "image/tree_source.h"
#include "sys/temp.h"

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace strata {

// A copyToRoot entry: a directory's contents merge into the root; anything else lands
// at the root under its own name.
TreeMapping contents_mapping(const std::string& path);

struct LayerSources {
  std::vector<TreeMapping> contents; // copyToRoot, as given
  std::vector<TreeMapping> mappings; // everything the layer holds
  ContentsClosure closure;
  std::vector<std::string> store_paths; // in the layer (empty with includeStorePaths false)
  std::unique_ptr<TempDir> staging, nix_db;
};

// with_contents false leaves copyToRoot (and what changes it) to the caller, as runAsRoot
// does: it copies the contents into the dir its script runs over. runner runs
// extraCommands. `below`: paths a base image holds (shadowSetup leaves those alone).
LayerSources plan_layer_sources(const Spec& spec, bool with_contents,
                                const std::function<void(const std::string&)>& step, RootScriptRunner* runner,
                                const std::set<std::string>& below = {});

} // namespace strata
