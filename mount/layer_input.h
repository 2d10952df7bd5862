// Where the bytes of a layer tar come from: a file, an open fd (optionally a byte range
// of it, e.g. a blob inside a docker-archive), or any reader. Compression is not the
// input's concern: the unpacker detects gzip, zstd or none itself.
#pragma once
#include "sys/fd.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace strata::mount {

class LayerInput {
public:
  // Fills up to `capacity` bytes; returns 0 only at the end; throws on error.
  using ReadFn = std::function<size_t(void* buffer, size_t capacity)>;

  // `name` is what error messages call this input after the word "layer": a path,
  // "sha256:…", "3 (sha256:…)".
  LayerInput(std::string name, ReadFn read) : name_(std::move(name)), read_(std::move(read)) {}

  // Opens the file (InputError when it cannot be opened).
  static LayerInput from_path(const std::string& path);
  // Reads fd from its current position to its end. The fd is not owned.
  static LayerInput from_fd(int fd, std::string name);
  // Reads exactly `length` bytes at `offset` with pread (the fd's position is left
  // alone, so several inputs can share one fd). The fd is not owned. Fewer bytes
  // than `length` in the file is an InputError.
  static LayerInput from_fd_range(int fd, uint64_t offset, uint64_t length, std::string name);

  const std::string& name() const { return name_; }
  size_t read(void* buffer, size_t capacity) { return read_(buffer, capacity); }

private:
  std::string name_;
  ReadFn read_;
};

} // namespace strata::mount
