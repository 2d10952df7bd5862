#include "image/dockertools/layer_sources.h"

#include "image/dockertools/customisation.h"
#include "image/nix/seed.h"
#include "image/shadow.h"
#include "sys/error.h"
#include "sys/files.h"

#include <cstdlib>
#include <sys/stat.h>

namespace strata {

TreeMapping contents_mapping(const std::string& path) {
  std::string resolved = resolved_path(path, "copyToRoot path");
  if (is_directory(resolved)) return {resolved, ""};
  return {resolved, basename_of(path)};
}

LayerSources plan_layer_sources(const Spec& spec, bool with_contents,
                                const std::function<void(const std::string&)>& step, RootScriptRunner* runner,
                                const std::set<std::string>& below) {
  LayerSources s;
  for (const auto& path : spec.copy_to_root) s.contents.push_back(contents_mapping(path));

  if (with_contents && (!spec.extra_commands.empty() || spec.shadow_setup)) {
    // shadowSetup and extraCommands change a writable copy of the contents.
    s.staging = std::make_unique<TempDir>("strata-layer");
    ::chmod(s.staging->path().c_str(), 0755);
    for (const auto& m : s.contents) copy_contents_into(m.host_path, s.staging->path());
    if (spec.shadow_setup) shadow_setup(s.staging->path(), below);
    if (!spec.extra_commands.empty()) {
      if (step) step("running extraCommands");
      run_extra_commands(runner, spec, s.staging->path());
    }
    s.mappings.push_back({s.staging->path(), ""});
  } else if (with_contents) {
    s.mappings = s.contents;
  }
  if (with_contents)
    add_store_paths(spec, s, s.staging ? std::vector<std::string>{s.staging->path()} : std::vector<std::string>{}, step);
  return s;
}

void add_store_paths(const Spec& spec, LayerSources& s, const std::vector<std::string>& layer_trees,
                     const std::function<void(const std::string&)>& step) {
  s.closure = contents_store_closure(spec, layer_trees);
  if (spec.include_store_paths) s.store_paths = s.closure.paths();
  std::string prefix = spec.store_dir.substr(1);
  // The store dir and its parents come with the store paths (the walk makes them), so
  // only a layer that holds store paths has them, as dockerTools' buildImage adds
  // nix/ and nix/store/.
  for (const auto& p : s.store_paths) s.mappings.push_back({p, prefix + "/" + basename_of(p)});

  if (spec.include_nix_db) {
    if (step) step("writing the Nix database");
    s.nix_db = std::make_unique<TempDir>("strata-nixdb");
    nix::SeedOptions seed;
    seed.store = closure::StoreLocation{spec.store_dir, ""};
    // `created` as the spec gives it: "now" must not reach a layer.
    seed.registration_time = nix_registration_time(spec.created);
    seed.gc_roots = s.closure.roots;
    nix::seed_nix_db(s.nix_db->path(), spec.include_store_paths ? s.closure.graph : closure::ClosureGraph(), seed);
    s.mappings.push_back({s.nix_db->path(), ""});
  }
}

} // namespace strata
