#include "image/registry/push.h"

#include "image/reference.h"

#include "image/compress.h"
#include "image/digest.h"
#include "image/json_input.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <algorithm>
#include <fcntl.h>
#include <set>
#include <unistd.h>

namespace strata::registry {

using nlohmann::json;

namespace {

constexpr int kMountTries = 3;

// A blob made on the way (a compressed layer, a layer the writer is given) kept in an
// unlinked temp file until it is sent: its digest must be known before the upload ends,
// and the registry may have it already.
class SpoolFile : public ByteSink {
public:
  SpoolFile() {
    int fd = ::open(default_temp_parent().c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno(fmt::format("cannot create a temporary file in {}", default_temp_parent()));
    fd_.reset(fd);
  }
  void write(const void* data, size_t size) override {
    write_all(fd_.get(), data, size, "a temporary file");
    size_ += size;
  }
  RequestBody body() const { return {nullptr, fd_.get(), 0, size_}; }

private:
  Fd fd_;
  uint64_t size_ = 0;
};

std::string digest_of_range(const ImageSource::BlobLocation& loc) {
  Hasher h;
  std::vector<char> buf(1 << 20);
  for (uint64_t done = 0; done < loc.size;) {
    ssize_t n = ::pread(loc.fd, buf.data(), std::min<uint64_t>(buf.size(), loc.size - done),
                        static_cast<off_t>(loc.offset + done));
    if (n <= 0) fail_errno("cannot read a layer");
    h.update(buf.data(), static_cast<size_t>(n));
    done += static_cast<uint64_t>(n);
  }
  return "sha256:" + h.finish_hex();
}

std::string media_type_of(const std::string& manifest, std::string_view fallback) {
  try {
    json doc = json::parse(manifest);
    if (doc.contains("mediaType") && doc["mediaType"].is_string()) return doc["mediaType"];
  } catch (const json::exception&) {
  }
  return std::string(fallback);
}

// Nixery's layout (`strata manifest`): manifest.json and blobs/sha256/.
void push_registry_dir(const std::string& dir, RegistryPush& push) {
  std::string manifest = read_file(dir + "/manifest.json");
  json doc = parse_json_input(manifest, dir + "/manifest.json");
  std::vector<std::pair<std::string, std::string>> blobs; // digest, kind
  try {
    for (const auto& l : doc.at("layers")) blobs.push_back({l.at("digest").get<std::string>(), "layer"});
    blobs.push_back({doc.at("config").at("digest").get<std::string>(), "config"});
  } catch (const json::exception& e) {
    fail_input("{}/manifest.json is no image manifest: {}", dir, e.what());
  }
  for (const auto& [digest, kind] : blobs) {
    if (!is_sha256_digest(digest)) fail_input("{}/manifest.json: unsupported digest '{}'", dir, digest);
    std::string path = dir + "/blobs/sha256/" + digest_hex(digest);
    if (!path_exists(path)) fail_input("{}: blob {} is missing", dir, digest);
    Fd fd = open_or_fail(path, O_RDONLY);
    off_t size = ::lseek(fd.get(), 0, SEEK_END);
    push.push(digest, {nullptr, fd.get(), 0, static_cast<uint64_t>(size)}, kind);
  }
  push.finish(manifest, media_type_of(manifest, media_type::kDockerManifest), "latest");
}

} // namespace

std::string outcome_name(BlobOutcome o) {
  switch (o) {
  case BlobOutcome::Uploaded: return "uploaded";
  case BlobOutcome::Mounted: return "mounted";
  case BlobOutcome::Present: break;
  }
  return "present";
}

json PushReport::to_json() const {
  json blobs_json = json::array();
  for (const auto& b : blobs) {
    json j{{"digest", b.digest}, {"size", b.size}, {"kind", b.kind}, {"status", outcome_name(b.outcome)},
           {"bytes_sent", b.bytes_sent}};
    if (!b.mounted_from.empty()) j["mounted_from"] = b.mounted_from;
    blobs_json.push_back(j);
  }
  return {{"reference", reference},     {"manifest_digest", manifest_digest}, {"manifest_media_type", manifest_media_type},
          {"blobs", blobs_json},       {"bytes_sent", bytes_sent},           {"retries", retries}};
}

RegistryPush::RegistryPush(Reference target, PushOptions options)
    : target_(std::move(target)), options_(std::move(options)),
      client_(target_.api_host(), target_.registry, options_.registry), info_(options_.blob_info_dir) {
  client_.want_scope("repository:" + target_.repository + ":pull,push");
  for (const auto& from : options_.mount_from) client_.want_scope("repository:" + from + ":pull");
}

PushedBlob RegistryPush::done(PushedBlob blob) {
  info_.remember_location(target_.registry, target_.repository, blob.digest);
  report_.bytes_sent += blob.bytes_sent;
  report_.blobs.push_back(blob);
  if (options_.events.blob_done) options_.events.blob_done(blob);
  return blob;
}

void RegistryPush::check_present(const std::vector<LayerDescriptor>& blobs, const std::string& kind) {
  std::vector<std::string> digests;
  std::vector<uint64_t> sizes;
  for (const auto& b : blobs)
    if (is_sha256_digest(b.digest) && std::find(digests.begin(), digests.end(), b.digest) == digests.end()) {
      digests.push_back(b.digest);
      sizes.push_back(b.size);
    }
  std::vector<std::optional<uint64_t>> found = client_.blob_sizes(target_.repository, digests);
  for (size_t i = 0; i < digests.size(); ++i)
    if (found[i]) done({digests[i], sizes[i], kind, BlobOutcome::Present, "", 0});
}

std::optional<PushedBlob> RegistryPush::reuse(const std::string& digest, uint64_t size, const std::string& kind) {
  for (const auto& b : report_.blobs) // the same blob twice in one image
    if (b.digest == digest) return PushedBlob{digest, size, kind, BlobOutcome::Present, "", 0};
  if (client_.blob_size(target_.repository, digest)) return done({digest, size, kind, BlobOutcome::Present, "", 0});
  std::vector<std::string> sources = options_.mount_from;
  for (const auto& r : info_.repositories_with(target_.registry, digest))
    if (std::find(sources.begin(), sources.end(), r) == sources.end()) sources.push_back(r);
  int tries = 0;
  for (const auto& from : sources) {
    // each refused mount opens an upload session: a few candidates, the newest first
    if (from == target_.repository || ++tries > kMountTries) continue;
    client_.want_scope("repository:" + from + ":pull");
    if (client_.mount_blob(target_.repository, digest, from)) return done({digest, size, kind, BlobOutcome::Mounted, from, 0});
  }
  return std::nullopt;
}

PushedBlob RegistryPush::push(const std::string& digest, const RequestBody& body, const std::string& kind) {
  if (auto reused = reuse(digest, body.length(), kind)) return *reused;
  if (options_.events.upload_started) options_.events.upload_started(digest, body.length());
  uint64_t sent = client_.upload_blob(target_.repository, digest, body, options_.events.upload_progress);
  return done({digest, body.length(), kind, BlobOutcome::Uploaded, "", sent});
}

void RegistryPush::finish(const std::string& manifest, const std::string& media_type, const std::string& fallback_tag) {
  std::string digest = sha256_digest(manifest);
  if (!target_.digest.empty() && target_.digest != digest)
    fail_input("docker://{}: the image's manifest digest is {}, not the one the reference names", target_.to_string(), digest);
  std::string reference = target_.tag.empty() ? (target_.digest.empty() ? fallback_tag : target_.digest) : target_.tag;
  report_.manifest_digest = client_.put_manifest(target_.repository, reference, media_type, manifest);
  report_.manifest_media_type = media_type;
  report_.reference = target_.registry + "/" + target_.repository + (is_sha256_digest(reference) ? "@" : ":") + reference;
  report_.retries = client_.retries();
}

void push_image(const std::string& image, const ImageSelector& selector, RegistryPush& push) {
  if (is_directory(image) && path_exists(image + "/manifest.json") && path_exists(image + "/blobs/sha256") &&
      !path_exists(image + "/oci-layout")) {
    push_registry_dir(image, push);
    return;
  }
  auto source = ImageSource::open(image, selector);
  std::string fallback_tag = source->repo_tags().empty() ? "latest" : split_repo_tag(source->repo_tags().front()).second;
  std::vector<LayerDescriptor> known; // the blobs whose digests are known before any is read
  for (const auto& d : source->layers()) {
    if (source->format() != ImageFormat::DockerArchive) known.push_back(d);
    else if (d.compression == Compression::None)
      if (auto c = push.blob_info().compressed(d.diff_id, "gzip")) known.push_back({c->digest, c->size, d.diff_id});
  }
  push.check_present(known, "layer");
  std::vector<LayerDescriptor> layers;
  for (size_t i = 0; i < source->layers().size(); ++i) {
    LayerDescriptor d = source->layers()[i];
    ImageSource::BlobLocation loc = source->layer_location(i);
    if (source->format() == ImageFormat::DockerArchive && d.compression == Compression::None) {
      // gzip on the way; the digest that gives is remembered, so the next push of the same
      // layer asks the registry before compressing anything
      auto known = push.blob_info().compressed(d.diff_id, "gzip");
      std::optional<PushedBlob> reused = known ? push.reuse(known->digest, known->size, "layer") : std::nullopt;
      if (reused) {
        d.digest = known->digest;
        d.size = known->size;
      } else {
        SpoolFile spool;
        DigestingSink compressed(spool);
        auto gzip = make_compressor(Compression::Gzip, compressed);
        source->copy_layer(i, *gzip);
        gzip->finish();
        d.digest = compressed.digest();
        d.size = compressed.size();
        push.blob_info().remember_compressed(d.diff_id, "gzip", {d.digest, d.size});
        push.push(d.digest, spool.body(), "layer");
      }
      d.compression = Compression::Gzip;
    } else {
      if (d.digest.empty()) d.digest = digest_of_range(loc); // a compressed docker-archive layer
      d.size = loc.size;
      push.push(d.digest, {nullptr, loc.fd, loc.offset, loc.size}, "layer");
    }
    layers.push_back(d);
  }
  const std::string& config = source->config_json();
  push.push(sha256_digest(config), {&config, -1, 0, 0}, "config");
  if (source->format() != ImageFormat::DockerArchive && !source->manifest_json().empty()) {
    push.finish(source->manifest_json(), media_type_of(source->manifest_json(), media_type::kOciManifest), fallback_tag);
    return;
  }
  push.finish(docker_manifest_json(config, layers), std::string(media_type::kDockerManifest), fallback_tag);
}

namespace {

class RegistryImageWriter : public ImageWriter {
public:
  RegistryImageWriter(RegistryPush& push, bool oci) : push_(push), oci_(oci) {}

  void expect_layers(const std::vector<LayerDescriptor>& layers) override { push_.check_present(layers, "layer"); }

  bool has_layer(const LayerDescriptor& layer) override {
    return !layer.digest.empty() && push_.reuse(layer.digest, layer.size, "layer").has_value();
  }

  ByteSink& begin_layer() override {
    spool_ = std::make_unique<SpoolFile>();
    return *spool_;
  }

  void end_layer(const LayerDescriptor& layer) override {
    if (spool_) {
      if (spool_->body().length() != layer.size)
        fail_work("layer {}: {} bytes were written for a blob of {}", layer.digest, spool_->body().length(), layer.size);
      push_.push(layer.digest, spool_->body(), "layer");
      spool_.reset();
    }
    layers_.push_back(layer);
  }

  void commit(const std::string& config_json, const ImageNaming& naming) override {
    push_.push(sha256_digest(config_json), {&config_json, -1, 0, 0}, "config");
    bool oci = oci_ || std::any_of(layers_.begin(), layers_.end(),
                                   [](const LayerDescriptor& l) { return l.compression == Compression::Zstd; });
    if (oci) push_.finish(oci_manifest_json(config_json, layers_), std::string(media_type::kOciManifest), naming.tag);
    else push_.finish(docker_manifest_json(config_json, layers_), std::string(media_type::kDockerManifest), naming.tag);
  }

private:
  RegistryPush& push_;
  bool oci_;
  std::unique_ptr<SpoolFile> spool_;
};

} // namespace

std::unique_ptr<ImageWriter> make_registry_writer(RegistryPush& push, bool oci) {
  return std::make_unique<RegistryImageWriter>(push, oci);
}

} // namespace strata::registry
