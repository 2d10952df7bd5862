#include "image/image_writer.h"

#include "image/archive_writer.h"
#include "image/reference.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <cerrno>
#include <dirent.h>
#include <cstdio>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <map>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

using nlohmann::json;

std::string oci_manifest_json(const std::string& config_json, const std::vector<LayerDescriptor>& layers) {
  json m;
  m["schemaVersion"] = 2;
  m["mediaType"] = media_type::kOciManifest;
  m["config"] = {{"mediaType", media_type::kOciConfig},
                 {"digest", sha256_digest(config_json)},
                 {"size", config_json.size()}};
  m["layers"] = json::array();
  for (const auto& l : layers)
    m["layers"].push_back({{"mediaType", oci_layer_media_type(l.compression)}, {"digest", l.digest}, {"size", l.size}});
  return m.dump();
}

std::string docker_manifest_json(const std::string& config_json, const std::vector<LayerDescriptor>& layers) {
  json m;
  m["schemaVersion"] = 2;
  m["mediaType"] = media_type::kDockerManifest;
  m["config"] = {{"mediaType", media_type::kDockerConfig},
                 {"digest", sha256_digest(config_json)},
                 {"size", config_json.size()}};
  m["layers"] = json::array();
  for (const auto& l : layers)
    m["layers"].push_back({{"mediaType", docker_layer_media_type(l.compression)}, {"digest", l.digest}, {"size", l.size}});
  return m.dump();
}

void ImageWriter::commit_images(const std::vector<ArchivedImage>&) {
  fail_work("only a docker-archive holds several images");
}

namespace {

std::string repo_tag(const ImageNaming& n) { return n.name + ":" + n.tag; }

// docker save's metadata: each config, per layer <id>/json and VERSION, manifest.json and
// repositories. The layer id is the blob's digest; a layer (or config) several images
// share is described once.
void write_docker_metadata(ArchiveWriter& archive, const std::vector<ArchivedImage>& images) {
  json manifest = json::array();
  json repositories = json::object();
  std::set<std::string> described;
  for (const ArchivedImage& image : images) {
    std::string config_name = digest_hex(sha256_digest(image.config_json)) + ".json";
    if (described.insert(config_name).second) archive.add_file(config_name, image.config_json);
    json config = json::parse(image.config_json);
    json layer_paths = json::array();
    std::string parent;
    for (const auto& l : image.layers) {
      std::string id = digest_hex(l.digest);
      layer_paths.push_back(id + "/layer.tar");
      if (described.insert(id).second) {
        json v1{{"id", id}, {"created", config.value("created", "1970-01-01T00:00:01Z")}};
        if (!parent.empty()) v1["parent"] = parent;
        archive.add_directory(id);
        archive.add_file(id + "/VERSION", "1.0");
        archive.add_file(id + "/json", v1.dump());
      }
      parent = id;
    }
    manifest.push_back({{"Config", config_name}, {"RepoTags", image.repo_tags}, {"Layers", layer_paths}});
    if (!parent.empty())
      for (const std::string& ref : image.repo_tags) {
        auto [name, tag] = split_repo_tag(ref);
        repositories[name][tag] = parent;
      }
  }
  archive.add_file("manifest.json", manifest.dump());
  archive.add_file("repositories", repositories.dump());
}

void write_docker_metadata(ArchiveWriter& archive, const std::vector<LayerDescriptor>& layers,
                           const std::string& config_json, const ImageNaming& naming) {
  write_docker_metadata(archive, {{config_json, layers, {repo_tag(naming)}}});
}

// The archive is written to a temp file beside the target (renamed at commit), or for
// stdout and other streams to an unlinked temp file copied out at commit (sys/temp.h).
AtomicFile open_archive_output(const std::string& output) {
  if (output != "-") return AtomicFile(output);
  if (::isatty(STDOUT_FILENO)) fail_input("refusing to write an image archive to a terminal; use -o FILE");
  require_writable_stdout();
  return AtomicFile::to_stream(STDOUT_FILENO, "stdout");
}

class ArchiveImageWriter : public ImageWriter {
public:
  ArchiveImageWriter(ImageFormat format, const std::string& output, int64_t mtime)
      : format_(format), out_(open_archive_output(output)),
        archive_(out_.fd(), out_.is_stream() ? "the image stream" : out_.target(), mtime) {
    if (format_ == ImageFormat::OciArchive) {
      archive_.add_file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
      archive_.add_directory("blobs");
      archive_.add_directory("blobs/sha256");
    }
  }

  ByteSink& begin_layer() override { return archive_.begin_member(); }

  void end_layer(const LayerDescriptor& layer) override {
    layers_.push_back(layer);
    if (!written_.insert(layer.digest).second) {
      archive_.abandon_member();
      return;
    }
    archive_.end_member(blob_path(layer.digest, true), layer.size);
  }

  void commit_images(const std::vector<ArchivedImage>& images) override {
    if (format_ != ImageFormat::DockerArchive) return ImageWriter::commit_images(images);
    for (const ArchivedImage& image : images)
      for (const LayerDescriptor& l : image.layers)
        if (!written_.count(l.digest)) fail_work("layer {} was listed but never written", l.digest);
    write_docker_metadata(archive_, images);
    archive_.finish();
    out_.commit();
  }

  void commit(const std::string& config_json, const ImageNaming& naming) override {
    if (format_ == ImageFormat::DockerArchive)
      commit_docker(config_json, naming);
    else
      commit_oci(config_json, naming);
    archive_.finish();
    out_.commit();
  }

private:
  std::string blob_path(const std::string& digest, bool layer) const {
    std::string hex = digest_hex(digest);
    if (format_ == ImageFormat::OciArchive) return "blobs/sha256/" + hex;
    return layer ? hex + "/layer.tar" : hex + ".json";
  }

  void commit_docker(const std::string& config_json, const ImageNaming& naming) {
    write_docker_metadata(archive_, layers_, config_json, naming);
  }

  void commit_oci(const std::string& config_json, const ImageNaming& naming) {
    add_blob(config_json);
    std::string manifest = oci_manifest_json(config_json, layers_);
    add_blob(manifest);
    archive_.add_file("index.json", oci_index_json(manifest, naming));
  }

  void add_blob(const std::string& data) {
    std::string digest = sha256_digest(data);
    if (written_.insert(digest).second) archive_.add_file(blob_path(digest, false), data);
  }

public:
  static std::string oci_index_json(const std::string& manifest, const ImageNaming& naming) {
    json index{{"schemaVersion", 2},
               {"mediaType", media_type::kOciIndex},
               {"manifests",
                {{{"mediaType", media_type::kOciManifest},
                  {"digest", sha256_digest(manifest)},
                  {"size", manifest.size()},
                  {"annotations",
                   {{"org.opencontainers.image.ref.name", naming.tag},
                    {"io.containerd.image.name", repo_tag(naming)}}}}}}};
    return index.dump();
  }

private:
  ImageFormat format_;
  AtomicFile out_;
  ArchiveWriter archive_;
  std::set<std::string> written_;
};

// An OCI layout directory, built in a hidden temp dir beside the target and renamed
// into place at commit.
class OciDirImageWriter : public ImageWriter {
public:
  OciDirImageWriter(const std::string& output, bool registry) : target_(output), registry_(registry) {
    if (output == "-") fail_input("a directory format cannot be written to stdout; use --format oci-archive");
    std::string parent = dirname_of(output);
    if (!is_directory(parent)) fail_input("output directory {} does not exist", parent);
    if (::access(parent.c_str(), W_OK) != 0) fail_input("output directory {} is not writable", parent);
    struct stat st;
    if (::lstat(output.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) fail_input("output path {} exists and is not a directory", output);
      std::string marker = registry_ ? "/manifest.json" : "/oci-layout";
      if (!is_empty_dir(output) && !path_exists(output + marker))
        fail_input("output path {} is a non-empty directory that is not {}", output,
                   registry_ ? "a registry dir" : "an OCI layout");
    }
    temp_ = std::make_unique<TempDir>("." + basename_of(output) + ".strata", parent);
    ::chmod(temp_->path().c_str(), 0755);
    make_dirs(temp_->path() + "/blobs/sha256");
    if (!registry_) write_file(temp_->path() + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  }

  ByteSink& begin_layer() override {
    current_path_ = temp_->path() + "/blobs/sha256/.incoming";
    current_ = open_or_fail(current_path_, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    sink_ = std::make_unique<Md5TeeSink>(current_.get(), current_path_, registry_);
    return *sink_;
  }

  void end_layer(const LayerDescriptor& layer) override {
    current_.reset();
    if (registry_) md5_[layer.digest] = sink_->md5_hex();
    sink_.reset();
    layers_.push_back(layer);
    std::string final_path = temp_->path() + "/blobs/sha256/" + digest_hex(layer.digest);
    if (::rename(current_path_.c_str(), final_path.c_str()) < 0) fail_errno(fmt::format("cannot rename {}", current_path_));
  }

  void commit(const std::string& config_json, const ImageNaming& naming) override {
    add_blob(config_json);
    if (registry_) {
      write_registry_files(config_json, naming);
    } else {
      std::string manifest = oci_manifest_json(config_json, layers_);
      add_blob(manifest);
      write_file(temp_->path() + "/index.json", ArchiveImageWriter::oci_index_json(manifest, naming));
    }
    std::string old;
    if (path_exists(target_)) {
      old = dirname_of(target_) + "/." + basename_of(target_) + ".strata-old";
      remove_tree(old);
      if (::rename(target_.c_str(), old.c_str()) < 0) fail_errno(fmt::format("cannot move aside {}", target_));
    }
    if (::rename(temp_->path().c_str(), target_.c_str()) < 0) fail_errno(fmt::format("cannot rename onto {}", target_));
    temp_->release();
    if (!old.empty()) remove_tree(old);
  }

private:
  static bool is_empty_dir(const std::string& path) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(path.c_str()), ::closedir);
    if (!d) return false;
    while (dirent* e = ::readdir(d.get())) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") return false;
    }
    return true;
  }

  void add_blob(const std::string& data) {
    write_file(temp_->path() + "/blobs/sha256/" + digest_hex(sha256_digest(data)), data);
  }

  // Nixery's output: the manifest, and where each blob is with its md5 (registries and
  // storage backends want both), plus the config's metadata.
  void write_registry_files(const std::string& config_json, const ImageNaming& naming) {
    std::string manifest = docker_manifest_json(config_json, layers_);
    write_file(temp_->path() + "/manifest.json", manifest);
    json locations = json::object();
    for (const auto& l : layers_) {
      std::string rel = "blobs/sha256/" + digest_hex(l.digest);
      std::string final_path = absolute_path(target_) + "/" + rel;
      locations[l.digest] = {{"path", final_path}, {"md5", md5_.at(l.digest)}, {"size", l.size}};
    }
    json build{{"name", naming.name},
               {"tag", naming.tag},
               {"manifest", json::parse(manifest)},
               {"config",
                {{"size", config_json.size()},
                 {"sha256", digest_hex(sha256_digest(config_json))},
                 {"md5", md5_hex(config_json)},
                 {"path", absolute_path(target_) + "/blobs/sha256/" + digest_hex(sha256_digest(config_json))}}},
               {"layerLocations", locations}};
    write_file(temp_->path() + "/build.json", build.dump());
  }

  // Writes a blob, computing its md5 on the way when a registry dir needs it.
  class Md5TeeSink : public FdSink {
  public:
    Md5TeeSink(int fd, std::string what, bool md5) : FdSink(fd, std::move(what)), md5_(md5) {}
    void write(const void* data, size_t size) override {
      if (md5_) hasher_.update(data, size);
      FdSink::write(data, size);
    }
    std::string md5_hex() { return hasher_.finish_hex(); }

  private:
    bool md5_;
    Hasher hasher_{Hasher::Algorithm::Md5};
  };

  std::string target_;
  bool registry_;
  std::map<std::string, std::string> md5_;
  std::unique_ptr<TempDir> temp_;
  std::string current_path_;
  Fd current_;
  std::unique_ptr<Md5TeeSink> sink_;
};

class DockerStreamWriter : public ImageWriter {
public:
  DockerStreamWriter(int fd, int64_t mtime) : archive_(fd, "the image stream", mtime) {}

  bool needs_known_layers() const override { return true; }
  ByteSink& begin_layer() override { fail_work("a streamed image needs each layer's digest before its bytes"); }
  ByteSink& begin_known_layer(const LayerDescriptor& layer) override {
    pending_ = layer;
    if (written_.count(layer.digest)) return null_;
    return archive_.begin_sized_member(digest_hex(layer.digest) + "/layer.tar", layer.size);
  }
  void end_layer(const LayerDescriptor& layer) override {
    if (layer.digest != pending_.digest || layer.size != pending_.size)
      fail_work("a layer changed while it was streamed (announced {}, wrote {})", pending_.digest, layer.digest);
    if (written_.insert(layer.digest).second) archive_.end_sized_member();
    layers_.push_back(layer);
  }
  void commit(const std::string& config_json, const ImageNaming& naming) override {
    write_docker_metadata(archive_, layers_, config_json, naming);
    archive_.finish();
  }

private:
  ArchiveWriter archive_;
  LayerDescriptor pending_;
  std::set<std::string> written_;
  NullSink null_;
};

} // namespace

std::unique_ptr<ImageWriter> make_docker_stream_writer(int fd, int64_t mtime) {
  return std::make_unique<DockerStreamWriter>(fd, mtime);
}

std::unique_ptr<ImageWriter> make_image_writer(ImageFormat format, const std::string& output, int64_t mtime) {
  if (format == ImageFormat::OciDir || format == ImageFormat::RegistryDir)
    return std::make_unique<OciDirImageWriter>(output, format == ImageFormat::RegistryDir);
  return std::make_unique<ArchiveImageWriter>(format, output, mtime);
}

} // namespace strata
