// dockerTools.mergeImages (`strata merge`): the images of several inputs in one
// docker-archive. Every image each input holds is listed with its RepoTags; a layer blob
// several images share is stored once; layer bytes are copied as stored (owners, modes
// and compression untouched), each checked against its digest and diff_id on the way.
#pragma once
#include "image/image_writer.h"

#include <functional>
#include <string>
#include <vector>

namespace strata {

// An image read for the merge, and the input it came from (names it in messages).
struct MergeInput {
  ArchivedImage image;
  std::string input;
};

// manifest.json's entries for `images` in input order. A tag several images carry stays
// with the last of them (dockerTools lists each and `docker load` tags them in order, so
// the last wins there too); the earlier ones lose it, and `warn` is told. An image that
// comes again (same config, same layers) is listed once, with the tags of every copy.
std::vector<ArchivedImage> plan_merged_manifest(const std::vector<MergeInput>& images,
                                                const std::function<void(const std::string&)>& warn);

struct MergeEvents {
  std::function<void(const std::string&)> step; // what is being done
  std::function<void(const std::string&)> warn; // a tag moved, an image left untagged
};

struct MergeReport {
  std::vector<ArchivedImage> images; // as manifest.json lists them
  size_t layers_listed = 0;          // over every image
  size_t layers_stored = 0;          // distinct blobs written
};

// Reads `inputs` (anything ImageSource reads: docker-archive plain, .gz or .zst, OCI
// layout or archive), one after the other, and writes them into `writer` (a
// docker-archive), committing it. InputError naming the input for a bad one; nothing is
// committed then.
MergeReport merge_images(const std::vector<std::string>& inputs, ImageWriter& writer, const MergeEvents& events);

} // namespace strata
