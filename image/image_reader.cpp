#include "image/image_reader.h"

#include "image/layer_reader.h"
#include "image/tar_index.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <archive.h>
#include <fmt/ranges.h>
#include <fcntl.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

using nlohmann::json;

namespace {

json parse_json(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    fail_input("{} is not valid JSON: {}", what, e.what());
  }
}

// Splits "registry/repo:tag" into repo and tag (a ':' after the last '/').
std::pair<std::string, std::string> split_repo_tag(const std::string& ref) {
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    return {ref.substr(0, colon), ref.substr(colon + 1)};
  return {ref, "latest"};
}

bool matches(const std::string& ref, const ImageSelector& s) {
  auto [repo, tag] = split_repo_tag(ref);
  bool name_ok = s.name.empty() || repo == s.name ||
                 (repo.size() > s.name.size() && repo.compare(repo.size() - s.name.size(), s.name.size(), s.name) == 0 &&
                  repo[repo.size() - s.name.size() - 1] == '/');
  return name_ok && (s.tag.empty() || tag == s.tag);
}

std::string describe(const ImageSelector& s) {
  return fmt::format("{}:{}", s.name.empty() ? "*" : s.name, s.tag.empty() ? "*" : s.tag);
}

// Reads the diff_ids out of a config, checking there is one per layer.
std::vector<std::string> config_diff_ids(const json& config, size_t layer_count, const std::string& what) {
  std::vector<std::string> ids;
  try {
    for (const auto& d : config.at("rootfs").at("diff_ids")) ids.push_back(d.get<std::string>());
  } catch (const json::exception&) {
    fail_input("{}: the config has no rootfs.diff_ids", what);
  }
  if (ids.size() != layer_count)
    fail_input("{}: the config lists {} diff_ids for {} layers", what, ids.size(), layer_count);
  for (const auto& id : ids)
    if (!is_sha256_digest(id)) fail_input("{}: bad diff_id '{}'", what, id);
  return ids;
}

// A whole-archive compressed file (.tar.gz, .tar.zst) is decompressed once into an
// unlinked temp file, so members can be read in place.
Fd decompress_to_temp(const std::string& path) {
  int fd = ::open(default_temp_parent().c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) fail_errno(fmt::format("cannot create a temporary file in {}", default_temp_parent()));
  Fd out(fd);
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  support_layer_compressions(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 20) != ARCHIVE_OK)
    fail_input("cannot read {}: {}", path, archive_error_string(a.get()));
  archive_entry* entry;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK)
    fail_input("cannot decompress {}: {}", path, archive_error_string(a.get()));
  std::vector<char> buf(1 << 20);
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
    if (n < 0) fail_input("{} is corrupt: {}", path, archive_error_string(a.get()));
    if (n == 0) break;
    write_all(out.get(), buf.data(), static_cast<size_t>(n), "a temporary file");
  }
  return out;
}

Compression sniff_member(const TarIndex& index, const TarIndex::Member& m) {
  char magic[4] = {};
  ssize_t n = ::pread(index.fd(), magic, sizeof magic, static_cast<off_t>(m.offset));
  return sniff_compression(magic, n > 0 ? static_cast<size_t>(n) : 0);
}

class DockerArchiveSource : public ImageSource {
public:
  DockerArchiveSource(Fd fd, std::unique_ptr<TarIndex> index, const std::string& what, const ImageSelector& sel)
      : fd_(std::move(fd)), index_(std::move(index)) {
    format_ = ImageFormat::DockerArchive;
    json manifest = parse_json(index_->read("manifest.json"), what + ": manifest.json");
    if (!manifest.is_array() || manifest.empty()) fail_input("{}: manifest.json lists no image", what);
    const json* chosen = nullptr;
    std::vector<std::string> available;
    for (const auto& img : manifest) {
      std::vector<std::string> tags;
      if (img.contains("RepoTags") && img["RepoTags"].is_array())
        for (const auto& t : img["RepoTags"])
          if (t.is_string()) tags.push_back(t.get<std::string>());
      available.insert(available.end(), tags.begin(), tags.end());
      bool ok = sel.name.empty() && sel.tag.empty();
      for (const auto& t : tags) ok = ok || matches(t, sel);
      if (ok && !chosen) {
        chosen = &img;
        repo_tags_ = tags;
      }
    }
    if (!chosen)
      fail_input("{} has no image {} (it has: {})", what, describe(sel),
                 available.empty() ? "untagged images only" : fmt::format("{}", fmt::join(available, ", ")));
    try {
      config_json_ = index_->read(chosen->at("Config").get<std::string>());
      for (const auto& l : chosen->at("Layers")) layer_members_.push_back(l.get<std::string>());
    } catch (const json::exception& e) {
      fail_input("{}: malformed manifest.json: {}", what, e.what());
    }
    json config = parse_json(config_json_, what + ": config");
    auto diff_ids = config_diff_ids(config, layer_members_.size(), what);
    for (size_t i = 0; i < layer_members_.size(); ++i) {
      const TarIndex::Member* m = index_->find(layer_members_[i]);
      if (!m) fail_input("{}: layer {} is missing from the archive", what, layer_members_[i]);
      LayerDescriptor d;
      d.diff_id = diff_ids[i];
      d.compression = sniff_member(*index_, *m);
      d.size = m->size;
      if (d.compression == Compression::None) d.digest = d.diff_id;
      layers_.push_back(d);
    }
  }

  void copy_layer(size_t i, ByteSink& out) const override { index_->copy(layer_members_.at(i), out); }
  BlobLocation layer_location(size_t i) const override {
    const TarIndex::Member* m = index_->find(layer_members_.at(i));
    return {index_->fd(), m->offset, m->size};
  }

private:
  Fd fd_;
  std::unique_ptr<TarIndex> index_;
  std::vector<std::string> layer_members_;
};

// Blob storage of an OCI layout: a directory, or the members of an archive.
class OciBlobs {
public:
  virtual ~OciBlobs() = default;
  virtual std::string read(const std::string& name) const = 0;
  virtual void copy(const std::string& name, ByteSink& out) const = 0;
  virtual bool exists(const std::string& name) const = 0;
  virtual ImageSource::BlobLocation location(const std::string& name) const = 0;
};

class OciDirBlobs : public OciBlobs {
public:
  explicit OciDirBlobs(std::string dir) : dir_(std::move(dir)) {}
  std::string read(const std::string& name) const override { return read_file(dir_ + "/" + name); }
  bool exists(const std::string& name) const override { return path_exists(dir_ + "/" + name); }
  ImageSource::BlobLocation location(const std::string& name) const override {
    auto it = open_blobs_.find(name);
    if (it == open_blobs_.end()) it = open_blobs_.emplace(name, open_or_fail(dir_ + "/" + name, O_RDONLY)).first;
    struct stat st;
    if (::fstat(it->second.get(), &st) < 0) fail_errno(fmt::format("cannot stat {}/{}", dir_, name));
    return {it->second.get(), 0, static_cast<uint64_t>(st.st_size)};
  }
  void copy(const std::string& name, ByteSink& out) const override {
    Fd fd = open_or_fail(dir_ + "/" + name, O_RDONLY);
    std::vector<char> buf(1 << 20);
    for (;;) {
      size_t n = read_full(fd.get(), buf.data(), buf.size(), name);
      if (n) out.write(buf.data(), n);
      if (n < buf.size()) break;
    }
  }

private:
  std::string dir_;
  mutable std::map<std::string, Fd> open_blobs_;
};

class OciArchiveBlobs : public OciBlobs {
public:
  OciArchiveBlobs(Fd fd, std::unique_ptr<TarIndex> index) : fd_(std::move(fd)), index_(std::move(index)) {}
  std::string read(const std::string& name) const override { return index_->read(name); }
  bool exists(const std::string& name) const override { return index_->find(name) != nullptr; }
  void copy(const std::string& name, ByteSink& out) const override { index_->copy(name, out); }
  ImageSource::BlobLocation location(const std::string& name) const override {
    const TarIndex::Member* m = index_->find(name);
    if (!m) fail_input("missing blob {}", name);
    return {index_->fd(), m->offset, m->size};
  }

private:
  Fd fd_;
  std::unique_ptr<TarIndex> index_;
};

class OciSource : public ImageSource {
public:
  OciSource(ImageFormat format, std::unique_ptr<OciBlobs> blobs, const std::string& what, const ImageSelector& sel)
      : blobs_(std::move(blobs)), what_(what) {
    format_ = format;
    json index = parse_json(blobs_->read("index.json"), what + ": index.json");
    std::vector<std::string> available;
    const json* chosen = find_manifest(index, sel, available);
    if (!chosen)
      fail_input("{} has no image {} (it has: {})", what, describe(sel),
                 available.empty() ? "no named images" : fmt::format("{}", fmt::join(available, ", ")));
    manifest_json_ = read_blob(chosen->at("digest").get<std::string>());
    json manifest = parse_json(manifest_json_, what + ": manifest");
    try {
      config_json_ = read_blob(manifest.at("config").at("digest").get<std::string>());
      for (const auto& l : manifest.at("layers")) {
        LayerDescriptor d;
        d.digest = l.at("digest").get<std::string>();
        d.size = l.at("size").get<uint64_t>();
        d.compression = compression_of_media_type(l.at("mediaType").get<std::string>());
        layers_.push_back(d);
      }
    } catch (const json::exception& e) {
      fail_input("{}: malformed manifest: {}", what, e.what());
    }
    auto diff_ids = config_diff_ids(parse_json(config_json_, what + ": config"), layers_.size(), what);
    for (size_t i = 0; i < layers_.size(); ++i) {
      layers_[i].diff_id = diff_ids[i];
      if (!blobs_->exists(blob_name(layers_[i].digest))) fail_input("{}: layer blob {} is missing", what, layers_[i].digest);
    }
  }

  void copy_layer(size_t i, ByteSink& out) const override { blobs_->copy(blob_name(layers_.at(i).digest), out); }
  BlobLocation layer_location(size_t i) const override { return blobs_->location(blob_name(layers_.at(i).digest)); }

private:
  std::string blob_name(const std::string& digest) const {
    if (!is_sha256_digest(digest)) fail_input("{}: unsupported digest '{}'", what_, digest);
    return "blobs/sha256/" + digest.substr(7);
  }
  std::string read_blob(const std::string& digest) const {
    std::string data = blobs_->read(blob_name(digest));
    if (sha256_digest(data) != digest) fail_input("{}: blob {} does not match its digest", what_, digest);
    return data;
  }

  // A manifest's names: the ref.name annotation (a bare tag, or "name:tag") and
  // containerd's full image name.
  const json* find_manifest(const json& index, const ImageSelector& sel, std::vector<std::string>& available) {
    if (!index.contains("manifests") || !index["manifests"].is_array()) fail_input("{}: index.json lists no manifests", what_);
    for (const auto& m : index["manifests"]) {
      std::string ref_name, full_name;
      if (m.contains("annotations") && m["annotations"].is_object()) {
        ref_name = m["annotations"].value("org.opencontainers.image.ref.name", "");
        full_name = m["annotations"].value("io.containerd.image.name", "");
      }
      if (full_name.empty() && ref_name.find_first_of(":/") != std::string::npos) full_name = ref_name;
      std::string tag = full_name.empty() ? ref_name : split_repo_tag(full_name).second;
      if (!ref_name.empty() || !full_name.empty()) available.push_back(full_name.empty() ? ref_name : full_name);
      bool tag_ok = sel.tag.empty() || sel.tag == tag || sel.tag == ref_name;
      bool name_ok = sel.name.empty() || (!full_name.empty() && matches(full_name, {sel.name, ""}));
      if (tag_ok && name_ok) {
        if (!full_name.empty()) repo_tags_ = {full_name};
        return &m;
      }
    }
    return nullptr;
  }

  std::unique_ptr<OciBlobs> blobs_;
  std::string what_;
};

} // namespace

std::unique_ptr<ImageSource> ImageSource::open(const std::string& path, const ImageSelector& selector) {
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) fail_input("image {} does not exist", path);
  if (S_ISDIR(st.st_mode)) {
    if (!path_exists(path + "/oci-layout") || !path_exists(path + "/index.json"))
      fail_input("{} is a directory but not an OCI layout (no oci-layout or index.json)", path);
    return std::make_unique<OciSource>(ImageFormat::OciDir, std::make_unique<OciDirBlobs>(path), path, selector);
  }
  Fd fd = open_or_fail(path, O_RDONLY);
  char magic[4] = {};
  ssize_t n = ::pread(fd.get(), magic, sizeof magic, 0);
  if (n <= 0) fail_input("image {} is empty", path);
  if (sniff_compression(magic, static_cast<size_t>(n)) != Compression::None) fd = decompress_to_temp(path);
  auto index = std::make_unique<TarIndex>(fd.get(), path);
  if (index->find("oci-layout") && index->find("index.json"))
    return std::make_unique<OciSource>(ImageFormat::OciArchive,
                                       std::make_unique<OciArchiveBlobs>(std::move(fd), std::move(index)), path, selector);
  if (!index->find("manifest.json")) fail_input("{} is neither a docker-archive nor an OCI archive", path);
  return std::make_unique<DockerArchiveSource>(std::move(fd), std::move(index), path, selector);
}

} // namespace strata
