// Reads the entries of a layer blob (tar, gzip or zstd detected) from a byte range of a
// file, streaming.
#pragma once
#include "image/image_reader.h"

#include <functional>
#include <string>

struct archive;
struct archive_entry;

namespace strata {

// Calls visit for each entry header (the data is skipped unless the visitor reads it
// from `a`). `what` names the layer in errors; a corrupt layer is an InputError.
void read_layer_entries(const ImageSource::BlobLocation& blob, const std::string& what,
                        const std::function<void(archive* a, archive_entry* entry)>& visit);

} // namespace strata
