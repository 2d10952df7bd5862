// A cache of store-path layers. Store paths are immutable, so a layer made of the same
// paths with the same options has the same bytes; the cache remembers its digests (and,
// for file outputs, keeps its blob) under a key made of the options and a metadata
// fingerprint of every file (path, inode, size, mtime, ctime, mode), so a changed path is
// never served stale and a hit reads no file content.
#pragma once
#include "image/image_format.h"
#include "image/layer_writer.h"

#include <optional>
#include <string>
#include <vector>

namespace strata {

struct CachedLayer {
  LayerDescriptor descriptor;
  uint64_t uncompressed_size = 0;
  std::string blob_path; // empty when only the digests are known
};

class LayerCache {
public:
  // dir empty: a disabled cache (lookups miss, stores keep nothing). Creates the dir;
  // InputError when it cannot be created or written.
  explicit LayerCache(std::string dir);

  // The cache root (sys/cache_root.h: $XDG_CACHE_HOME/strata, ~/.cache/strata, or
  // $TMPDIR/strata-cache-<uid> when neither is usable); "" when none is.
  static std::string default_dir();

  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }

  // The key of a layer made of these host paths (each mapped at its store path) with the
  // given options. Stats every file; reads none.
  static std::string key(const std::vector<std::string>& host_paths, const std::string& options);

  std::optional<CachedLayer> lookup(const std::string& key) const;
  void remember(const std::string& key, const CachedLayer& layer) const;

  // A sink writing a blob into the cache; commit_blob() names it by its digest.
  class BlobWriter;
  std::unique_ptr<BlobWriter> new_blob() const;

private:
  std::string dir_;
};

class LayerCache::BlobWriter : public ByteSink {
public:
  BlobWriter(const std::string& dir);
  ~BlobWriter() override;
  void write(const void* data, size_t size) override;
  // Moves the blob to blobs/<hex of digest>; returns its path.
  std::string commit(const std::string& digest);

private:
  std::string dir_, temp_;
  int fd_ = -1;
};

} // namespace strata
