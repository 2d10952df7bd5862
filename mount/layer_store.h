// The unpacked-layer cache: each layer of a base image unpacked once into its own
// directory (mount/unpack.h unpack_layer_dir: whiteouts as 0:0 character devices, opaque
// dirs as user.overlay.opaque=y, owners the caller cannot set kept in
// user.containers.override_stat), named by its diff_id, ready to be stacked as an overlay
// lower dir. A second build on the same base unpacks nothing.
//
// Layout: <dir>/<hex of diff_id> for each complete layer. A layer is unpacked into a
// temp dir <dir>/.tmp-<hex>-XXXXXX beside it and renamed into place when complete, so a
// layer dir is never seen half-written; concurrent processes may unpack the same layer,
// the first rename wins and the others discard their copy. A temp dir is locked (flock)
// by the process filling it; temp dirs whose process is gone (a crash, a kill) are
// removed by the next miss.
//
// With UnpackOptions::owner_table (user xattrs refused) each layer dir has its owner
// table beside it, <dir>/<hex>.owners, moved into place just before the dir.
//
// One store dir holds one flavour of unpacking (the UnpackOptions it was made with):
// give a different dir for different options.
#pragma once
#include "image/image_reader.h"
#include "mount/unpack.h"

#include <string>

namespace strata::mount {

class LayerStore {
public:
  // dir empty: default_dir(). The dir is created when first needed.
  explicit LayerStore(std::string dir = "", UnpackOptions options = {});

  // <cache root>/unpacked (sys/cache_root.h: $XDG_CACHE_HOME/strata, $HOME/.cache/strata or
  // $TMPDIR/strata-cache-<uid>).
  static std::string default_dir();

  const std::string& dir() const { return dir_; }

  // Where the layer with this diff_id ("sha256:<hex>") lives (whether or not it is there).
  std::string path_for(const std::string& diff_id) const;

  // The directory of layer `layer_index` of the image, unpacked now unless already
  // there. stats (if given) is added the unpacking's statistics: it stays zero on a hit.
  // The stored bytes are checked against the layer's recorded digest (the blob digest,
  // or the diff_id of an uncompressed layer) when the image records one: a mismatch is
  // an InputError and nothing is kept.
  std::string ensure(const ImageSource& image, size_t layer_index, UnpackStats* stats = nullptr) const;

  // Removes temp dirs no live process holds (left by a crash). Returns how many.
  size_t remove_stale_temp_dirs() const;

private:
  std::string dir_;
  UnpackOptions options_;
};

} // namespace strata::mount
