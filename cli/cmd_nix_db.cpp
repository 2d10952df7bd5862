#include "cli/commands.h"
#include "cli/common.h"
#include "image/closure/store_path.h"
#include "image/nix/nar_hash_text.h"
#include "image/nix/registration.h"
#include "image/nix/seed.h"
#include "ns/sys/error.h"
#include "ns/sys/file.h"

#include <charconv>
#include <cstdlib>
#include <memory>
#include <set>

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

int64_t parse_seconds(const std::string& text, const std::string& what) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0)
    fail_input("{} must be a number of seconds since 1970, got '{}'", what, text);
  return value;
}

// --registration-time, else SOURCE_DATE_EPOCH, else 1970-01-01T00:00:01Z; never the clock.
int64_t registration_time(const NixDbOptions& o) {
  if (!o.registration_time.empty()) return parse_seconds(o.registration_time, "--registration-time");
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch)
    return parse_seconds(epoch, "SOURCE_DATE_EPOCH");
  return 1;
}

// Paths of the graph no other path references (self-references aside), in graph order.
std::vector<std::string> top_level_paths(const std::vector<nix::ClosurePath>& graph) {
  std::set<std::string> referenced;
  for (const auto& p : graph)
    for (const auto& r : p.references)
      if (r != p.path) referenced.insert(r);
  std::vector<std::string> roots;
  for (const auto& p : graph)
    if (!referenced.count(p.path)) roots.push_back(p.path);
  return roots;
}

void run_nix_db(const NixDbOptions& o) {
  if (o.store_dir.empty() || o.store_dir[0] != '/') fail_input("--store-dir {} is not an absolute path", o.store_dir);
  std::string store_dir = o.store_dir;
  while (store_dir.size() > 1 && store_dir.back() == '/') store_dir.pop_back();
  if (!is_directory(o.root)) fail_input("image root {} is not a directory", o.root);
  for (const auto& p : o.paths)
    if (!closure::is_store_path(p, store_dir))
      fail_input("{} is not a store path in {} (expected {}/<32-char hash>-<name>)", p, store_dir, store_dir);
  if (o.paths.empty() && o.graph.empty()) fail_input("give store paths, a --graph, or both");
  if (o.graph.empty())
    fail_input("give the closure with --graph (a closureInfo dir or its registration file); "
               "scanning store paths for references is not available in nix-db yet");

  std::vector<nix::ClosurePath> graph = nix::read_registration(o.graph);
  std::vector<std::string> roots = o.paths.empty() ? top_level_paths(graph) : o.paths;
  std::vector<nix::ClosurePath> closure = nix::restrict_closure(graph, roots);

  nix::SeedOptions seed;
  seed.store_dir = store_dir;
  if (!o.store_root.empty()) seed.real_store_dir = absolute_path(o.store_root) + store_dir;
  seed.registration_time = registration_time(o);
  seed.gc_roots = roots;
  std::vector<nix::PathRegistration> registrations = nix::register_closure(closure, seed);
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

void add_nix_db_command(CLI::App& app) {
  auto opts = std::make_shared<NixDbOptions>();
  CLI::App* cmd = app.add_subcommand(
      "nix-db", "Write a Nix database (nix/var/nix/db) under an image root for store paths and their closure");
  cmd->add_option("ROOT", opts->root, "The image root dir being built")->required();
  cmd->add_option("PATH", opts->paths,
                  "Store paths to register with their closure; each gets a gcroots/docker link "
                  "(default: the graph's top-level paths)");
  cmd->add_option("--store-dir", opts->store_dir, "The store dir the paths name")->capture_default_str();
  cmd->add_option("--store-root", opts->store_root,
                  "Read the paths from <DIR><store-dir> (a store made with nix-store --store local?root=DIR)");
  cmd->add_option("--graph", opts->graph, "The closure: a closureInfo dir or its registration file");
  cmd->add_option("--registration-time", opts->registration_time,
                  "registrationTime in seconds (default: SOURCE_DATE_EPOCH, else 1)");
  add_global_flags(*cmd);
  cmd->callback([opts] { run_nix_db(*opts); });
}

} // namespace strata::cli
