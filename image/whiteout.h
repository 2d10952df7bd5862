// The names by which a layer tar deletes what lower layers hold (OCI image spec, "Whiteouts").
#pragma once
#include <string_view>

namespace strata {

// ".wh.NAME" deletes NAME from the layers below.
inline constexpr std::string_view whiteout_prefix = ".wh.";
// A directory holding ".wh..wh..opq" hides everything the layers below have in it.
inline constexpr std::string_view opaque_marker = ".wh..wh..opq";
// fuse-overlayfs 1.10 marks a dir it makes opaque with a whiteout device of this name
// too (in its upper dir, not in layers).
inline constexpr std::string_view fuse_opaque_whiteout = ".wh..opq";
// Names starting ".wh..wh." are the format's own; only the opaque marker is defined.
inline constexpr std::string_view whiteout_meta_prefix = ".wh..wh.";

} // namespace strata
