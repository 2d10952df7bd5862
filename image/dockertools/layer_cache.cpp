#include "image/dockertools/layer_cache.h"

#include "sys/cache_root.h"
#include "sys/error.h"
#include "sys/files.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <ftw.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

using nlohmann::json;

namespace {

constexpr const char* kFormatVersion = "strata-layer-cache-1";

// Everything nftw reports, in a stable order: the walk order is the directory's, so the
// lines are sorted before hashing.
thread_local std::vector<std::string>* fingerprint_lines = nullptr;
thread_local size_t fingerprint_prefix = 0;

int fingerprint_entry(const char* path, const struct stat* st, int, struct FTW*) {
  fingerprint_lines->push_back(fmt::format("{}\t{}\t{}\t{}\t{}.{}\t{}.{}\t{}", std::string(path).substr(fingerprint_prefix),
                                           st->st_ino, st->st_dev, st->st_size, st->st_mtim.tv_sec,
                                           st->st_mtim.tv_nsec, st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
                                           st->st_mode));
  return 0;
}

} // namespace

LayerCache::LayerCache(std::string dir) : dir_(std::move(dir)) {
  if (dir_.empty()) return;
  // Checked before any output is written: a cache that fails later would leave a stream cut short.
  try {
    make_dirs(dir_ + "/layers", 0700);
    make_dirs(dir_ + "/blobs", 0700);
  } catch (const Error& e) {
    fail_input("layer cache {} cannot be used: {}", dir_, e.what());
  }
  for (const char* sub : {"/layers", "/blobs"})
    if (::access((dir_ + sub).c_str(), W_OK) != 0) fail_input("layer cache {}{} is not writable", dir_, sub);
}

std::string LayerCache::default_dir() {
  try {
    return cache_root().dir;
  } catch (const Error&) {
    return "";
  }
}

std::string LayerCache::key(const std::vector<std::string>& host_paths, const std::string& options) {
  Hasher h;
  h.update(kFormatVersion);
  h.update("\n");
  h.update(options);
  for (const auto& path : host_paths) {
    std::vector<std::string> lines;
    fingerprint_lines = &lines;
    fingerprint_prefix = path.size();
    if (::nftw(path.c_str(), fingerprint_entry, 32, FTW_PHYS) < 0) fail_errno(fmt::format("cannot read {}", path));
    fingerprint_lines = nullptr;
    std::sort(lines.begin(), lines.end());
    h.update("\npath " + path + "\n");
    for (const auto& l : lines) {
      h.update(l);
      h.update("\n");
    }
  }
  return h.finish_hex();
}

std::optional<CachedLayer> LayerCache::lookup(const std::string& key) const {
  if (!enabled()) return std::nullopt;
  std::string path = dir_ + "/layers/" + key + ".json";
  if (!path_exists(path)) return std::nullopt;
  try {
    json j = json::parse(read_file(path));
    CachedLayer c;
    c.descriptor.digest = j.at("digest");
    c.descriptor.diff_id = j.at("diff_id");
    c.descriptor.size = j.at("size");
    c.descriptor.compression = parse_compression(j.at("compression").get<std::string>(), "layer cache");
    c.uncompressed_size = j.at("uncompressed_size");
    std::string blob = dir_ + "/blobs/" + digest_hex(c.descriptor.digest);
    struct stat st;
    if (::stat(blob.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == c.descriptor.size) c.blob_path = blob;
    return c;
  } catch (const std::exception&) {
    return std::nullopt; // a damaged entry is a miss
  }
}

void LayerCache::remember(const std::string& key, const CachedLayer& layer) const {
  if (!enabled()) return;
  json j{{"digest", layer.descriptor.digest},
         {"diff_id", layer.descriptor.diff_id},
         {"size", layer.descriptor.size},
         {"compression", compression_name(layer.descriptor.compression)},
         {"uncompressed_size", layer.uncompressed_size}};
  std::string path = dir_ + "/layers/" + key + ".json";
  std::string temp = path + fmt::format(".tmp{}", ::getpid());
  write_file(temp, j.dump());
  if (::rename(temp.c_str(), path.c_str()) < 0) fail_errno(fmt::format("cannot write {}", path));
}

std::unique_ptr<LayerCache::BlobWriter> LayerCache::new_blob() const {
  if (!enabled()) return nullptr;
  return std::make_unique<BlobWriter>(dir_ + "/blobs");
}

LayerCache::BlobWriter::BlobWriter(const std::string& dir) : dir_(dir) {
  temp_ = dir_ + "/.incoming.XXXXXX";
  fd_ = ::mkostemp(temp_.data(), O_CLOEXEC);
  if (fd_ < 0) fail_errno(fmt::format("cannot create a blob in {}", dir_));
}

LayerCache::BlobWriter::~BlobWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

void LayerCache::BlobWriter::write(const void* data, size_t size) { write_all(fd_, data, size, temp_); }

std::string LayerCache::BlobWriter::commit(const std::string& digest) {
  ::close(fd_);
  fd_ = -1;
  std::string path = dir_ + "/" + digest_hex(digest);
  if (::rename(temp_.c_str(), path.c_str()) < 0) fail_errno(fmt::format("cannot store {}", path));
  temp_.clear();
  return path;
}

} // namespace strata
