// Pushing images to a registry: only the blobs the repository lacks are sent. Each blob
// is first asked for (HEAD), then mounted from another repository of the registry that
// has it (--mount-from, or one the local blob-info record names), and only then
// uploaded. The manifest goes last, so a failed push never leaves a tag pointing at
// missing blobs.
#pragma once
#include "image/image_reader.h"
#include "image/image_writer.h"
#include "image/registry/blob_info.h"
#include "image/registry/distribution.h"
#include "image/registry/reference.h"

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace strata::registry {

enum class BlobOutcome { Uploaded, Mounted, Present };
std::string outcome_name(BlobOutcome o); // "uploaded", "mounted", "present"

struct PushedBlob {
  std::string digest;
  uint64_t size = 0;
  std::string kind; // "layer" or "config"
  BlobOutcome outcome = BlobOutcome::Present;
  std::string mounted_from;
  uint64_t bytes_sent = 0;
};

struct PushReport {
  std::string reference; // HOST/REPO:TAG
  std::string manifest_digest, manifest_media_type;
  std::vector<PushedBlob> blobs;
  uint64_t bytes_sent = 0; // blob bytes uploaded
  unsigned retries = 0;
  nlohmann::json to_json() const;
};

struct PushEvents {
  std::function<void(const std::string& digest, uint64_t size)> upload_started;
  std::function<void(uint64_t sent)> upload_progress;
  std::function<void(const PushedBlob&)> blob_done;
};

struct PushOptions {
  RegistryOptions registry;
  std::vector<std::string> mount_from; // repositories of the same registry to mount from
  std::string blob_info_dir;           // empty: BlobInfo's default
  PushEvents events;
};

// One push to one reference.
class RegistryPush {
public:
  RegistryPush(Reference target, PushOptions options);

  const Reference& target() const { return target_; }
  BlobInfo& blob_info() { return info_; }

  // Asks the registry about many blobs at once; those it has are recorded as present, so
  // reuse() and push() of them send nothing more.
  void check_present(const std::vector<LayerDescriptor>& blobs, const std::string& kind);
  // Makes the repository hold the blob without sending its bytes (it has it, or a mount
  // worked); nullopt when it must be uploaded.
  std::optional<PushedBlob> reuse(const std::string& digest, uint64_t size, const std::string& kind);
  // Makes the repository hold the blob, uploading body when it must.
  PushedBlob push(const std::string& digest, const RequestBody& body, const std::string& kind);
  // The manifest, last: to the target's tag (or digest), else to fallback_tag.
  void finish(const std::string& manifest, const std::string& media_type, const std::string& fallback_tag);

  const PushReport& report() const { return report_; }

private:
  PushedBlob done(PushedBlob blob);

  Reference target_;
  PushOptions options_;
  RegistryClient client_;
  BlobInfo info_;
  PushReport report_;
};

// `strata push IMAGE docker://…`: IMAGE is a docker-archive, an OCI dir or archive, or a
// registry dir (`strata manifest`). Uncompressed docker-archive layers are gzip-compressed
// on the way by strata's deterministic compressor; OCI and registry dirs keep their
// manifest bytes and media types.
void push_image(const std::string& image, const ImageSelector& selector, RegistryPush& push);

// `-o docker://…`: an image writer that sends each layer as it is made (a layer the
// registry already has is neither read nor sent: has_layer()). oci: an OCI manifest,
// else Docker schema 2 (OCI anyway when a layer is zstd).
std::unique_ptr<ImageWriter> make_registry_writer(RegistryPush& push, bool oci);

} // namespace strata::registry
