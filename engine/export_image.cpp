#include "engine/export_image.h"

#include "mount/diff.h"
#include "mount/flatten.h"
#include "sys/error.h"
#include "sys/owner_table.h"
#include "sys/temp.h"

#include <sys/stat.h>
#include <unistd.h>

namespace strata::engine {

ExportResult export_image(const ImageSource& image, Compression compression, int64_t mtime, ByteSink& out) {
  TempDir work("strata-export");
  const std::string rootfs = work.path() + "/rootfs";
  if (::mkdir(rootfs.c_str(), 0755) != 0) fail_errno("cannot create " + rootfs);
  ::chmod(rootfs.c_str(), 0755);

  // Where user xattrs are refused (a Nix build), recorded owners go to an owner table.
  mount::UnpackOptions unpack_options;
  unpack_options.owner_table = user_xattrs_refused(work.path()).has_value();
  mount::UnpackStats unpacked = mount::flatten_image(image, rootfs, unpack_options);

  OwnerTable table;
  mount::DiffOptions diff_options;
  diff_options.mtime = mtime;
  diff_options.id_map = mount::flattened_tree_ids();
  diff_options.include_root = true;
  if (unpack_options.owner_table) {
    table = OwnerTable::load(owner_table_path(rootfs));
    diff_options.owner_table = &table;
  }

  // Names as dockerTools' exportImage writes them (`tar -C root -cf - .`): "./", "./bin/bash".
  auto dotted = [](const std::string& path) { return path.empty() ? std::string(".") : "./" + path; };
  ExportResult result;
  mount::DiffStats walked;
  result.tar = write_layer(
      [&](const EntryVisitor& visit) {
        walked = mount::walk_diff(rootfs, diff_options, [&](LayerEntry& e) {
          // exportImage's ./ is the overlay's root, its upper dir: 0755 root:root whatever the layers say.
          if (e.path.empty()) {
            e.mode = 0755;
            e.owner = Owner{0, 0, "root", "root"};
            e.xattrs.clear();
          }
          e.path = dotted(e.path);
          if (e.type == EntryType::Hardlink) e.link_target = dotted(e.link_target);
          visit(e);
        });
      },
      compression, out);
  result.file_bytes = walked.file_bytes;
  result.unpack = mount::unpack_stats_json(unpacked);
  result.owners = unpack_options.owner_table ? "table" : ::geteuid() == 0 ? "real" : "xattr";
  return result;
}

} // namespace strata::engine
