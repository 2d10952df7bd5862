// `strata run IMAGE-or-ROOTFS -- CMD…`: runs a command as root in an image's rootfs (the
// image's layers from the layer store stacked under a fresh upper dir) or over a rootfs
// directory (its only lower dir, or the root itself with --overlay plain). Its exit status
// is strata's; --layer-out writes what it changed as a layer dir, as `strata layer` does.
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/root_script_runner.h"
#include "image/digest.h"
#include "image/image_reader.h"
#include "image/layer_writer.h"
#include "image/sink.h"
#include "image/spec.h"
#include "image/tarsum.h"
#include "ns/sys/error.h"
#include "ns/sys/file.h"
#include "ns/sys/temp.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::cli {
namespace {

using nlohmann::json;

struct RunOptions {
  std::string target, layer_out, name, tag, store_dir;
  std::vector<std::string> env, command;
  std::optional<int64_t> mtime;
  SandboxOptions sandbox;
  std::string id_mode = "auto", overlay = "auto", network = "none";
  unsigned timeout = 0;
};

// The --layer-out target: a new or empty directory in an existing, writable one.
std::string checked_layer_out(std::string target) {
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  std::string base = basename_of(target);
  if (target.empty() || target == "/" || base == "." || base == "..")
    fail_input("--layer-out '{}' cannot be written: name a new or empty directory", target);
  target = absolute_path(target);
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail_input("--layer-out {} exists and is not a directory", target);
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(target.c_str()), ::closedir);
    if (!d) fail_errno("cannot list " + target);
    while (dirent* e = ::readdir(d.get()))
      if (std::string_view n = e->d_name; n != "." && n != "..") fail_input("--layer-out {} is not empty", target);
  }
  std::string parent = dirname_of(target);
  if (!is_directory(parent)) fail_input("--layer-out: the directory {} does not exist", parent);
  if (::access(parent.c_str(), W_OK) != 0) fail_input("--layer-out: the directory {} is not writable", parent);
  return target;
}

struct LayerOut {
  LayerDigests layer;
  std::string checksum, id;
};

// layer.tar (the one layer writer, uncompressed, its tarsum computed as it is written),
// json (the legacy v1 layer JSON with that checksum) and VERSION, built beside the target
// and renamed into place when complete.
LayerOut write_layer_out(SandboxRootScriptRunner& runner, const std::string& upper, const std::string& target,
                         int64_t mtime, const std::string& architecture) {
  TempDir building("." + basename_of(target) + ".strata", dirname_of(target));
  ::chmod(building.path().c_str(), 0755);
  LayerOut out;
  TarsumSink tarsum;
  {
    std::string tar_path = building.path() + "/layer.tar";
    Fd tar_fd = open_or_fail(tar_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    FdSink file(tar_fd.get(), tar_path);
    TeeSink both(file, tarsum);
    out.layer = write_layer([&](const EntryVisitor& visit) { runner.walk_upper(upper, mtime, visit); },
                            Compression::None, both);
    ::fchmod(tar_fd.get(), 0644);
  }
  out.checksum = tarsum.checksum();
  json legacy = {{"architecture", architecture},
                 {"config", nullptr},
                 {"created", "1970-01-01T00:00:01Z"},
                 {"os", "linux"},
                 {"checksum", out.checksum}};
  out.id = sha256_hex(legacy.dump());
  legacy["id"] = out.id;
  legacy["Size"] = out.layer.size;
  write_file(building.path() + "/json", legacy.dump() + "\n", 0644);
  write_file(building.path() + "/VERSION", "1.0", 0644);
  if (::rename(building.path().c_str(), target.c_str()) != 0) {
    int err = errno;
    if (err == ENOTEMPTY || err == EEXIST || err == ENOTDIR)
      fail_input("--layer-out {} was filled by someone else meanwhile", target);
    fail_errno("cannot move the layer dir to " + target, err);
  }
  building.release();
  return out;
}

bool is_rootfs_dir(const std::string& path) {
  return is_directory(path) && ::access((path + "/oci-layout").c_str(), F_OK) != 0;
}

// Runs the command; returns the exit status strata exits with. Every temp dir is gone
// when it returns.
int run(const RunOptions& opts) {
  if (opts.command.empty()) fail_input("run: no command given (strata run IMAGE-or-ROOTFS -- CMD…)");
  struct stat st;
  if (::stat(opts.target.c_str(), &st) != 0) fail_input("run: {} does not exist", opts.target);
  SandboxOptions sandbox =
      parse_sandbox_flags(opts.id_mode, opts.overlay, opts.network, opts.timeout, opts.sandbox.layer_store_dir);
  for (const std::string& e : opts.env)
    if (e.find('=') == std::string::npos || e.front() == '=') fail_input("--env {:?}: expected KEY=VALUE", e);
  if (!opts.store_dir.empty() && !is_directory(opts.store_dir))
    fail_input("--store-dir {} is not a directory", opts.store_dir);
  std::string layer_out = opts.layer_out.empty() ? "" : checked_layer_out(opts.layer_out);
  Spec defaults;
  defaults.mtime = opts.mtime;
  int64_t mtime = layer_mtime(defaults);

  bool rootfs = is_rootfs_dir(opts.target);
  if (!rootfs || !layer_out.empty()) use_utf8_names();
  bool in_place = rootfs && sandbox.overlay == mount::OverlayDriver::Plain;
  if (!rootfs && sandbox.overlay == mount::OverlayDriver::Plain)
    fail_input("run: --overlay plain runs in a rootfs directory itself; {} is an image", opts.target);
  if (in_place && !layer_out.empty())
    fail_input("run: --layer-out needs an overlay to see the changes; with --overlay plain they are made in {} "
               "itself",
               opts.target);

  std::unique_ptr<ImageSource> image;
  std::string architecture = host_architecture();
  if (!rootfs) {
    image = ImageSource::open(opts.target, {opts.name, opts.tag});
    json config = json::parse(image->config_json(), nullptr, false);
    if (config.is_object() && config.contains("architecture") && config["architecture"].is_string())
      architecture = config["architecture"].get<std::string>();
  }

  SandboxRootScriptRunner runner(std::move(sandbox));
  std::optional<ScratchDir> scratch;
  SandboxRunRequest request;
  request.what = opts.command.front();
  request.argv = opts.command;
  request.env = opts.env;
  request.store_dir = opts.store_dir;
  request.base = image.get();
  if (in_place) {
    request.upper = absolute_path(opts.target);
  } else {
    scratch.emplace(runner);
    request.upper = scratch->upper();
    if (rootfs) request.lower_dirs.push_back(absolute_path(opts.target));
  }
  RootScriptReport report = runner.run_command(request);

  json out = report.to_json();
  if (!layer_out.empty()) {
    if (report.exit_status == 0) {
      LayerOut layer = write_layer_out(runner, request.upper, layer_out, mtime, architecture);
      out["layer_out"] = {{"dir", layer_out},
                          {"diff_id", layer.layer.diff_id},
                          {"size", layer.layer.size},
                          {"entries", layer.layer.entries},
                          {"checksum", layer.checksum},
                          {"id", layer.id}};
      verbose(fmt::format("layer ({} entries, {}) -> {}", layer.layer.entries, layer.checksum, layer_out));
    } else {
      note(fmt::format("{} exited with status {}: no layer written to {}", request.what, report.exit_status,
                       layer_out));
    }
  }
  if (global_options().json) print_json(out);
  return report.exit_status;
}

} // namespace

void define_run_command(CommandLine& cmd) {
  auto opts = std::make_shared<RunOptions>();
  cmd.option("IMAGE-or-ROOTFS", opts->target,
             "docker-archive, OCI dir or OCI archive (its layers stacked under a fresh upper dir), or a "
             "rootfs directory (stacked the same way; with --overlay plain, changed in place)")
      .required();
  cmd.option("command", opts->command, "The command and its arguments, after --").required();
  cmd.option("--layer-out", opts->layer_out,
             "Write what the command changed as a layer dir (layer.tar, json, VERSION) when it exits 0");
  cmd.option("--name", opts->name, "Image name to pick from an archive holding several");
  cmd.option("--tag", opts->tag, "Tag to pick");
  cmd.option("--env", opts->env, "KEY=VALUE added to the command's environment (repeat)");
  cmd.option("--store-dir", opts->store_dir, "A host directory bound read-only at the same path (e.g. /nix/store)");
  cmd.option("--mtime", opts->mtime,
             "mtime of every --layer-out entry, seconds since the epoch (default: $SOURCE_DATE_EPOCH, else 1)");
  add_sandbox_flags(cmd, opts->sandbox, opts->id_mode, opts->overlay, opts->network, opts->timeout);
  add_global_flags(cmd);
  cmd.callback([opts] {
    int status = run(*opts);
    std::fflush(nullptr);
    std::_Exit(status); // the command's status, 128+N when it was killed by signal N
  });
}

} // namespace strata::cli
