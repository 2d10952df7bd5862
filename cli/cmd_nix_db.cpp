#include "cli/commands.h"
#include "cli/common.h"
#include "image/closure/graph_file.h"
#include "image/closure/scanner.h"
#include "image/closure/store_path.h"
#include "image/nix/nar_hash_text.h"
#include "image/nix/seed.h"
#include "image/time_value.h"
#include "sys/error.h"
#include "sys/files.h"

#include <memory>

namespace strata::cli {
namespace {

struct NixDbOptions {
  std::string root;
  std::vector<std::string> paths;
  std::string store_dir = "/nix/store";
  std::string store_root;
  std::string graph;
  std::string registration_time;
};

// --registration-time, else SOURCE_DATE_EPOCH, else 1970-01-01T00:00:01Z; never the clock.
int64_t registration_time(const NixDbOptions& o) {
  if (o.registration_time.empty()) return source_date_epoch().value_or(1);
  auto seconds = parse_epoch_seconds(o.registration_time);
  if (!seconds)
    fail_input("--registration-time must be a number of seconds in 0..{}, got '{:.40}'", max_epoch_seconds,
               o.registration_time);
  return *seconds;
}

void run_nix_db(const NixDbOptions& o) {
  closure::StoreLocation store = closure::StoreLocation::with_root(o.store_dir, o.store_root);
  const std::string& store_dir = store.store_dir;
  if (!is_directory(o.root)) fail_input("image root {} is not a directory", o.root);
  for (const auto& p : o.paths)
    if (!closure::is_store_path(p, store_dir))
      fail_input("{} is not a store path in {} (expected {}/<32-char hash>-<name>)", p, store_dir, store_dir);
  if (o.paths.empty() && o.graph.empty()) fail_input("give store paths, a --graph, or both");

  // The closure: the graph file's (cut down to the paths' requisites when paths are
  // given), else scanned from the store as Nix scans for references.
  closure::ClosureGraph graph;
  std::vector<std::string> roots = o.paths;
  if (!o.graph.empty()) {
    graph = closure::load_graph_file(o.graph, store_dir);
    if (roots.empty())
      roots = graph.roots();
    else
      graph = graph.closure_of(roots);
  } else {
    graph = closure::scan_closure(store, roots);
  }

  nix::SeedOptions seed;
  seed.store = store;
  seed.registration_time = registration_time(o);
  seed.gc_roots = roots;
  std::vector<nix::PathRegistration> registrations = nix::register_closure(graph, seed);
  nix::write_nix_state(o.root, registrations, nix::NixStateOptions{store_dir, roots});

  if (global_options().json) {
    nlohmann::json paths = nlohmann::json::array();
    for (const auto& r : registrations)
      paths.push_back({{"path", r.path},
                       {"narHash", nix::sha256_base32_text(r.nar_hash)},
                       {"narSize", r.nar_size},
                       {"references", r.references},
                       {"deriver", r.deriver}});
    print_json({{"root", o.root},
                {"db", o.root + "/nix/var/nix/db/db.sqlite"},
                {"registrationTime", seed.registration_time},
                {"gcRoots", roots},
                {"paths", paths}});
  } else {
    note(fmt::format("registered {} store paths ({} gc roots) in {}/nix/var/nix/db", registrations.size(), roots.size(),
                     o.root));
  }
}

} // namespace

void define_nix_db_command(CommandLine& cmd) {
  auto opts = std::make_shared<NixDbOptions>();
  cmd.option("ROOT", opts->root, "The image root dir being built").required();
  cmd.option("PATH", opts->paths,
             "Store paths to register with their closure; each gets a gcroots/docker link "
             "(default: the graph's top-level paths)");
  cmd.option("--store-dir", opts->store_dir, "The store dir the paths name").show_default();
  cmd.option("--store-root", opts->store_root,
             "Read the paths from <DIR><store-dir> (a store made with nix-store --store local?root=DIR)");
  cmd.option("--graph", opts->graph,
             "The closure: a closureInfo dir, a registration or exportReferencesGraph file, or a JSON graph "
             "(default: scan the store for references)");
  cmd.option("--registration-time", opts->registration_time,
             "registrationTime in seconds (default: SOURCE_DATE_EPOCH, else 1)");
  add_global_flags(cmd);
  cmd.callback([opts] { run_nix_db(*opts); });
}

} // namespace strata::cli
