// Reads the entries of a layer blob (tar, compressed or not, detected) from a byte range of a
// file, streaming.
#pragma once
#include "image/image_reader.h"

#include <functional>
#include <string>

struct archive;
struct archive_entry;

namespace strata {

// Enables the compressions layers and image archives come in: gzip and zstd (OCI, docker),
// bzip2 and xz (docker load accepts them). Not libarchive's "all": lz4, lrzip and the rest
// are no layer format, and each would be one more library to load.
void support_layer_compressions(archive* a);

// Calls visit for each entry header of layer i of the image (the data is skipped unless
// the visitor reads it from `a`), then checks the layer against its digest and diff_id
// (image/verified_layer.h). A corrupt or forged layer is an InputError naming it.
void read_layer_entries(const ImageSource& image, size_t i,
                        const std::function<void(archive* a, archive_entry* entry)>& visit);

} // namespace strata
