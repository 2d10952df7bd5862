#include "mount/opaque_masks.h"

#include "mount/rooted_fs.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/owner_table.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <set>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace strata::mount {
namespace {

// The dir at `path` under `root`, every component a real dir (no symlink followed), or
// an empty Fd: the layer has no dir there, so the overlay merges nothing of it.
Fd open_dir_below(const std::string& root, const std::vector<std::string>& parts) {
  Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (const std::string& part : parts) {
    if (!dir) break;
    dir = Fd(::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  return dir;
}

// Makes `parts` under `mask` as dirs (0755) and returns the last one.
Fd make_mask_dirs(const std::string& mask, const std::vector<std::string>& parts) {
  if (::mkdir(mask.c_str(), 0755) != 0 && errno != EEXIST) fail_errno("cannot make " + mask);
  Fd dir(::open(mask.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) fail_errno("cannot open " + mask);
  for (const std::string& part : parts) {
    if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST) fail_errno("cannot make a dir in " + mask);
    dir = Fd(::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) fail_errno("cannot open a dir in " + mask);
  }
  return dir;
}

bool below(const std::string& path, const std::string& dir) {
  return dir.empty() || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

} // namespace

MaskedLowers with_opaque_masks(const std::vector<std::string>& lower, const std::string& mask_root) {
  MaskedLowers out;
  for (size_t i = 0; i < lower.size(); ++i) {
    out.lower.push_back(lower[i]);
    if (i + 1 == lower.size()) continue; // nothing below the bottom layer to hide
    std::vector<std::string> opaque = OwnerTable::load(owner_table_path(lower[i])).opaque_dirs();
    if (opaque.empty()) continue;
    const std::string mask = fmt::format("{}/{}", mask_root, i);
    std::vector<std::string> covered; // sorted: an opaque dir's opaque subdirs add nothing
    bool made = false;
    for (const std::string& dir : opaque) {
      if (!covered.empty() && (below(dir, covered.back()) || dir == covered.back())) continue;
      covered.push_back(dir);
      const std::vector<std::string> parts = split_member_name(dir, dir);
      std::set<std::string> names;
      for (size_t j = i + 1; j < lower.size(); ++j)
        if (Fd found = open_dir_below(lower[j], parts))
          for (std::string& name : list_names_at(found.get(), lower[j] + "/" + dir)) names.insert(std::move(name));
      if (names.empty()) continue;
      Fd masked = make_mask_dirs(mask, parts);
      for (const std::string& name : names) {
        if (::mknodat(masked.get(), name.c_str(), S_IFCHR, makedev(0, 0)) != 0)
          fail_errno(fmt::format("cannot make a whiteout in {} (to keep {}/ of a base layer opaque)", mask, dir));
        ++out.whiteouts;
      }
      made = true;
    }
    if (made) {
      out.lower.push_back(mask);
      ++out.masks;
    }
  }
  return out;
}

} // namespace strata::mount
