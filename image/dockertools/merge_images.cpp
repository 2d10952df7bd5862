#include "image/dockertools/merge_images.h"

#include "image/digest.h"
#include "image/image_reader.h"
#include "sys/error.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace strata {

namespace {

bool same_layers(const std::vector<LayerDescriptor>& a, const std::vector<LayerDescriptor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].digest != b[i].digest) return false;
  return true;
}

} // namespace

std::vector<ArchivedImage> plan_merged_manifest(const std::vector<MergeInput>& images,
                                                const std::function<void(const std::string&)>& warn) {
  // the image (index into `images`) each tag ends with: the last carrying it
  std::map<std::string, size_t> owner;
  for (size_t i = 0; i < images.size(); ++i)
    for (const std::string& tag : images[i].image.repo_tags) {
      auto [it, fresh] = owner.try_emplace(tag, i);
      if (fresh || it->second == i) continue;
      if (warn)
        warn(fmt::format("tag {} is on an image of {} and on one of {}: the later ({}) keeps it", tag,
                         images[it->second].input, images[i].input, images[i].input));
      it->second = i;
    }

  std::vector<ArchivedImage> entries;
  std::vector<size_t> entry_of(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    const ArchivedImage& image = images[i].image;
    size_t e = 0;
    while (e < entries.size() &&
           !(entries[e].config_json == image.config_json && same_layers(entries[e].layers, image.layers)))
      ++e;
    if (e == entries.size()) entries.push_back({image.config_json, image.layers, {}});
    entry_of[i] = e;
  }
  for (size_t i = 0; i < images.size(); ++i) {
    std::vector<std::string>& tags = entries[entry_of[i]].repo_tags;
    for (const std::string& tag : images[i].image.repo_tags) {
      if (entry_of[owner.at(tag)] != entry_of[i]) continue; // a later image took it
      if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
    }
  }
  if (warn)
    for (size_t e = 0; e < entries.size(); ++e)
      if (entries[e].repo_tags.empty()) {
        size_t first = 0;
        while (entry_of[first] != e) ++first;
        warn(fmt::format("an image of {} ({}) has no tag left: it loads untagged", images[first].input,
                         sha256_digest(entries[e].config_json)));
      }
  return entries;
}

MergeReport merge_images(const std::vector<std::string>& inputs, ImageWriter& writer, const MergeEvents& events) {
  if (inputs.empty()) fail_input("merge: no images given");
  MergeReport report;
  std::vector<MergeInput> merged;
  std::map<std::string, std::string> stored; // blob digest -> its diff_id
  for (const std::string& input : inputs) {
    if (events.step) events.step(fmt::format("reading {}", input));
    for (const auto& source : ImageSource::open_every(input)) {
      MergeInput m{{source->config_json(), {}, source->repo_tags()}, input};
      for (size_t i = 0; i < source->layers().size(); ++i) {
        LayerDescriptor d = source->layers()[i];
        ++report.layers_listed;
        auto known = d.digest.empty() ? stored.end() : stored.find(d.digest);
        if (known == stored.end()) {
          DigestingSink digesting(writer.begin_layer());
          source->copy_layer(i, digesting);
          d.digest = digesting.digest();
          d.size = digesting.size();
          writer.end_layer(d);
          known = stored.try_emplace(d.digest, d.diff_id).first;
        }
        // a blob stored once must be the layer every image that lists it says it is
        if (known->second != d.diff_id)
          fail_input("{}: layer {} ({}) is listed with diff_id {} by an earlier image, {} here", input, i + 1,
                     d.digest, known->second, d.diff_id);
        m.image.layers.push_back(d);
      }
      merged.push_back(std::move(m));
    }
  }
  report.layers_stored = stored.size();
  report.images = plan_merged_manifest(merged, events.warn);
  if (events.step) events.step("writing manifest.json");
  writer.commit_images(report.images);
  return report;
}

} // namespace strata
