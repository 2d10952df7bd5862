// Pulling images from a registry (dockerTools.pullImage): a manifest list or OCI index is
// resolved by os/architecture/variant, and every blob and manifest is checked against
// its digest while it streams into the local blob cache (BlobInfo); only then is an
// output written, so nothing appears at it unless everything matched.
#pragma once
#include "image/image_format.h"
#include "image/registry/distribution.h"
#include "image/registry/reference.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace strata::registry {

struct Platform {
  std::string os = "linux";
  std::string architecture; // empty: the host's (Go's names: amd64, arm64, …)
  std::string variant;      // empty: any
};

struct PullEvents {
  std::function<void(const std::string& digest, uint64_t size)> fetch_started;
  std::function<void(uint64_t received)> fetch_progress;
  std::function<void(const std::string& digest, uint64_t size, bool cached)> blob_done;
};

struct PullOptions {
  RegistryOptions registry;
  Platform platform;
  std::string blob_info_dir; // empty: BlobInfo's default
  PullEvents events;
};

struct PulledBlob {
  std::string digest;
  uint64_t size = 0;
  std::string path; // in the blob cache, verified
  bool cached = false; // there before this pull
};

struct PulledImage {
  std::string reference;       // HOST/REPO@DIGEST of the image manifest
  std::string index_digest;    // when the reference named a list/index
  std::string manifest, manifest_media_type, manifest_digest;
  std::string config_json;
  std::vector<LayerDescriptor> layers; // diff_ids from the config
  std::vector<PulledBlob> blobs;       // the layers' blobs, in order
  unsigned retries = 0;
  nlohmann::json to_json() const;
};

// Fetches (or finds in the cache) the manifest, config and layers of one image.
// A blob cache is needed: InputError when BlobInfo has no usable dir.
PulledImage pull_image(const Reference& ref, const PullOptions& options);

// The media type of an image manifest: `announced` (its mediaType, else the
// Content-Type), OCI's when none is; InputError for Docker schema 1 and any other type.
std::string image_manifest_media_type(const nlohmann::json& manifest, const std::string& announced,
                                      const std::string& what);

// What an image manifest (OCI or Docker schema 2) names: its config and layer blobs
// (digest, size, compression; the diff_ids come from the config). InputError when
// malformed.
struct ManifestBlobs {
  std::string config_digest;
  uint64_t config_size = 0;
  std::vector<LayerDescriptor> layers;
};
ManifestBlobs parse_image_manifest(const nlohmann::json& manifest, const std::string& what);

// Picks the manifest of a list/index for a platform; InputError naming the platforms it
// has when none fits. Returns the chosen descriptor's digest.
std::string choose_platform(const nlohmann::json& index, const Platform& platform, const std::string& what);

// The pulled image as an OCI layout in dir (made; blobs hard-linked from the cache where
// they can be, else copied): what `fromImage: "docker://…"` reads as its base.
void lay_out_oci(const PulledImage& image, const std::string& dir, const std::string& ref_name);

} // namespace strata::registry
