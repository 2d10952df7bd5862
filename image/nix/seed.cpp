#include "image/nix/seed.h"

#include "image/closure/store_path.h"
#include "image/digest.h"
#include "image/nix/nar.h"
#include "image/nix/nar_hash_text.h"
#include "ns/sys/error.h"

#include <atomic>
#include <exception>
#include <map>
#include <set>
#include <sys/stat.h>
#include <thread>

namespace strata::nix {
namespace {

PathRegistration register_one(const ClosurePath& p, const SeedOptions& options, const std::string& real_dir) {
  if (!closure::is_store_path(p.path, options.store_dir))
    fail_input("{} is not a store path in {} (expected {}/<32-char hash>-<name>)", p.path, options.store_dir,
               options.store_dir);
  std::string on_disk = real_dir + p.path.substr(options.store_dir.size());
  struct stat st;
  if (::lstat(on_disk.c_str(), &st) < 0) {
    if (errno == ENOENT) fail_input("store path {} is missing on disk (looked for {})", p.path, on_disk);
    fail_errno(fmt::format("cannot read store path {}", on_disk));
  }
  NarHash nar = nar_hash(on_disk);
  if (!p.nar_hash.empty() && p.nar_hash != nar.sha256)
    fail_input("store path {} has NAR hash {} on disk, but its closure graph says {}", p.path,
               sha256_base32_text(nar.sha256), sha256_base32_text(p.nar_hash));
  if (p.nar_size && *p.nar_size != nar.size)
    fail_input("store path {} has NAR size {} on disk, but its closure graph says {}", p.path, nar.size, *p.nar_size);
  return PathRegistration{p.path, nar.sha256, nar.size, p.references, p.deriver, options.registration_time};
}

} // namespace

std::vector<PathRegistration> register_closure(const std::vector<ClosurePath>& closure, const SeedOptions& options) {
  const std::string real_dir = options.real_store_dir.empty() ? options.store_dir : options.real_store_dir;
  std::vector<PathRegistration> out(closure.size());
  std::vector<std::exception_ptr> failures(closure.size());
  std::atomic<size_t> next{0};
  // After a failure at index i only paths before i are still hashed, so the error
  // reported is always that of the first bad path, whatever the timing.
  std::atomic<size_t> limit{closure.size()};
  auto worker = [&] {
    for (;;) {
      size_t i = next++;
      if (i >= limit) return;
      try {
        out[i] = register_one(closure[i], options, real_dir);
      } catch (...) {
        failures[i] = std::current_exception();
        size_t seen = limit;
        while (i < seen && !limit.compare_exchange_weak(seen, i)) {
        }
      }
    }
  };
  unsigned workers = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  if (closure.size() < workers) workers = static_cast<unsigned>(std::max<size_t>(1, closure.size()));
  std::vector<std::jthread> threads;
  for (unsigned t = 1; t < workers; ++t) threads.emplace_back(worker);
  worker();
  threads.clear();
  for (auto& f : failures)
    if (f) std::rethrow_exception(f);
  return out;
}

void seed_nix_db(const std::string& root, const std::vector<ClosurePath>& closure, const SeedOptions& options) {
  std::vector<PathRegistration> registrations = register_closure(closure, options);
  write_nix_state(root, registrations, NixStateOptions{options.store_dir, options.gc_roots});
}

std::vector<ClosurePath> restrict_closure(const std::vector<ClosurePath>& closure,
                                          const std::vector<std::string>& roots) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < closure.size(); ++i) index.emplace(closure[i].path, i);
  std::set<size_t> reached;
  std::vector<size_t> todo;
  for (const auto& r : roots) {
    auto it = index.find(r);
    if (it == index.end()) fail_input("store path {} is not in the closure graph", r);
    todo.push_back(it->second);
  }
  while (!todo.empty()) {
    size_t i = todo.back();
    todo.pop_back();
    if (!reached.insert(i).second) continue;
    for (const auto& ref : closure[i].references) {
      auto it = index.find(ref);
      if (it == index.end())
        fail_input("store path {} references {}, which the closure graph does not list", closure[i].path, ref);
      todo.push_back(it->second);
    }
  }
  std::vector<ClosurePath> out;
  for (size_t i : reached) out.push_back(closure[i]);
  return out;
}

} // namespace strata::nix
