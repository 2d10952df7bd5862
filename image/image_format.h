// Image formats, media types and the descriptors readers and writers exchange.
#pragma once
#include "image/compress.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace strata {

// RegistryDir: what a registry serves (Nixery's build-image.nix output): blobs, a Docker
// schema 2 manifest and a layer map, in a directory.
enum class ImageFormat { DockerArchive, OciDir, OciArchive, RegistryDir };

ImageFormat parse_image_format(std::string_view name, std::string_view what);
std::string image_format_name(ImageFormat f);

struct LayerDescriptor {
  std::string digest;  // of the stored blob
  uint64_t size = 0;   // of the stored blob
  std::string diff_id; // of the uncompressed tar
  Compression compression = Compression::None;
};

namespace media_type {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
} // namespace media_type

std::string oci_layer_media_type(Compression c);
std::string docker_layer_media_type(Compression c);
// Compression named by a layer media type (OCI or Docker); InputError if unknown.
Compression compression_of_media_type(std::string_view media_type);

} // namespace strata
