// Valid image archives around one fuzzed member, so that a target spends its time in one
// parser (manifest.json, index.json, an OCI manifest, a config) instead of in the tar
// and digest checks before it.
#pragma once
#include "fuzz_support.h"
#include "image/archive_writer.h"
#include "image/image_config.h"
#include "image/image_reader.h"
#include "image/json_input.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

namespace strata::fuzz {

// A one-file layer tar.
inline std::string tiny_layer() {
  std::string tar = ustar_header("hello", 3, 0644, '0', 1) + "hi\n";
  tar.resize(512 + 512 + 1024, '\0');
  return tar;
}

inline std::string tiny_config(const std::string& layer) {
  return nlohmann::json{{"architecture", "amd64"},
                        {"os", "linux"},
                        {"config", {{"Cmd", {"/hello"}}}},
                        {"rootfs", {{"type", "layers"}, {"diff_ids", {sha256_digest(layer)}}}}}
      .dump();
}

// The image archive made of `members` (name, data), written to `file`.
inline void write_archive(MemFile& file, const std::vector<std::pair<std::string, std::string>>& members) {
  file.set("");
  ArchiveWriter archive(file.fd(), "fuzz archive", 1);
  for (const auto& [name, data] : members) archive.add_file(name, data);
  archive.finish();
}

inline std::string blob(const std::string& data) { return "blobs/sha256/" + sha256_digest(data).substr(7); }

inline nlohmann::json oci_manifest(const std::string& config, const std::string& layer) {
  return {{"schemaVersion", 2},
          {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
          {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", sha256_digest(config)}, {"size", config.size()}}},
          {"layers", {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", sha256_digest(layer)}, {"size", layer.size()}}}}};
}

inline nlohmann::json oci_index(const std::string& manifest) {
  return {{"schemaVersion", 2},
          {"manifests", {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                          {"digest", sha256_digest(manifest)},
                          {"size", manifest.size()},
                          {"annotations", {{"org.opencontainers.image.ref.name", "fuzz:latest"}}}}}}};
}

// With STRATA_FUZZ_SEED_DIR set (tests/fuzz/make-seeds), writes the valid member a
// target wraps there: the seed that starts its corpus inside the parser.
inline void write_seed(const std::string& name, const std::string& data) {
  if (const char* dir = std::getenv("STRATA_FUZZ_SEED_DIR")) write_file(std::string(dir) + "/" + name, data);
}

// Opens the archive as `build --from-image` and `inspect` do, composing a config on it
// as a build does; bad input ends in an InputError.
inline void read_archive(MemFile& file) {
  expect_input_errors_only([&] {
    auto image = ImageSource::open(file.path());
    NullSink null;
    for (size_t i = 0; i < image->layers().size(); ++i) image->copy_layer(i, null);
    Spec spec;
    spec.name = "fuzz";
    compose_config(parse_json_input(image->config_json(), "config"), spec, "1970-01-01T00:00:01Z",
                   {"sha256:" + std::string(64, 'b')}, "fuzz");
  });
  expect_input_errors_only([&] { read_image_info(file.path()); });
}

} // namespace strata::fuzz
