// The paths a base image's layers leave in its root filesystem (whiteouts applied), so
// a new layer can leave out the store files the base already has.
#pragma once
#include "image/image_reader.h"

#include <set>
#include <string>

namespace strata {

// Only paths at, above or below `store_prefix` (the store dir without its leading "/",
// e.g. "nix/store") are kept: "nix", "nix/store", "nix/store/…", and those in `also`.
std::set<std::string> base_store_paths(const ImageSource& base, const std::string& store_prefix,
                                       const std::set<std::string>& also = {});

// What of a new layer over such a base dockerTools' buildImage leaves out: store files
// the base holds; the store dir and its parents when the base has the store dir.
bool base_has_store_entry(const std::set<std::string>& base_paths, const std::string& store_prefix,
                          const std::string& layer_path);

} // namespace strata
