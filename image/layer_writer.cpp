#include "image/layer_writer.h"

#include "image/tar_writer.h"

namespace strata {
namespace {

// Reports progress every few MiB as bytes pass.
class ProgressSink : public ByteSink {
public:
  ProgressSink(ByteSink& next, const ProgressFn& progress) : next_(next), progress_(progress) {}
  void write(const void* data, size_t size) override {
    next_.write(data, size);
    total_ += size;
    if (progress_ && total_ - reported_ >= (8u << 20)) {
      reported_ = total_;
      progress_(total_);
    }
  }
  void finish() override {
    next_.finish();
    if (progress_) progress_(total_);
  }

private:
  ByteSink& next_;
  const ProgressFn& progress_;
  uint64_t total_ = 0, reported_ = 0;
};

} // namespace

LayerDigests write_layer(const EntryProducer& produce, Compression compression, ByteSink& out,
                         const ProgressFn& progress) {
  DigestingSink stored(out);
  auto compressor = make_compressor(compression, stored);
  DigestingSink uncompressed(*compressor);
  ProgressSink counted(uncompressed, progress);
  TarWriter tar(counted);
  produce([&](LayerEntry& e) { tar.add(e); });
  tar.finish();
  counted.finish();

  LayerDigests d;
  d.diff_id = uncompressed.digest();
  d.uncompressed_size = uncompressed.size();
  d.digest = stored.digest();
  d.size = stored.size();
  d.entries = tar.entries();
  d.compression = compression;
  return d;
}

} // namespace strata
