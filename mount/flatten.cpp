#include "mount/flatten.h"

#include "mount/image_layer.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/owner_table.h"
#include "sys/temp.h"

#include <cerrno>
#include <dirent.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::mount {
namespace {

bool is_empty_directory(const std::string& path) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(path.c_str()), ::closedir);
  if (!d) fail_errno("cannot list " + path);
  while (dirent* e = ::readdir(d.get())) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") return false;
  }
  return true;
}

// The target without trailing slashes; "", "/", "." and ".." cannot be replaced.
std::string normalised_target(std::string target) {
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  std::string base = basename_of(target);
  if (target.empty() || target == "/" || base == "." || base == "..")
    fail_input("target directory '{}' cannot be unpacked into: name a new or empty directory", target);
  return target;
}

void check_unpack_target(const std::string& target) {
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail_input("target {} exists and is not a directory", target);
    if (!is_empty_directory(target)) fail_input("target directory {} is not empty", target);
  }
  std::string parent = dirname_of(absolute_path(target));
  if (!is_directory(parent)) fail_input("the parent directory {} of {} does not exist", parent, target);
  if (::access(parent.c_str(), W_OK) != 0) fail_input("the parent directory {} of {} is not writable", parent, target);
}

} // namespace

UnpackStats flatten_image(const ImageSource& image, const std::string& dir, const UnpackOptions& options) {
  UnpackStats total;
  for (size_t i = 0; i < image.layers().size(); ++i) {
    ImageLayerInput layer(image, i);
    total += apply_layer(layer.input(), dir, options);
    layer.verify();
  }
  return total;
}

UnpackStats unpack_image_to(const ImageSource& image, const std::string& target, const UnpackOptions& options) {
  std::string absolute = absolute_path(normalised_target(target));
  check_unpack_target(absolute);
  TempDir temp("." + basename_of(absolute) + ".strata", dirname_of(absolute));
  const std::string tree = temp.path() + "/tree";
  if (::mkdir(tree.c_str(), 0755) != 0 || ::chmod(tree.c_str(), 0755) != 0) fail_errno("cannot create " + tree);
  UnpackOptions used = options;
  // Where user xattrs are refused (a Nix build), what the disk cannot hold goes to an
  // owner table beside the tree: probed where the tree is made.
  if (!used.owner_table) used.owner_table = user_xattrs_refused(temp.path()).has_value();
  UnpackStats stats = flatten_image(image, tree, used);
  // The owner table goes first: the tree never appears without it.
  const std::string table = owner_table_path(tree), target_table = owner_table_path(absolute);
  bool moved_table = used.owner_table && path_exists(table);
  if (moved_table && ::rename(table.c_str(), target_table.c_str()) != 0)
    fail_errno("cannot move the owner table to " + target_table);
  if (!moved_table && ::unlink(target_table.c_str()) != 0 && errno != ENOENT) // a stale one describes no tree
    fail_errno("cannot remove the stale owner table " + target_table);
  // rename(2) replaces an empty directory and refuses a non-empty one.
  if (::rename(tree.c_str(), absolute.c_str()) != 0) {
    int err = errno;
    if (moved_table) ::unlink(target_table.c_str());
    if (err == ENOTEMPTY || err == EEXIST || err == ENOTDIR)
      fail_input("target {} was filled by someone else while unpacking", target);
    fail_errno("cannot move the unpacked tree to " + target, err);
  }
  return stats;
}

IdMapping flattened_tree_ids() {
  if (::geteuid() == 0) return {};
  return IdMapping::single(::geteuid(), ::getegid());
}

nlohmann::json unpack_stats_json(const UnpackStats& s) {
  return {{"entries", s.entries},
          {"bytes_written", s.bytes_written},
          {"files", s.files},
          {"directories", s.directories},
          {"symlinks", s.symlinks},
          {"hardlinks", s.hardlinks},
          {"fifos", s.fifos},
          {"devices_as_files", s.devices_as_files},
          {"devices", s.devices},
          {"whiteouts", s.whiteouts},
          {"whiteout_files", s.whiteout_files},
          {"opaque_dirs", s.opaque_dirs},
          {"recorded", s.recorded},
          {"unrecorded_owners", s.unrecorded_owners},
          {"skipped_xattrs", s.skipped_xattrs}};
}

} // namespace strata::mount
