// The one image writer: docker-archive, oci-dir or oci-archive. Layer blobs are streamed
// in (new layers from the layer writer, base layers copied byte for byte); the config,
// manifests and index are written by commit(), which makes the output appear at its
// path complete or not at all.
#pragma once
#include "image/image_format.h"
#include "image/sink.h"

#include <memory>
#include <string>
#include <vector>

namespace strata {

struct ImageNaming {
  std::string name; // e.g. "hello"
  std::string tag;  // e.g. "latest"
};

// One image of an archive holding several: its config, its layers in order (each given to
// end_layer() before) and its RepoTags ("name:tag"; none: loaded untagged).
struct ArchivedImage {
  std::string config_json;
  std::vector<LayerDescriptor> layers;
  std::vector<std::string> repo_tags;
};

class ImageWriter {
public:
  virtual ~ImageWriter() = default;

  // Opens a sink for the next layer's stored bytes; end_layer() closes it.
  virtual ByteSink& begin_layer() = 0;
  // The layer just streamed. A blob already in the image is stored once, listed twice.
  virtual void end_layer(const LayerDescriptor& layer) = 0;

  // A destination that already holds this blob (a registry that has it or can mount it)
  // answers true: the caller then gives end_layer() without begin_layer() and no bytes.
  virtual bool has_layer(const LayerDescriptor&) { return false; }
  // The layers the caller will ask has_layer() about, told in advance (a registry asks
  // for them all at once).
  virtual void expect_layers(const std::vector<LayerDescriptor>&) {}

  // Writers that cannot seek back (a stream) need a layer's digest and size before its
  // bytes: they are given here, and end_layer() then checks them.
  virtual bool needs_known_layers() const { return false; }
  virtual ByteSink& begin_known_layer(const LayerDescriptor&) { return begin_layer(); }

  // Writes config and manifests and moves the result to the output path.
  virtual void commit(const std::string& config_json, const ImageNaming& naming) = 0;
  // Instead of commit(): several images in one docker-archive (dockerTools.mergeImages),
  // listed in manifest.json in this order. Other writers refuse it (WorkError).
  virtual void commit_images(const std::vector<ArchivedImage>& images);

  const std::vector<LayerDescriptor>& layers() const { return layers_; }

protected:
  std::vector<LayerDescriptor> layers_;
};

// output "-" writes an archive format to stdout. mtime is used for the archive's
// own members (not the layers').
std::unique_ptr<ImageWriter> make_image_writer(ImageFormat format, const std::string& output, int64_t mtime);

// A docker-archive written straight to fd (a pipe, stdout) as it is produced: layers
// first (their digests known in advance), then config and manifest.json.
std::unique_ptr<ImageWriter> make_docker_stream_writer(int fd, int64_t mtime);

// Docker schema 2 manifest for a config and layers, as a registry serves it.
std::string docker_manifest_json(const std::string& config_json, const std::vector<LayerDescriptor>& layers);

// The manifest (OCI) for a config and layers, as written into OCI outputs.
std::string oci_manifest_json(const std::string& config_json, const std::vector<LayerDescriptor>& layers);

} // namespace strata
