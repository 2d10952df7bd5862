#include "image/registry/pull.h"

#include "image/digest.h"
#include "image/json_input.h"
#include "image/registry/blob_info.h"
#include "sys/error.h"
#include "sys/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace strata::registry {

using nlohmann::json;

namespace {

std::string host_go_architecture() {
  struct utsname u;
  ::uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (m.rfind("armv", 0) == 0) return "arm";
  if (m == "i686" || m == "i386") return "386";
  return m;
}

bool is_index(const std::string& media_type) {
  return media_type == media_type::kOciIndex || media_type == media_type::kDockerManifestList;
}

// A member a registry's JSON should hold as a string: "" when it is missing or of
// another type (json::value would throw a type_error), which callers then refuse.
std::string string_member(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

json parse_json(const std::string& text, const std::string& what) {
  return parse_json_input(text, what);
}

// Writes a blob being fetched to a temp file in the cache, hashing it; a retried
// download starts it again.
class VerifyingFile : public ByteSink {
public:
  explicit VerifyingFile(const std::string& dir) {
    path_ = dir + "/.incoming.XXXXXX";
    int fd = ::mkostemp(path_.data(), O_CLOEXEC);
    if (fd < 0) fail_errno(fmt::format("cannot create a file in the blob cache {}", dir));
    fd_.reset(fd);
  }
  ~VerifyingFile() override {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  void restart() {
    if (::ftruncate(fd_.get(), 0) < 0 || ::lseek(fd_.get(), 0, SEEK_SET) < 0) fail_errno("cannot restart a download");
    hasher_ = Hasher();
    size_ = 0;
  }
  void write(const void* data, size_t size) override {
    write_all(fd_.get(), data, size, path_);
    hasher_.update(data, size);
    size_ += size;
  }
  uint64_t size() const { return size_; }
  std::string digest() { return "sha256:" + hasher_.finish_hex(); }
  // Renames the verified file to final_path.
  void keep(const std::string& final_path) {
    fd_.reset();
    if (::rename(path_.c_str(), final_path.c_str()) < 0) fail_errno(fmt::format("cannot store {}", final_path));
    path_.clear();
  }

private:
  std::string path_;
  Fd fd_;
  Hasher hasher_;
  uint64_t size_ = 0;
};

class Puller {
public:
  Puller(const Reference& ref, const PullOptions& options)
      : ref_(ref), options_(options), client_(ref.api_host(), ref.registry, options.registry),
        info_(options.blob_info_dir) {
    if (!info_.enabled())
      fail_input("pulling needs a blob cache, and {} cannot be used (set XDG_CACHE_HOME or HOME)",
                 BlobInfo::default_dir().empty() ? "none is set" : BlobInfo::default_dir());
    client_.want_scope("repository:" + ref.repository + ":pull");
  }

  PulledBlob blob(const std::string& digest, uint64_t size, const std::string& what) {
    if (!is_sha256_digest(digest)) fail_input("{}: unsupported digest '{}'", what, digest);
    if (auto path = info_.cached_blob(digest, size)) {
      if (options_.events.blob_done) options_.events.blob_done(digest, size, true);
      return {digest, size, *path, true};
    }
    if (options_.events.fetch_started) options_.events.fetch_started(digest, size);
    VerifyingFile file(info_.blob_dir());
    struct Progress : ByteSink {
      VerifyingFile& file;
      const PullEvents& events;
      Progress(VerifyingFile& f, const PullEvents& e) : file(f), events(e) {}
      void write(const void* data, size_t n) override {
        file.write(data, n);
        if (events.fetch_progress) events.fetch_progress(file.size());
      }
    } sink(file, options_.events);
    client_.get_blob(ref_.repository, digest, sink, [&] { file.restart(); });
    std::string got = file.digest();
    if (got != digest || (size != 0 && file.size() != size))
      fail_input("{} {} from registry {} does not match its digest: {} bytes hashing to {}", what, digest, ref_.registry,
                 file.size(), got);
    std::string path = info_.blob_dir() + "/" + digest_hex(digest);
    file.keep(path);
    info_.remember_location(ref_.registry, ref_.repository, digest);
    if (options_.events.blob_done) options_.events.blob_done(digest, file.size(), false);
    return {digest, file.size(), path, false};
  }

  // A manifest by tag or digest: from the cache when a digest names one kept there.
  RemoteManifest manifest(const std::string& reference) {
    if (is_sha256_digest(reference))
      if (auto path = info_.cached_blob(reference)) {
        RemoteManifest m;
        m.bytes = read_file(*path);
        m.digest = sha256_digest(m.bytes);
        if (m.digest == reference) {
          json doc = parse_json(m.bytes, "the cached manifest " + reference);
          m.media_type = string_member(doc, "mediaType");
          return m;
        }
      }
    RemoteManifest m = client_.get_manifest(ref_.repository, reference);
    std::string path = info_.blob_dir() + "/" + digest_hex(m.digest);
    try {
      write_file(path + ".tmp", m.bytes, 0600);
      if (::rename((path + ".tmp").c_str(), path.c_str()) < 0) ::unlink((path + ".tmp").c_str());
    } catch (const Error&) {
    }
    return m;
  }

  PulledImage run() {
    PulledImage image;
    std::string what = "docker://" + ref_.to_string();
    RemoteManifest top = manifest(ref_.manifest_reference());
    json doc = parse_json(top.bytes, what + ": the manifest");
    std::string media_type = top.media_type;
    if (media_type.empty() && doc.is_object() && doc.contains("manifests")) media_type = media_type::kOciIndex;
    if (is_index(media_type)) {
      Platform want = options_.platform;
      if (want.architecture.empty()) want.architecture = host_go_architecture();
      image.index_digest = top.digest;
      std::string chosen = choose_platform(doc, want, what);
      top = manifest(chosen);
      doc = parse_json(top.bytes, what + ": the manifest " + chosen);
      media_type = top.media_type;
    }
    media_type = image_manifest_media_type(doc, media_type, what);
    image.manifest = top.bytes;
    image.manifest_digest = top.digest;
    image.manifest_media_type = media_type;
    image.reference = ref_.registry + "/" + ref_.repository + "@" + top.digest;
    ManifestBlobs named = parse_image_manifest(doc, what);
    image.layers = std::move(named.layers);
    PulledBlob config = blob(named.config_digest, named.config_size, "config");
    image.config_json = read_file(config.path);
    json config_doc = parse_json(image.config_json, what + ": the config");
    std::vector<std::string> diff_ids;
    try {
      for (const auto& d : config_doc.at("rootfs").at("diff_ids")) diff_ids.push_back(d.get<std::string>());
    } catch (const json::exception&) {
      fail_input("{}: the config has no rootfs.diff_ids", what);
    }
    if (diff_ids.size() != image.layers.size())
      fail_input("{}: the config lists {} diff_ids for {} layers", what, diff_ids.size(), image.layers.size());
    for (size_t i = 0; i < image.layers.size(); ++i) {
      if (!is_sha256_digest(diff_ids[i])) fail_input("{}: bad diff_id '{}'", what, diff_ids[i]);
      image.layers[i].diff_id = diff_ids[i];
      image.blobs.push_back(blob(image.layers[i].digest, image.layers[i].size, "layer"));
    }
    image.retries = client_.retries();
    return image;
  }

private:
  const Reference& ref_;
  const PullOptions& options_;
  RegistryClient client_;
  BlobInfo info_;
};

void link_or_copy(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return;
  Fd in = open_or_fail(from, O_RDONLY);
  Fd out = open_or_fail(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  std::vector<char> buf(1 << 20);
  for (;;) {
    size_t n = read_full(in.get(), buf.data(), buf.size(), from);
    if (n) write_all(out.get(), buf.data(), n, to);
    if (n < buf.size()) break;
  }
}

} // namespace

json PulledImage::to_json() const {
  json layers_json = json::array();
  for (size_t i = 0; i < layers.size(); ++i)
    layers_json.push_back({{"digest", layers[i].digest},
                           {"diff_id", layers[i].diff_id},
                           {"size", layers[i].size},
                           {"status", blobs[i].cached ? "cached" : "fetched"}});
  json out{{"reference", reference},
           {"manifest_digest", manifest_digest},
           {"manifest_media_type", manifest_media_type},
           {"config_digest", sha256_digest(config_json)},
           {"layers", layers_json},
           {"retries", retries}};
  if (!index_digest.empty()) out["index_digest"] = index_digest;
  return out;
}

std::string image_manifest_media_type(const json& doc, const std::string& announced, const std::string& what) {
  auto version = doc.find("schemaVersion");
  if (version != doc.end() && version->is_number_integer() && *version == 1)
    fail_input("{} is a Docker schema 1 manifest, which strata does not read", what);
  std::string media_type = announced.empty() ? std::string(media_type::kOciManifest) : announced;
  if (media_type != media_type::kOciManifest && media_type != media_type::kDockerManifest)
    fail_input("{}: unsupported manifest media type '{}'", what, media_type);
  return media_type;
}

namespace {

// A descriptor's size: a JSON integer of 0 or more (a float or negative number converted
// to uint64_t would be undefined behaviour, and any answer a lie about the blob).
uint64_t descriptor_size(const json& descriptor, const std::string& what) {
  const json& size = descriptor.at("size");
  if (!size.is_number_integer() || (!size.is_number_unsigned() && size.get<int64_t>() < 0))
    fail_input("{}: malformed manifest: a descriptor's size is {}, not an integer of 0 or more", what, size.dump());
  return size.get<uint64_t>();
}

} // namespace

ManifestBlobs parse_image_manifest(const json& doc, const std::string& what) {
  ManifestBlobs named;
  try {
    named.config_digest = doc.at("config").at("digest").get<std::string>();
    named.config_size = descriptor_size(doc.at("config"), what);
    for (const auto& l : doc.at("layers")) {
      LayerDescriptor d;
      d.digest = l.at("digest").get<std::string>();
      d.size = descriptor_size(l, what);
      d.compression = compression_of_media_type(l.at("mediaType").get<std::string>());
      named.layers.push_back(d);
    }
  } catch (const json::exception& e) {
    fail_input("{}: malformed manifest: {}", what, e.what());
  }
  return named;
}

std::string choose_platform(const json& index, const Platform& platform, const std::string& what) {
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array())
    fail_input("{}: the manifest list has no 'manifests' array", what);
  std::vector<std::string> seen;
  const json* best = nullptr;
  for (const auto& m : index["manifests"]) {
    if (!m.is_object() || !m.contains("platform") || !m["platform"].is_object()) continue;
    const json& p = m["platform"];
    std::string os = string_member(p, "os"), arch = string_member(p, "architecture"),
                variant = string_member(p, "variant");
    seen.push_back(os + "/" + arch + (variant.empty() ? "" : "/" + variant));
    if (os != platform.os || arch != platform.architecture) continue;
    if (!platform.variant.empty() && variant != platform.variant) continue;
    if (!best) best = &m;
  }
  if (!best) {
    std::string have;
    for (const auto& s : seen) have += (have.empty() ? "" : ", ") + s;
    fail_input("{} has no image for {}/{}{} (it has: {})", what, platform.os, platform.architecture,
               platform.variant.empty() ? "" : "/" + platform.variant, have.empty() ? "no platforms" : have);
  }
  std::string digest = string_member(*best, "digest");
  if (!is_sha256_digest(digest)) fail_input("{}: the manifest list names an unsupported digest '{}'", what, digest);
  return digest;
}

PulledImage pull_image(const Reference& ref, const PullOptions& options) { return Puller(ref, options).run(); }

void lay_out_oci(const PulledImage& image, const std::string& dir, const std::string& ref_name) {
  make_dirs(dir + "/blobs/sha256");
  write_file(dir + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  write_file(dir + "/blobs/sha256/" + digest_hex(image.manifest_digest), image.manifest);
  write_file(dir + "/blobs/sha256/" + digest_hex(sha256_digest(image.config_json)), image.config_json);
  for (const auto& b : image.blobs) {
    std::string to = dir + "/blobs/sha256/" + digest_hex(b.digest);
    if (!path_exists(to)) link_or_copy(b.path, to);
  }
  json index{{"schemaVersion", 2},
             {"mediaType", media_type::kOciIndex},
             {"manifests",
              {{{"mediaType", image.manifest_media_type},
                {"digest", image.manifest_digest},
                {"size", image.manifest.size()},
                {"annotations", {{"org.opencontainers.image.ref.name", ref_name}}}}}}};
  write_file(dir + "/index.json", index.dump());
}

} // namespace strata::registry
