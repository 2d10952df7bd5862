// Reads existing images: docker-archive (plain, .gz, .zst), OCI layout dirs and OCI
// archives. Selects one image by name/tag (or takes each in turn) and gives its config
// and layer blobs.
#pragma once
#include "image/image_format.h"
#include "image/sink.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace strata {

struct ImageSelector {
  std::string name; // match a RepoTag's repository (full or last component); empty: any
  std::string tag;  // empty: any
};

class ImageSource {
public:
  virtual ~ImageSource() = default;

  // Opens `path`; InputError (naming it) when it is no image or holds none matching.
  static std::unique_ptr<ImageSource> open(const std::string& path, const ImageSelector& selector = {});
  // Every image `path` holds (each manifest.json entry, each index.json manifest), in its
  // order, sharing one open file; InputError (naming it) as open() gives.
  static std::vector<std::unique_ptr<ImageSource>> open_every(const std::string& path);

  ImageFormat format() const { return format_; }
  const std::string& config_json() const { return config_json_; }
  // diff_id and compression always set; digest/size set when the format records them
  // (OCI), else empty until a copy computes it.
  const std::vector<LayerDescriptor>& layers() const { return layers_; }
  const std::vector<std::string>& repo_tags() const { return repo_tags_; }
  // OCI: the image manifest's bytes as stored (a push keeps them); docker-archive: empty.
  const std::string& manifest_json() const { return manifest_json_; }

  // The image's path, as given to open(): names it in messages.
  const std::string& name() const { return name_; }

  // Streams layer i's stored bytes (exactly as in the source) to out, checking them
  // against its digest and diff_id (image/verified_layer.h): InputError once the last
  // byte is out when they differ, so the caller must not keep what it wrote.
  void copy_layer(size_t i, ByteSink& out) const;

  // What VerifiedLayer found layer i's stored bytes to hash to once they passed both
  // checks; empty until then. A later copy need only see the same bytes again.
  void note_verified(size_t i, const std::string& stored_digest) const;
  std::string verified_digest(size_t i) const;

  // Where layer i's stored bytes are: a byte range of an open file (valid while this
  // source lives). Every format strata reads is file-backed.
  struct BlobLocation {
    int fd = -1;
    uint64_t offset = 0;
    uint64_t size = 0;
  };
  virtual BlobLocation layer_location(size_t i) const = 0;

private:
  mutable std::mutex verified_mutex_;
  mutable std::vector<std::string> verified_;

protected:
  std::string name_;
  ImageFormat format_ = ImageFormat::DockerArchive;
  std::string config_json_;
  std::vector<LayerDescriptor> layers_;
  std::vector<std::string> repo_tags_;
  std::string manifest_json_;
};

// What `inspect` shows of an image, read without staging it anywhere: a compressed
// archive (.tar.gz, .tar.zst) is read in one streaming pass, never decompressed into
// $TMPDIR; the blob digests docker-archive does not record are computed. Every layer's
// digest and size are set.
struct ImageInfo {
  ImageFormat format = ImageFormat::DockerArchive;
  std::string config_json;
  std::vector<LayerDescriptor> layers;
  std::vector<std::string> repo_tags;
};
ImageInfo read_image_info(const std::string& path, const ImageSelector& selector = {});

} // namespace strata
