#include "image/nix/seed.h"

#include "image/nix/nar.h"
#include "image/nix/nar_hash_text.h"
#include "sys/error.h"

#include <atomic>
#include <exception>
#include <sys/stat.h>
#include <thread>

namespace strata::nix {
namespace {

PathRegistration register_one(const closure::PathNode& node, const closure::ClosureGraph& graph,
                              const SeedOptions& options) {
  std::string on_disk = options.store.on_disk(node.path);
  struct stat st;
  if (::lstat(on_disk.c_str(), &st) < 0) {
    if (errno == ENOENT) fail_input("store path {} is missing on disk (looked for {})", node.path, on_disk);
    fail_errno(fmt::format("cannot read store path {}", on_disk));
  }
  NarHash nar = nar_hash(on_disk);
  if (!node.nar_hash.empty()) {
    auto given = parse_sha256_text(node.nar_hash);
    if (!given)
      fail_input("{}: the narHash of {} is not a SHA-256 hash: '{}'", graph.source(), node.path, node.nar_hash);
    if (*given != nar.sha256)
      fail_input("store path {} has NAR hash {} on disk, but {} says {}", node.path, sha256_base32_text(nar.sha256),
                 graph.source(), sha256_base32_text(*given));
  }
  if (node.nar_size != 0 && node.nar_size != nar.size)
    fail_input("store path {} has NAR size {} on disk, but {} says {}", node.path, nar.size, graph.source(),
               node.nar_size);
  return PathRegistration{node.path, nar.sha256, nar.size, node.references, node.deriver, options.registration_time};
}

} // namespace

std::vector<PathRegistration> register_closure(const closure::ClosureGraph& graph, const SeedOptions& options) {
  if (graph.store_dir() != options.store.store_dir)
    fail_input("the closure graph {} names store dir {}, but the store is {}", graph.source(), graph.store_dir(),
               options.store.store_dir);
  const auto& nodes = graph.nodes();
  std::vector<PathRegistration> out(nodes.size());
  std::vector<std::exception_ptr> failures(nodes.size());
  std::atomic<size_t> next{0};
  // After a failure at index i only paths before i are still hashed, so the error
  // reported is always that of the first bad path, whatever the timing.
  std::atomic<size_t> limit{nodes.size()};
  auto worker = [&] {
    for (;;) {
      size_t i = next++;
      if (i >= limit) return;
      try {
        out[i] = register_one(nodes[i], graph, options);
      } catch (...) {
        failures[i] = std::current_exception();
        size_t seen = limit;
        while (i < seen && !limit.compare_exchange_weak(seen, i)) {
        }
      }
    }
  };
  unsigned workers = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  if (nodes.size() < workers) workers = static_cast<unsigned>(std::max<size_t>(1, nodes.size()));
  std::vector<std::jthread> threads;
  for (unsigned t = 1; t < workers; ++t) threads.emplace_back(worker);
  worker();
  threads.clear();
  for (auto& f : failures)
    if (f) std::rethrow_exception(f);
  return out;
}

void seed_nix_db(const std::string& root, const closure::ClosureGraph& graph, const SeedOptions& options) {
  std::vector<PathRegistration> registrations = register_closure(graph, options);
  write_nix_state(root, registrations, NixStateOptions{options.store.store_dir, options.gc_roots});
}

} // namespace strata::nix
