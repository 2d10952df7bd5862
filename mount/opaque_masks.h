// Opaque dirs of layers kept in owner tables (sys/owner_table.h: where user xattrs are
// refused, no user.overlay.opaque marks them), made opaque to the overlay all the same.
//
// A layer's opaque dir D hides what the layers below it have in D. The overlay honours
// whiteouts without xattrs, so a mask layer stacked right below that layer holds D with
// a whiteout (a 0:0 char device) for every name the layers further down have in D: the
// layer's own entries in D stay visible (they are above the mask), the rest is hidden.
// The mask's dirs never show: the layer above has each of them.
#pragma once
#include "sys/temp.h"

#include <string>
#include <vector>

namespace strata::mount {

struct MaskedLowers {
  std::vector<std::string> lower; // topmost first, with the masks in place
  size_t masks = 0;               // mask layers added
  size_t whiteouts = 0;           // whiteouts in them
};

// lower: the overlay's lower dirs, topmost first, each with its owner table beside it (a
// missing table has no opaque dirs). The masks are made under mask_root (an empty dir
// of the caller's, removed by the caller after the overlay is gone). Throws WorkError
// when a whiteout cannot be made.
MaskedLowers with_opaque_masks(const std::vector<std::string>& lower, const std::string& mask_root);

} // namespace strata::mount
