#include "image/verified_layer.h"

#include "image/digest.h"
#include "image/layer_reader.h"
#include "sys/error.h"

#include <algorithm>
#include <archive.h>
#include <memory>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fmt/format.h>
#include <unistd.h>
#include <vector>

namespace strata {
namespace {

// The magic numbers of the compressions support_layer_compressions enables.
bool looks_compressed(const unsigned char* p, size_t n) {
  auto starts = [&](std::initializer_list<unsigned char> magic) {
    return n >= magic.size() && std::equal(magic.begin(), magic.end(), p);
  };
  return starts({0x1f, 0x8b}) || starts({0x28, 0xb5, 0x2f, 0xfd}) || starts({'B', 'Z', 'h'}) ||
         starts({0xfd, '7', 'z', 'X', 'Z', 0x00});
}

} // namespace

// The stored bytes, read in place with pread, hashed and copied as they pass; when they are
// compressed, libarchive's "raw" format undoes the compression and the result is hashed.
class VerifiedLayer::Stream {
public:
  Stream(const ImageSource& image, size_t i, ByteSink* copy, const std::string& name)
      : layer_(image.layers()[i]), blob_(image.layer_location(i)), copy_(copy), name_(name) {
    unsigned char magic[6] = {};
    ssize_t n = ::pread(blob_.fd, magic, std::min<uint64_t>(sizeof magic, blob_.size), static_cast<off_t>(blob_.offset));
    if (n < 0) fail_errno("cannot read " + name_);
    compressed_ = looks_compressed(magic, static_cast<size_t>(n));
    if (!compressed_) return;
    archive_.reset(archive_read_new()); // a member, so freed when opening it throws
    if (!archive_) throw std::bad_alloc();
    support_layer_compressions(archive_.get());
    archive_read_support_format_raw(archive_.get());
    archive_entry* entry = nullptr;
    if (archive_read_open(archive_.get(), this, nullptr, &Stream::read_callback, nullptr) != ARCHIVE_OK ||
        archive_read_next_header(archive_.get(), &entry) != ARCHIVE_OK)
      fail_archive();
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  size_t read(void* buffer, size_t capacity) {
    if (!compressed_) return read_stored(buffer, capacity);
    if (ended_) return 0;
    la_ssize_t n = archive_read_data(archive_.get(), buffer, capacity);
    if (n < 0) fail_archive();
    if (n == 0) ended_ = true;
    uncompressed_.update(buffer, static_cast<size_t>(n));
    return static_cast<size_t>(n);
  }

  // Returns the stored bytes' digest.
  std::string verify() {
    std::vector<char> buffer(1 << 18);
    while (read(buffer.data(), buffer.size()) > 0) {
    }
    std::string stored = verify_stored();
    std::string tar = compressed_ ? "sha256:" + uncompressed_.finish_hex() : stored;
    if (tar != layer_.diff_id)
      fail_input("{} is corrupt or forged: its uncompressed tar hashes to {}, not to the diff_id the config records",
                 name_, tar);
    return stored;
  }

private:
  // Reads the stored bytes left (after the end of a compressed stream, or all of them
  // when it could not be decompressed) and checks them against the blob digest where
  // the image records one apart from the diff_id. Returns their digest.
  std::string verify_stored() {
    std::vector<char> buffer(1 << 18);
    while (read_stored(buffer.data(), buffer.size()) > 0) {
    }
    std::string stored = "sha256:" + stored_.finish_hex();
    if (!layer_.digest.empty() && layer_.digest != layer_.diff_id && stored != layer_.digest)
      fail_input("{} is corrupt: its stored bytes hash to {}, not to the digest {} the manifest records", name_, stored,
                 layer_.digest);
    return stored;
  }

  size_t read_stored(void* buffer, size_t capacity) {
    uint64_t left = blob_.size - position_;
    if (left == 0) return 0;
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, capacity));
    ssize_t n;
    do n = ::pread(blob_.fd, buffer, want, static_cast<off_t>(blob_.offset + position_));
    while (n < 0 && errno == EINTR);
    if (n < 0) fail_errno("cannot read " + name_);
    if (n == 0) fail_input("{} is truncated: {} bytes missing", name_, left);
    position_ += static_cast<uint64_t>(n);
    stored_.update(buffer, static_cast<size_t>(n));
    if (copy_) copy_->write(buffer, static_cast<size_t>(n));
    return static_cast<size_t>(n);
  }

  static la_ssize_t read_callback(archive* a, void* client, const void** out) {
    auto* self = static_cast<Stream*>(client);
    try {
      size_t n = self->read_stored(self->raw_.data(), self->raw_.size());
      *out = self->raw_.data();
      return static_cast<la_ssize_t>(n);
    } catch (...) {
      self->error_ = std::current_exception();
      archive_set_error(a, EIO, "read failed");
      return -1;
    }
  }

  // A stored blob that does not match its digest is said so, rather than how it fails
  // to decompress.
  [[noreturn]] void fail_archive() {
    if (error_) std::rethrow_exception(error_);
    const char* why = archive_error_string(archive_.get());
    std::string what = why ? why : "unreadable";
    verify_stored();
    fail_input("{} is corrupt: cannot decompress it: {}", name_, what);
  }

  LayerDescriptor layer_;
  ImageSource::BlobLocation blob_;
  ByteSink* copy_;
  const std::string& name_;
  uint64_t position_ = 0;
  bool compressed_ = false, ended_ = false;
  Hasher stored_, uncompressed_;
  std::vector<char> raw_ = std::vector<char>(1 << 18);
  std::unique_ptr<archive, int (*)(archive*)> archive_{nullptr, archive_read_free};
  std::exception_ptr error_;
};

VerifiedLayer::VerifiedLayer(const ImageSource& image, size_t layer_index, ByteSink* copy)
    : image_(image), index_(layer_index) {
  if (layer_index >= image.layers().size())
    fail_input("{} has {} layers: there is no layer {}", image.name(), image.layers().size(), layer_index + 1);
  name_ = fmt::format("{}: layer {} ({})", image.name(), layer_index + 1, image.layers()[layer_index].diff_id);
  stream_ = std::make_unique<Stream>(image, layer_index, copy, name_);
}

VerifiedLayer::~VerifiedLayer() = default;

size_t VerifiedLayer::read(void* buffer, size_t capacity) { return stream_->read(buffer, capacity); }

void VerifiedLayer::verify() { image_.note_verified(index_, stream_->verify()); }

// Every copy of a base layer into a new image checks it on the way: in full, or, where
// this process verified the layer already (listing the base, unpacking it), by seeing
// the same stored bytes again.
void ImageSource::copy_layer(size_t i, ByteSink& out) const {
  std::string known = verified_digest(i);
  if (known.empty()) {
    VerifiedLayer layer(*this, i, &out);
    layer.verify();
    return;
  }
  BlobLocation blob = layer_location(i);
  Hasher hasher;
  std::vector<char> buffer(1 << 20);
  for (uint64_t position = 0; position < blob.size;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(blob.size - position, buffer.size()));
    ssize_t n = ::pread(blob.fd, buffer.data(), want, static_cast<off_t>(blob.offset + position));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(fmt::format("cannot read {}: layer {}", name(), i + 1));
    if (n == 0) fail_input("{}: layer {} is truncated: {} bytes missing", name(), i + 1, blob.size - position);
    hasher.update(buffer.data(), static_cast<size_t>(n));
    out.write(buffer.data(), static_cast<size_t>(n));
    position += static_cast<uint64_t>(n);
  }
  if ("sha256:" + hasher.finish_hex() != known)
    fail_input("{}: layer {} ({}) changed while strata read it", name(), i + 1, layers_[i].diff_id);
}

void ImageSource::note_verified(size_t i, const std::string& stored_digest) const {
  std::lock_guard lock(verified_mutex_);
  verified_.resize(layers_.size());
  verified_.at(i) = stored_digest;
}

std::string ImageSource::verified_digest(size_t i) const {
  std::lock_guard lock(verified_mutex_);
  return i < verified_.size() ? verified_[i] : "";
}

} // namespace strata
