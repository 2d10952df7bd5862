#include "engine/root_script_runner.h"

#include "image/whiteout.h"
#include "mount/diff.h"
#include "mount/layer_store.h"
#include "mount/opaque_masks.h"
#include "mount/overlay.h"
#include "mount/readable_tree.h"
#include "mount/stacked_records.h"
#include "ns/sandbox.h"
#include "sys/cache_root.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/files.h"
#include "sys/log.h"
#include "sys/owner_table.h"
#include "sys/temp.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::engine {

namespace {

mount::IdMapping to_mount_map(const ns::IdMapPlan& plan) {
  mount::IdMapping map;
  for (const auto& r : plan.uids) map.uids.push_back({r.inside, r.outside, r.count});
  for (const auto& r : plan.gids) map.gids.push_back({r.inside, r.outside, r.count});
  return map;
}

bool holds_only_fuse_opaque_marks(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return false;
  while (dirent* e = ::readdir(d.get())) {
    std::string_view n = e->d_name;
    if (n != "." && n != ".." && n != opaque_marker && n != fuse_opaque_whiteout) return false;
  }
  return true;
}

// Mount points the sandbox made in the root (e.g. /nix/store for the store's bind, /dev,
// /proc) are not the script's work: removed, deepest first, where they stayed empty.
void remove_empty_mount_points(const std::string& upper, const std::vector<std::string>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    std::string path = upper + *it;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      // fuse-overlayfs 1.10 leaves its opaque marks in a dir it made: they are not content
      if (::rmdir(path.c_str()) != 0 && errno == ENOTEMPTY && holds_only_fuse_opaque_marks(path)) {
        (void)::unlink((path + "/" + std::string(opaque_marker)).c_str());
        (void)::unlink((path + "/" + std::string(fuse_opaque_whiteout)).c_str());
        (void)::rmdir(path.c_str()); // fails, as it should, when not empty
      }
    }
    else if (S_ISREG(st.st_mode) && st.st_size == 0) (void)::unlink(path.c_str());
  }
}

// Whether chmod of a setuid or setgid mode is refused here, even on a file of ours (a
// Nix build's seccomp filter answers it with EPERM, ahead of the sandbox's own filter).
bool setuid_bits_refused(const std::string& dir) {
  Fd probe(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!probe) return false;
  return ::fchmod(probe.get(), 04700) != 0 && errno == EPERM;
}

} // namespace

const ScriptTools& SandboxRootScriptRunner::tools_for(const std::string& store_dir) {
  if (!tools_ || tools_store_ != store_dir) {
    const char* path = std::getenv("PATH");
    tools_ = std::make_unique<ScriptTools>(store_dir, path ? path : "", find_toolbox(options_.toolbox));
    tools_store_ = store_dir;
  }
  return *tools_;
}

RootScriptReport SandboxRootScriptRunner::run(const RootScriptRequest& request) {
  if (request.as_caller) return run_as_caller(request);
  const ScriptTools& tools = tools_for(request.store_dir);
  SandboxRunRequest command;
  command.base = request.base;
  command.upper = request.upper;
  command.argv = {tools.shell(), "-e", "-c", request.script};
  command.stand_ins = tools.stand_ins();
  command.env = request.env;
  command.env.push_back(tools.path_env());
  command.store_dir = request.store_dir;
  command.binds = tools.binds();
  command.what = request.what;
  command.meanwhile = request.meanwhile;
  RootScriptReport report = run_command(command);
  if (report.exit_status != 0 && setuid_bits_refused(dirname_of(request.upper)))
    log_note(fmt::format("{}: this platform refuses setuid and setgid modes (Nix's build sandbox does: chmod u+s "
                         "or g+s fails with \"Operation not permitted\"), so a script cannot set them here; give "
                         "them with the spec key perms ({{\"path\": <a copyToRoot entry>, \"regex\": ..., "
                         "\"mode\": \"4755\"}}), which sets them in the layer everywhere",
                         request.what));
  if (report.exit_status == 127)
    log_note(fmt::format("{}: exit status 127 (command not found?): shells tried in order: {}; without a shell of "
                         "the image's or on PATH, a static busybox (busybox-static, --toolbox) provides one",
                         request.what, tools.describe()));
  return report;
}

RootScriptReport SandboxRootScriptRunner::run_as_caller(const RootScriptRequest& request) {
  sweep_stale_scratch_dirs();
  const ScriptTools& tools = tools_for(request.store_dir);
  ns::SandboxConfig config;
  // The caller's own ids, mapped to themselves; real root stays root (over every id).
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  if (uid == 0) {
    config.id_plan = ns::plan_id_maps(ns::IdMode::Root);
  } else {
    ns::IdMapPlan plan;
    plan.mode = ns::IdMode::Single;
    plan.uids = {{uid, uid, 1}};
    plan.gids = {{gid, gid, 1}};
    plan.deny_setgroups = true;
    config.id_plan = plan;
  }
  config.uid = uid;
  config.gid = gid;
  TempDir root(fmt::format("{}-{}-root", kScratchPrefix, ::getpid()));
  ::chmod(root.path().c_str(), 0755);
  config.rootfs = root.path();
  config.read_only_root = true;
  if (!request.store_dir.empty() && is_directory(request.store_dir))
    config.binds.push_back({request.store_dir, request.store_dir, true});
  config.binds.insert(config.binds.end(), tools.binds().begin(), tools.binds().end());
  config.binds.push_back({request.upper, kLayerDir, false});
  config.cwd = kLayerDir;
  config.argv = {tools.shell(), "-e", "-c", request.script};
  config.stand_ins = tools.stand_ins();
  config.env = ns::default_env();
  for (auto& entry : config.env)
    if (entry.rfind("PATH=", 0) == 0) entry = tools.path_env();
  config.env.insert(config.env.end(), request.env.begin(), request.env.end());
  config.network = options_.network;
  config.timeout = options_.timeout;
  config.tmp_size = options_.tmp_size;
  config.pids_limit = options_.pids_limit;
  config.meanwhile = request.meanwhile;
  ns::SandboxResult result = ns::run_sandbox(config);
  RootScriptReport report;
  report.exit_status = result.exit_status;
  report.id_mode = std::string(ns::id_mode_name(result.mode_used));
  report.root = "layer dir";
  log_verbose(fmt::format("{}: as uid {} in {}, bound at {}", request.what, uid, request.upper, kLayerDir));
  for (const auto& n : result.notes) log_verbose(n);
  if (report.exit_status == 127)
    log_note(fmt::format("{}: exit status 127 (command not found?): shells tried in order: {}; without a shell on "
                         "PATH, a static busybox (busybox-static, --toolbox) provides one",
                         request.what, tools.describe()));
  return report;
}

RootScriptReport SandboxRootScriptRunner::run_command(const SandboxRunRequest& request) {
  plan_ = ns::plan_id_maps(options_.id_mode);
  sweep_stale_scratch_dirs();
  RootScriptReport report;

  mount::OverlaySpec overlay;
  overlay.upper = request.upper;
  std::unique_ptr<TempDir> work, masks;
  // Where user xattrs are refused (a Nix build's seccomp filter), owners, modes, devices
  // and opaque dirs go to owner tables beside the unpacked layers and the upper dir.
  if (!xattrs_refused_) xattrs_refused_ = user_xattrs_refused(dirname_of(request.upper));
  owner_tables_ = xattrs_refused_->has_value();
  // With subordinate ids the base layers are unpacked inside the user namespace, as its
  // root, so owners are real (a copied-up file then has no stale recorded owner); they get
  // a store of their own, keyed by the mapping.
  bool unpack_inside = plan_->mode == ns::IdMode::Subuid;
  std::string store_dir = options_.layer_store_dir.empty() ? mount::LayerStore::default_dir() : options_.layer_store_dir;
  if (unpack_inside && !plan_->uids.empty())
    store_dir += fmt::format("/subuid-{}-{}-{}", plan_->uids.back().outside, plan_->uids.back().count, ::getuid());
  mount::UnpackOptions unpack_options;
  if (owner_tables_) { // layer dirs of another flavour: a store of their own
    // v2: the tables hold the layers' xattrs; dirs of an older strata's lack them.
    store_dir += "/owner-tables-v2";
    unpack_options.owner_table = true;
  }
  auto store = std::make_shared<mount::LayerStore>(store_dir, unpack_options);
  std::vector<size_t> to_unpack;
  if (request.base) {
    report.cache_dir = store_dir;
    if (options_.layer_store_dir.empty())
      log_verbose(fmt::format("{}: base layers unpacked in {} (cache root: {})", request.what, store_dir,
                              cache_root().why));
    // Newest first; a layer the manifest repeats is stacked once, at its last (topmost)
    // occurrence (mount::distinct_lower_dirs says why that is the same root).
    std::set<std::string> stacked;
    for (size_t i = request.base->layers().size(); i-- > 0;) {
      if (!stacked.insert(request.base->layers()[i].diff_id).second) continue;
      std::string path = store->path_for(request.base->layers()[i].diff_id);
      if (!is_directory(path)) ++report.layers_unpacked;
      if (unpack_inside) {
        to_unpack.push_back(i);
        overlay.lower.push_back(path);
      } else {
        mount::UnpackStats one;
        overlay.lower.push_back(store->ensure(*request.base, i, &one));
        report.bytes_unpacked += one.bytes_written;
      }
    }
  }
  for (const auto& dir : request.lower_dirs) overlay.lower.push_back(dir);
  lower_dirs_ = overlay.lower;
  if (!overlay.lower.empty()) {
    // overlayfs wants the work dir on the upper dir's filesystem
    work = std::make_unique<TempDir>("strata-work", dirname_of(request.upper));
    overlay.work = work->path();
  }

  ns::SandboxConfig config;
  config.id_plan = plan_;
  config.network = options_.network;
  config.timeout = options_.timeout;
  config.tmp_size = options_.tmp_size;
  config.pids_limit = options_.pids_limit;
  config.argv = request.argv;
  config.meanwhile = request.meanwhile;
  config.stand_ins = request.stand_ins;
  OwnerTable lower_records; // outlives the sandbox run
  if (owner_tables_) {
    config.owner_table = owner_table_path(request.upper);
    if (!unpack_inside) lower_records = mount::merged_lower_records(mount::distinct_lower_dirs(overlay.lower));
    config.lower_owner_table = &lower_records;
  }
  config.env = ns::default_env();
  for (const auto& entry : request.env) { // a KEY= of the request's replaces the default's
    std::string key = entry.substr(0, entry.find('=') + 1);
    auto same = std::find_if(config.env.begin(), config.env.end(), [&](const std::string& e) { return e.rfind(key, 0) == 0; });
    if (same != config.env.end()) *same = entry;
    else config.env.push_back(entry);
  }
  if (!request.store_dir.empty() && is_directory(request.store_dir))
    config.binds.push_back({request.store_dir, request.store_dir, true});
  config.binds.insert(config.binds.end(), request.binds.begin(), request.binds.end());
  mount::OverlayDriver driver = options_.overlay;
  if (plan_->mode == ns::IdMode::Fuse) driver = mount::OverlayDriver::Fuse;
  if (overlay.lower.empty() && driver == mount::OverlayDriver::Auto) driver = mount::OverlayDriver::Plain;
  const ImageSource* base = request.base;
  if (driver == mount::OverlayDriver::Plain && overlay.lower.empty()) {
    // Nothing to stack: the upper dir is the sandbox's root as it is (no run dir, no
    // extra bind mount: the cheapest start).
    config.rootfs = request.upper;
  } else {
    // Opaque dirs of base layers kept in owner tables: made opaque by mask layers.
    std::string mask_root;
    if (owner_tables_ && request.base) {
      masks = std::make_unique<TempDir>("strata-masks", dirname_of(request.upper));
      mask_root = masks->path();
    }
    config.prepare_root = [overlay, driver, store, to_unpack, base, mask_root](const std::string& root) {
      for (size_t i : to_unpack) store->ensure(*base, i);
      mount::OverlaySpec stacked = overlay;
      if (!mask_root.empty()) {
        mount::MaskedLowers with_masks = mount::with_opaque_masks(mount::distinct_lower_dirs(overlay.lower), mask_root);
        stacked.lower = std::move(with_masks.lower);
        if (with_masks.masks)
          log_verbose(fmt::format("base layers' opaque dirs (owner tables): {} mask layer{} of {} whiteouts stacked",
                                  with_masks.masks, with_masks.masks == 1 ? "" : "s", with_masks.whiteouts));
      }
      return "overlay:" + std::string(mount::overlay_driver_name(mount::mount_overlay(stacked, root, driver)));
    };
  }
  ns::SandboxResult result = ns::run_sandbox(config);
  report.exit_status = result.exit_status;
  report.id_mode = std::string(ns::id_mode_name(result.mode_used));
  report.root = config.rootfs.empty() ? result.root_label : "overlay:plain";
  report.owners = owner_tables_ ? "table" : plan_->mode == ns::IdMode::Root || plan_->mode == ns::IdMode::Subuid ? "real" : "xattr";
  created_paths_ = result.created_paths;
  remove_empty_mount_points(request.upper, result.created_paths);
  log_verbose(fmt::format("{}: id mode {} ({}); owners {} ({}); root {}", request.what, report.id_mode, plan_->why.empty() ? "asked for" : plan_->why,
                          report.owners,
                          owner_tables_ ? **xattrs_refused_ + ": an owner table of strata's own beside each layer dir"
                                        : report.owners == "real" ? "set on disk through the id map"
                                                                  : "user.containers.override_stat",
                          report.root));
  for (const auto& n : result.notes) log_verbose(n);
  return report;
}

void SandboxRootScriptRunner::sweep_stale_scratch_dirs() {
  std::string parent = default_temp_parent();
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(parent.c_str()), ::closedir);
  if (!dir) return;
  std::string lead = std::string(kScratchPrefix) + "-";
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(dir.get())) {
    std::string_view name = e->d_name;
    if (name.substr(0, lead.size()) != lead) continue;
    std::string_view rest = name.substr(lead.size());
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
    if (ec != std::errc() || pid <= 0 || end == rest.data() + rest.size() || (*end != '.' && *end != '-')) continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue; // its strata is alive
    struct stat st;
    if (::fstatat(::dirfd(dir.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) continue;
    stale.push_back(parent + "/" + std::string(name));
  }
  for (const auto& path : stale) {
    try {
      remove(path);
      log_verbose(fmt::format("removed {}, left by a strata that was killed", path));
    } catch (const Error& e) {
      log_verbose(fmt::format("cannot remove {}, left by a strata that was killed: {}", path, e.what()));
    }
  }
}

void SandboxRootScriptRunner::walk_upper(const std::string& upper, int64_t mtime, const EntryVisitor& visit) {
  mount::DiffOptions options;
  options.mtime = mtime;
  if (plan_) options.id_map = to_mount_map(*plan_);
  make_upper_readable(upper); // its records first: the table is read next
  OwnerTable table;
  if (owner_tables_) {
    table = OwnerTable::load(owner_table_path(upper));
    options.owner_table = &table;
    options.lower_dirs = lower_dirs_;
  }
  // Mount points the sandbox created (e.g. /dev in an image without one) are not the
  // script's work: leave them out when they stayed empty.
  std::set<std::string> created;
  for (const auto& p : created_paths_) created.insert(p.substr(p.find_first_not_of('/')));
  mount::walk_diff(upper, options, [&](LayerEntry& e) {
    if (e.type == EntryType::Directory && created.count(e.path)) {
      std::string dir = upper + "/" + e.path;
      std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
      bool empty = true;
      if (d)
        while (dirent* de = ::readdir(d.get()))
          if (std::string_view n = de->d_name; n != "." && n != "..") empty = false;
      if (empty) return;
    }
    visit(e);
  });
}

void SandboxRootScriptRunner::remove(const std::string& dir) {
  try {
    remove_tree(dir);
    return;
  } catch (const Error& e) {
    if (!plan_) throw;
    log_verbose(fmt::format("removing {} from inside the user namespace: {}", dir, e.what()));
  }
  // Files chowned to other mapped ids can only be removed from inside the user
  // namespace: do it as the namespace's root.
  run_in_user_namespace([dir] { remove_tree(dir); }, "cleanup");
  remove_tree(dir);
}

void SandboxRootScriptRunner::make_upper_readable(const std::string& upper) {
  if (!plan_ || ::geteuid() == 0) return;  // real root reads everything
  mount::TreeReader host_reader{::geteuid(), ::getegid()};
  if (mount::count_unreadable(upper, host_reader) == 0) return;
  const std::string table_file = owner_tables_ ? owner_table_path(upper) : "";
  const std::vector<std::string> lower_dirs = lower_dirs_;
  auto fix = [table_file, lower_dirs, upper](mount::ReadableOptions options) {
    OwnerTable table;
    if (!table_file.empty()) {
      table = OwnerTable::load(table_file);
      options.owner_table = &table;
      options.lower_dirs = lower_dirs;
    }
    mount::make_readable(upper, options);
    if (!table_file.empty()) table.save(table_file);
  };
  if (plan_->mode == ns::IdMode::Single) {
    // One id mapped: the caller owns every entry already and hands them over itself.
    mount::ReadableOptions options;
    options.reader = host_reader;
    options.id_map = to_mount_map(*plan_);
    fix(options);
    return;
  }
  // Inside, the caller is 0:0 and stat shows the ids the diff records.
  run_in_user_namespace([fix] { fix(mount::ReadableOptions{mount::TreeReader{0, 0}}); }, "readable");
}

void SandboxRootScriptRunner::run_in_user_namespace(const std::function<void()>& work, const std::string& label) {
  ns::SandboxConfig config;
  config.id_plan = plan_;
  config.prepare_only = true;
  config.prepare_root = [&work, &label](const std::string&) {
    work();
    return label;
  };
  ns::run_sandbox(config);
}

} // namespace strata::engine
