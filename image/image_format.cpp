#include "image/image_format.h"

#include "sys/error.h"

namespace strata {

ImageFormat parse_image_format(std::string_view name, std::string_view what) {
  if (name == "docker-archive" || name == "docker") return ImageFormat::DockerArchive;
  if (name == "oci-dir" || name == "oci") return ImageFormat::OciDir;
  if (name == "oci-archive") return ImageFormat::OciArchive;
  if (name == "registry-dir") return ImageFormat::RegistryDir;
  fail_input("{}: unknown image format '{}' (expected docker-archive, oci-dir or oci-archive)", what, name);
}

std::string image_format_name(ImageFormat f) {
  switch (f) {
  case ImageFormat::DockerArchive: return "docker-archive";
  case ImageFormat::OciDir: return "oci-dir";
  case ImageFormat::OciArchive: return "oci-archive";
  case ImageFormat::RegistryDir: return "registry-dir";
  }
  return "";
}

std::string oci_layer_media_type(Compression c) {
  switch (c) {
  case Compression::Gzip: return "application/vnd.oci.image.layer.v1.tar+gzip";
  case Compression::Zstd: return "application/vnd.oci.image.layer.v1.tar+zstd";
  case Compression::None: break;
  }
  return "application/vnd.oci.image.layer.v1.tar";
}

std::string docker_layer_media_type(Compression c) {
  switch (c) {
  case Compression::Gzip: return "application/vnd.docker.image.rootfs.diff.tar.gzip";
  case Compression::Zstd: return "application/vnd.docker.image.rootfs.diff.tar.zstd";
  case Compression::None: break;
  }
  return "application/vnd.docker.image.rootfs.diff.tar";
}

Compression compression_of_media_type(std::string_view t) {
  auto ends_with = [&](std::string_view s) { return t.size() >= s.size() && t.substr(t.size() - s.size()) == s; };
  if (ends_with("+gzip") || ends_with(".tar.gzip")) return Compression::Gzip;
  if (ends_with("+zstd") || ends_with(".tar.zstd")) return Compression::Zstd;
  if (ends_with(".tar") || ends_with("diff.tar")) return Compression::None;
  fail_input("unsupported layer media type '{}'", t);
}

} // namespace strata
