// Byte sinks: the pipes a layer's bytes flow through (tar -> hash -> compress -> hash -> file).
#pragma once
#include "image/digest.h"

#include <cstdint>
#include <string>

namespace strata {

class ByteSink {
public:
  virtual ~ByteSink() = default;
  virtual void write(const void* data, size_t size) = 0;
  // Flushes buffered bytes downstream; a sink is not written after finish().
  virtual void finish() {}
};

// Writes to an fd it does not own.
class FdSink : public ByteSink {
public:
  FdSink(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
  void write(const void* data, size_t size) override;

private:
  int fd_;
  std::string what_;
};

// Passes bytes on while hashing and counting them.
class DigestingSink : public ByteSink {
public:
  explicit DigestingSink(ByteSink& next) : next_(next) {}
  void write(const void* data, size_t size) override {
    hasher_.update(data, size);
    size_ += size;
    next_.write(data, size);
  }
  void finish() override { next_.finish(); }
  uint64_t size() const { return size_; }
  // "sha256:<hex>"; call once, after finish().
  std::string digest() { return "sha256:" + hasher_.finish_hex(); }

private:
  ByteSink& next_;
  Hasher hasher_;
  uint64_t size_ = 0;
};

// Writes every byte to two sinks.
class TeeSink : public ByteSink {
public:
  TeeSink(ByteSink& a, ByteSink& b) : a_(a), b_(b) {}
  void write(const void* data, size_t size) override {
    a_.write(data, size);
    b_.write(data, size);
  }
  void finish() override {
    a_.finish();
    b_.finish();
  }

private:
  ByteSink& a_;
  ByteSink& b_;
};

// Discards bytes (for hashing only).
class NullSink : public ByteSink {
public:
  void write(const void*, size_t) override {}
};

class StringSink : public ByteSink {
public:
  void write(const void* data, size_t size) override { data_.append(static_cast<const char*>(data), size); }
  std::string& data() { return data_; }

private:
  std::string data_;
};

} // namespace strata
