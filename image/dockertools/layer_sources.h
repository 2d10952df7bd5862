// What a buildImage-style layer (buildImage's new layer, mkPureLayer) is made of, as tree
// mappings for the one layer writer: copyToRoot merged at the root (in a writable copy
// when shadowSetup or extraCommands change it), the store dir and the store closure of
// what the layer names under it, and the Nix DB when asked.
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
// does: it copies the contents into the dir its script runs over, and calls
// add_store_paths once the script ran. runner runs extraCommands. `below`: paths a base
// image holds (shadowSetup leaves those alone).
LayerSources plan_layer_sources(const Spec& spec, bool with_contents,
                                const std::function<void(const std::string&)>& step, RootScriptRunner* runner,
                                const std::set<std::string>& below = {});

// Adds the store closure of what the layer is and names (store_closure.h; layer_trees:
// the dirs holding its files after the scripts, empty for copyToRoot as given) and the
// Nix DB when asked.
void add_store_paths(const Spec& spec, LayerSources& s, const std::vector<std::string>& layer_trees,
                     const std::function<void(const std::string&)>& step);

} // namespace strata
