#include "engine/export_image.h"

#include "mount/diff.h"
#include "mount/flatten.h"
#include "sys/temp.h"

#include <sys/stat.h>

namespace strata::engine {

ExportResult export_image(const ImageSource& image, Compression compression, int64_t mtime, ByteSink& out) {
  mount::DiffOptions diff_options;
  diff_options.mtime = mtime;
  diff_options.id_map = mount::flattened_tree_ids();

  TempDir rootfs("strata-export");
  ::chmod(rootfs.path().c_str(), 0755);
  mount::UnpackStats unpacked = mount::flatten_image(image, rootfs.path());

  ExportResult result;
  mount::DiffStats walked;
  result.tar = write_layer(
      [&](const EntryVisitor& visit) { walked = mount::walk_diff(rootfs.path(), diff_options, visit); }, compression,
      out);
  result.file_bytes = walked.file_bytes;
  result.unpack = mount::unpack_stats_json(unpacked);
  return result;
}

} // namespace strata::engine
