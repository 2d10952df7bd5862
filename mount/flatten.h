// An image's rootfs, flattened: every layer applied in order onto one directory
// (apply_layer: whiteouts delete, no markers stay), rootless as umoci --rootless does:
// owners, devices and modes the caller cannot set are kept in
// user.containers.override_stat, where walk_diff (mount/diff.h) reads them back.
#pragma once
#include "image/image_reader.h"
#include "mount/unpack.h"

#include <nlohmann/json.hpp>
#include <string>

namespace strata::mount {

// Applies every layer of image onto dir (an existing directory, normally empty).
UnpackStats flatten_image(const ImageSource& image, const std::string& dir, const UnpackOptions& options = {});

// Flattens image into target, which must not exist or be an empty directory (else an
// InputError naming it). The tree is built in a temp dir beside target and renamed onto
// it when complete: target is never seen half-unpacked, and a failure leaves it as it was.
// With options.owner_table, or where the temp dir refuses user xattrs, the owner table is
// moved to owner_table_path(target) first (a stale one there is removed otherwise).
UnpackStats unpack_image_to(const ImageSource& image, const std::string& target, const UnpackOptions& options = {});

// How to read a tree flatten_image made back (walk_diff's DiffOptions::id_map): as root,
// ids on disk are the image's; unprivileged, what could not be chown'd belongs to the
// caller, whose uid/gid stand for the image's root (an owner recorded in
// override_stat is read from there either way).
IdMapping flattened_tree_ids();

// The statistics as a JSON object (the names of UnpackStats' fields).
nlohmann::json unpack_stats_json(const UnpackStats& stats);

} // namespace strata::mount
