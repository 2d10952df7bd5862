// What strata remembers between runs about registries, as skopeo's blob-info cache
// does, under $XDG_CACHE_HOME/strata/registry (else ~/.cache/strata/registry):
//   - which repositories of a registry a blob was pushed to or pulled from, so a push to
//     another repository mounts it instead of sending it;
//   - the gzip digest strata's compressor gives an uncompressed layer, so pushing a
//     docker-archive again asks the registry before compressing anything;
//   - the blobs pulled (blobs/sha256/<hex>, each checked against its digest before it is
//     kept), so a second pull or a build from the same base fetches nothing.
// A record that cannot be written is skipped: it only saves work.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strata::registry {

class BlobInfo {
public:
  // dir empty: the default; a dir that cannot be made disables the record.
  explicit BlobInfo(std::string dir = "");

  static std::string default_dir();
  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }

  std::vector<std::string> repositories_with(const std::string& registry, const std::string& digest) const;
  void remember_location(const std::string& registry, const std::string& repo, const std::string& digest) const;

  struct Compressed {
    std::string digest;
    uint64_t size = 0;
  };
  std::optional<Compressed> compressed(const std::string& diff_id, const std::string& compression) const;
  void remember_compressed(const std::string& diff_id, const std::string& compression, const Compressed& c) const;

  // The cached blob's path, when it is there with this size (0: any size).
  std::optional<std::string> cached_blob(const std::string& digest, uint64_t size = 0) const;
  // Where a blob being fetched is written before it is checked and renamed: blobs/sha256/.
  std::string blob_dir() const;

private:
  std::string dir_;
};

} // namespace strata::registry
