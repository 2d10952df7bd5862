#include "image/image_reader.h"

#include "image/archive_error.h"
#include "image/reference.h"
#include "image/image_members.h"
#include "image/json_input.h"
#include "image/layer_reader.h"
#include "image/streamed_archive.h"
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

// The fields of an input's config that strata reads (merge, builds over it) must have the
// image spec's types: a date-time string `created`, a `config` object and a `history`
// list (null as if absent) of objects with a string `created` and a bool `empty_layer`.
void check_config_types(const json& config, const std::string& what) {
  if (!config.is_object()) fail_input("{}: the config is not a JSON object", what);
  auto is = [&](const json& object, const char* key, bool (json::*type)() const noexcept) {
    auto it = object.find(key);
    return it == object.end() || ((*it).*type)() || (type != &json::is_string && it->is_null());
  };
  if (!is(config, "created", &json::is_string)) fail_input("{}: the config's 'created' is not a string", what);
  if (!is(config, "config", &json::is_object)) fail_input("{}: the config's 'config' is not an object", what);
  if (!is(config, "history", &json::is_array)) fail_input("{}: the config's 'history' is not a list", what);
  if (auto history = config.find("history"); history != config.end())
    for (const json& h : *history)
      if (!h.is_object() || !is(h, "created", &json::is_string) || !is(h, "empty_layer", &json::is_boolean))
        fail_input("{}: a 'history' entry of the config is not an object with a string 'created' and a bool "
                   "'empty_layer': {:.100}",
                   what, h.dump());
}

// Reads the diff_ids out of a config (its types checked first), one per layer.
std::vector<std::string> config_diff_ids(const json& config, size_t layer_count, const std::string& what) {
  check_config_types(config, what);
  std::vector<std::string> ids;
  const json* diff_ids = nullptr;
  if (config.is_object() && config.contains("rootfs") && config["rootfs"].is_object() &&
      config["rootfs"].contains("diff_ids"))
    diff_ids = &config["rootfs"]["diff_ids"];
  if (!diff_ids || !diff_ids->is_array()) fail_input("{}: the config has no rootfs.diff_ids", what);
  for (const auto& d : *diff_ids) {
    if (!d.is_string() || !is_sha256_digest(d.get_ref<const std::string&>()))
      fail_input("{}: bad diff_id {:.100}", what, d.dump());
    ids.push_back(d.get<std::string>());
  }
  if (ids.size() != layer_count)
    fail_input("{}: the config lists {} diff_ids for {} layers", what, ids.size(), layer_count);
  return ids;
}

std::string string_member(const json& object, const char* key, const std::string& what) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string())
    fail_input("{}: '{}' is missing or not a string", what, key);
  return object[key].get<std::string>();
}

// What a format's metadata says about the image: its config and where its layers are.
struct ParsedImage {
  ImageFormat format = ImageFormat::DockerArchive;
  std::string config_json;
  std::vector<LayerDescriptor> layers;
  std::vector<std::string> layer_members; // the member holding each layer's blob
  std::vector<std::string> repo_tags;
  std::string manifest_json; // OCI: the image manifest as stored
};

// RepoTags of a manifest.json entry (the strings among them).
std::vector<std::string> entry_repo_tags(const json& entry) {
  std::vector<std::string> tags;
  if (entry.is_object() && entry.contains("RepoTags") && entry["RepoTags"].is_array())
    for (const auto& t : entry["RepoTags"])
      if (t.is_string()) tags.push_back(t.get<std::string>());
  return tags;
}

// The image of a manifest.json entry.
ParsedImage parse_docker_entry(const ImageMembers& members, const std::string& what, const json& entry,
                               std::vector<std::string> repo_tags) {
  ParsedImage image;
  image.format = ImageFormat::DockerArchive;
  image.repo_tags = std::move(repo_tags);
  std::string manifest_what = what + ": manifest.json";
  image.config_json = members.read(string_member(entry, "Config", manifest_what));
  if (!entry.contains("Layers") || !entry["Layers"].is_array())
    fail_input("{}: 'Layers' is missing or not a list", manifest_what);
  for (const auto& l : entry["Layers"]) {
    if (!l.is_string()) fail_input("{}: 'Layers' holds a non-string {:.100}", manifest_what, l.dump());
    image.layer_members.push_back(l.get<std::string>());
  }
  json config = parse_json_input(image.config_json, what + ": config");
  auto diff_ids = config_diff_ids(config, image.layer_members.size(), what);
  for (size_t i = 0; i < image.layer_members.size(); ++i) {
    auto facts = members.facts(image.layer_members[i]);
    if (!facts) fail_input("{}: layer {} is missing from the archive", what, image.layer_members[i]);
    LayerDescriptor d;
    d.diff_id = diff_ids[i];
    d.compression = facts->compression;
    d.size = facts->size;
    d.digest = !facts->digest.empty() ? facts->digest : d.compression == Compression::None ? d.diff_id : "";
    image.layers.push_back(d);
  }
  return image;
}

// The manifest.json entries of a docker-archive.
json docker_manifest(const ImageMembers& members, const std::string& what) {
  json manifest = parse_json_input(members.read("manifest.json"), what + ": manifest.json");
  if (!manifest.is_array() || manifest.empty()) fail_input("{}: manifest.json lists no image", what);
  return manifest;
}

ParsedImage parse_docker_archive(const ImageMembers& members, const std::string& what, const ImageSelector& sel) {
  json manifest = docker_manifest(members, what);
  std::vector<std::string> repo_tags;
  const json* chosen = nullptr;
  std::vector<std::string> available;
  for (const auto& img : manifest) {
    std::vector<std::string> tags = entry_repo_tags(img);
    available.insert(available.end(), tags.begin(), tags.end());
    bool ok = sel.name.empty() && sel.tag.empty();
    for (const auto& t : tags) ok = ok || matches(t, sel);
    if (ok && !chosen) {
      chosen = &img;
      repo_tags = tags;
    }
  }
  if (!chosen)
    fail_input("{} has no image {} (it has: {})", what, describe(sel),
               available.empty() ? "untagged images only" : fmt::format("{}", fmt::join(available, ", ")));
  return parse_docker_entry(members, what, *chosen, std::move(repo_tags));
}

std::string oci_blob_name(const std::string& digest, const std::string& what) {
  if (!is_sha256_digest(digest)) fail_input("{}: unsupported digest '{:.100}'", what, digest);
  return "blobs/sha256/" + digest.substr(7);
}

std::string read_oci_blob(const ImageMembers& members, const std::string& digest, const std::string& what) {
  std::string data = members.read(oci_blob_name(digest, what));
  if (sha256_digest(data) != digest) fail_input("{}: blob {} does not match its digest", what, digest);
  return data;
}

// A manifest's names: the ref.name annotation (a bare tag, or "name:tag") and
// containerd's full image name (empty when it has none).
struct OciNames {
  std::string ref_name, full_name;
};

OciNames oci_names(const json& m) {
  OciNames names;
  if (m.is_object() && m.contains("annotations") && m["annotations"].is_object()) {
    const json& annotations = m["annotations"];
    auto text = [&](const char* key) {
      auto it = annotations.find(key);
      return it != annotations.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    names.ref_name = text("org.opencontainers.image.ref.name");
    names.full_name = text("io.containerd.image.name");
  }
  if (names.full_name.empty() && names.ref_name.find_first_of(":/") != std::string::npos)
    names.full_name = names.ref_name;
  return names;
}

std::vector<std::string> oci_repo_tags(const OciNames& names) {
  if (names.full_name.empty()) return {};
  return {names.full_name};
}

const json& oci_manifests(const json& index, const std::string& what) {
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array())
    fail_input("{}: index.json lists no manifests", what);
  return index["manifests"];
}

const json* find_oci_manifest(const json& index, const ImageSelector& sel, const std::string& what,
                              std::vector<std::string>& available) {
  for (const auto& m : oci_manifests(index, what)) {
    auto [ref_name, full_name] = oci_names(m);
    std::string tag = full_name.empty() ? ref_name : split_repo_tag(full_name).second;
    if (!ref_name.empty() || !full_name.empty()) available.push_back(full_name.empty() ? ref_name : full_name);
    bool tag_ok = sel.tag.empty() || sel.tag == tag || sel.tag == ref_name;
    bool name_ok = sel.name.empty() || (!full_name.empty() && matches(full_name, {sel.name, ""}));
    if (tag_ok && name_ok) return &m;
  }
  return nullptr;
}

// The image an index.json manifest descriptor names.
ParsedImage parse_oci_manifest(const ImageMembers& members, ImageFormat format, const std::string& what,
                               const json& descriptor) {
  ParsedImage image;
  image.format = format;
  image.repo_tags = oci_repo_tags(oci_names(descriptor));
  std::string manifest_digest = string_member(descriptor, "digest", what + ": index.json manifest");
  image.manifest_json = read_oci_blob(members, manifest_digest, what);
  json manifest = parse_json_input(image.manifest_json, what + ": manifest");
  std::string manifest_what = what + ": manifest";
  if (!manifest.is_object() || !manifest.contains("config"))
    fail_input("{}: 'config' is missing", manifest_what);
  image.config_json = read_oci_blob(members, string_member(manifest["config"], "digest", manifest_what + " config"), what);
  if (!manifest.contains("layers") || !manifest["layers"].is_array())
    fail_input("{}: 'layers' is missing or not a list", manifest_what);
  for (const auto& l : manifest["layers"]) {
    std::string layer_what = fmt::format("{} layer {}", manifest_what, image.layers.size() + 1);
    LayerDescriptor d;
    d.digest = string_member(l, "digest", layer_what);
    if (!l.contains("size") || !l["size"].is_number_unsigned())
      fail_input("{}: 'size' is missing or not a non-negative whole number", layer_what);
    d.size = l["size"].get<uint64_t>();
    d.compression = compression_of_media_type(string_member(l, "mediaType", layer_what));
    image.layers.push_back(d);
    image.layer_members.push_back(oci_blob_name(d.digest, what));
  }
  auto diff_ids = config_diff_ids(parse_json_input(image.config_json, what + ": config"), image.layers.size(), what);
  for (size_t i = 0; i < image.layers.size(); ++i) {
    image.layers[i].diff_id = diff_ids[i];
    if (!members.exists(image.layer_members[i])) fail_input("{}: layer blob {} is missing", what, image.layers[i].digest);
  }
  return image;
}

ParsedImage parse_oci_layout(const ImageMembers& members, ImageFormat format, const std::string& what,
                             const ImageSelector& sel) {
  json index = parse_json_input(members.read("index.json"), what + ": index.json");
  std::vector<std::string> available;
  const json* chosen = find_oci_manifest(index, sel, what, available);
  if (!chosen)
    fail_input("{} has no image {} (it has: {})", what, describe(sel),
               available.empty() ? "no named images" : fmt::format("{}", fmt::join(available, ", ")));
  return parse_oci_manifest(members, format, what, *chosen);
}

// The members of an uncompressed image archive, read in place.
class TarMembers : public BlobStore {
public:
  TarMembers(Fd fd, const std::string& what) : fd_(std::move(fd)), index_(fd_.get(), what) {}
  std::string read(const std::string& name) const override { return index_.read(name); }
  bool exists(const std::string& name) const override { return index_.find(name) != nullptr; }
  std::optional<Facts> facts(const std::string& name) const override {
    const TarIndex::Member* m = index_.find(name);
    if (!m) return std::nullopt;
    char magic[4] = {};
    ssize_t n = ::pread(index_.fd(), magic, std::min<uint64_t>(sizeof magic, m->size), static_cast<off_t>(m->offset));
    return Facts{m->size, sniff_compression(magic, n > 0 ? static_cast<size_t>(n) : 0), ""};
  }
  ImageSource::BlobLocation location(const std::string& name) const override {
    const TarIndex::Member* m = index_.find(name);
    if (!m) fail_input("missing blob {}", name);
    return {index_.fd(), m->offset, m->size};
  }

private:
  Fd fd_;
  TarIndex index_;
};

// The files of an OCI layout directory; a blob that is no regular file is bad input.
class DirMembers : public BlobStore {
public:
  explicit DirMembers(std::string dir) : dir_(std::move(dir)) {}
  std::string read(const std::string& name) const override {
    return read_input_file(dir_ + "/" + name, "OCI layout file", max_metadata_bytes);
  }
  bool exists(const std::string& name) const override { return path_exists(dir_ + "/" + name); }
  std::optional<Facts> facts(const std::string& name) const override {
    if (!exists(name)) return std::nullopt;
    ImageSource::BlobLocation blob = location(name);
    char magic[4] = {};
    ssize_t n = ::pread(blob.fd, magic, sizeof magic, 0);
    return Facts{blob.size, sniff_compression(magic, n > 0 ? static_cast<size_t>(n) : 0), ""};
  }
  ImageSource::BlobLocation location(const std::string& name) const override {
    auto it = open_blobs_.find(name);
    if (it == open_blobs_.end()) it = open_blobs_.emplace(name, open_input_file(dir_ + "/" + name, "blob")).first;
    struct stat st;
    if (::fstat(it->second.get(), &st) < 0) fail_errno(fmt::format("cannot stat {}/{}", dir_, name));
    return {it->second.get(), 0, static_cast<uint64_t>(st.st_size)};
  }

private:
  std::string dir_;
  mutable std::map<std::string, Fd> open_blobs_;
};

class StoredImage : public ImageSource {
public:
  StoredImage(std::shared_ptr<const BlobStore> store, ParsedImage parsed, const std::string& path)
      : store_(std::move(store)), layer_members_(std::move(parsed.layer_members)) {
    name_ = path;
    format_ = parsed.format;
    config_json_ = std::move(parsed.config_json);
    layers_ = std::move(parsed.layers);
    repo_tags_ = std::move(parsed.repo_tags);
    manifest_json_ = std::move(parsed.manifest_json);
  }
  BlobLocation layer_location(size_t i) const override { return store_->location(layer_members_.at(i)); }

private:
  std::shared_ptr<const BlobStore> store_; // shared by the images of one file
  std::vector<std::string> layer_members_;
};

// A whole-archive compressed file (.tar.gz, .tar.zst) is decompressed once into an
// unlinked temp file, so members can be read in place.
Fd decompress_to_temp(int compressed, const std::string& path) {
  int fd = ::open(default_temp_parent().c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) fail_errno(fmt::format("cannot create a temporary file in {}", default_temp_parent()));
  Fd out(fd);
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  support_layer_compressions(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open_fd(a.get(), compressed, 1 << 20) != ARCHIVE_OK)
    fail_input("cannot read {}: {}", path, archive_error_text(a.get()));
  archive_entry* entry;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK)
    fail_input("cannot decompress {}: {}", path, archive_error_text(a.get()));
  std::vector<char> buf(1 << 20);
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
    if (n < 0) fail_input("{} is corrupt: {}", path, archive_error_text(a.get()));
    if (n == 0) break;
    write_all(out.get(), buf.data(), static_cast<size_t>(n), "a temporary file");
  }
  return out;
}

ParsedImage parse_archive(const ImageMembers& members, const std::string& path, const ImageSelector& selector) {
  if (members.exists("oci-layout") && members.exists("index.json"))
    return parse_oci_layout(members, ImageFormat::OciArchive, path, selector);
  if (!members.exists("manifest.json")) fail_input("{} is neither a docker-archive nor an OCI archive", path);
  return parse_docker_archive(members, path, selector);
}

// An image path: an OCI layout directory (fd empty) or an open regular file.
struct ImagePath {
  bool directory = false;
  Fd file;
  Compression compression = Compression::None;
};

ImagePath open_image_path(const std::string& path) {
  ImagePath image;
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) fail_input("image {} does not exist", path);
  if (S_ISDIR(st.st_mode)) {
    if (!path_exists(path + "/oci-layout") || !path_exists(path + "/index.json"))
      fail_input("{} is a directory but not an OCI layout (no oci-layout or index.json)", path);
    image.directory = true;
    return image;
  }
  image.file = open_input_file(path, "image");
  char magic[4] = {};
  ssize_t n = ::pread(image.file.get(), magic, sizeof magic, 0);
  if (n <= 0) fail_input("image {} is empty", path);
  image.compression = sniff_compression(magic, static_cast<size_t>(n));
  return image;
}

// The members of an image path, readable in place.
std::shared_ptr<const BlobStore> open_blob_store(ImagePath image, const std::string& path) {
  if (image.directory) return std::make_shared<DirMembers>(path);
  Fd fd = image.compression == Compression::None ? std::move(image.file) : decompress_to_temp(image.file.get(), path);
  return std::make_shared<TarMembers>(std::move(fd), path);
}

std::unique_ptr<ImageSource> open_stored(ImagePath image, const std::string& path, const ImageSelector& selector) {
  bool directory = image.directory;
  auto members = open_blob_store(std::move(image), path);
  ParsedImage parsed = directory ? parse_oci_layout(*members, ImageFormat::OciDir, path, selector)
                                 : parse_archive(*members, path, selector);
  return std::make_unique<StoredImage>(std::move(members), std::move(parsed), path);
}

// Every image a docker-archive's manifest.json or an OCI index lists, in its order.
std::vector<ParsedImage> parse_every_image(const ImageMembers& members, bool directory, const std::string& path) {
  std::vector<ParsedImage> images;
  bool oci = directory || (members.exists("oci-layout") && members.exists("index.json"));
  if (oci) {
    ImageFormat format = directory ? ImageFormat::OciDir : ImageFormat::OciArchive;
    json index = parse_json_input(members.read("index.json"), path + ": index.json");
    for (const auto& m : oci_manifests(index, path)) images.push_back(parse_oci_manifest(members, format, path, m));
    if (images.empty()) fail_input("{}: index.json lists no manifests", path);
    return images;
  }
  if (!members.exists("manifest.json")) fail_input("{} is neither a docker-archive nor an OCI archive", path);
  for (const auto& entry : docker_manifest(members, path))
    images.push_back(parse_docker_entry(members, path, entry, entry_repo_tags(entry)));
  return images;
}

} // namespace

std::unique_ptr<ImageSource> ImageSource::open(const std::string& path, const ImageSelector& selector) {
  return open_stored(open_image_path(path), path, selector);
}

std::vector<std::unique_ptr<ImageSource>> ImageSource::open_every(const std::string& path) {
  ImagePath image = open_image_path(path);
  bool directory = image.directory;
  auto members = open_blob_store(std::move(image), path);
  std::vector<std::unique_ptr<ImageSource>> sources;
  for (ParsedImage& parsed : parse_every_image(*members, directory, path))
    sources.push_back(std::make_unique<StoredImage>(members, std::move(parsed), path));
  return sources;
}

ImageInfo read_image_info(const std::string& path, const ImageSelector& selector) {
  ImagePath image = open_image_path(path);
  if (!image.directory && image.compression != Compression::None) {
    StreamedArchive members(std::move(image.file), path);
    ParsedImage parsed = parse_archive(members, path, selector);
    return {parsed.format, std::move(parsed.config_json), std::move(parsed.layers), std::move(parsed.repo_tags)};
  }
  auto source = open_stored(std::move(image), path, selector);
  ImageInfo info{source->format(), source->config_json(), source->layers(), source->repo_tags()};
  // docker-archive records no blob digests for compressed layers: hash them.
  for (size_t i = 0; i < info.layers.size(); ++i) {
    if (!info.layers[i].digest.empty()) continue;
    NullSink null;
    DigestingSink digesting(null);
    source->copy_layer(i, digesting);
    info.layers[i].digest = digesting.digest();
    info.layers[i].size = digesting.size();
  }
  return info;
}

} // namespace strata
