// The set of paths a base image's layers leave in its root filesystem (whiteouts
// applied), so a new layer can leave out what the base already has.
#pragma once
#include "image/image_reader.h"

#include <set>
#include <string>

namespace strata {

std::set<std::string> base_image_paths(const ImageSource& base);

} // namespace strata
