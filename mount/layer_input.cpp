#include "mount/layer_input.h"

#include "sys/error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace strata::mount {

LayerInput LayerInput::from_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_input("cannot open layer {}: {}", path, std::strerror(errno));
  auto owned = std::make_shared<Fd>(fd);
  LayerInput input = from_fd(fd, path);
  ReadFn inner = std::move(input.read_);
  input.read_ = [owned, inner](void* buffer, size_t capacity) { return inner(buffer, capacity); };
  return input;
}

LayerInput LayerInput::from_fd(int fd, std::string name) {
  return LayerInput(name, [fd, name](void* buffer, size_t capacity) -> size_t {
    for (;;) {
      ssize_t n = ::read(fd, buffer, capacity);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) fail_errno("cannot read layer " + name);
    }
  });
}

LayerInput LayerInput::from_fd_range(int fd, uint64_t offset, uint64_t length, std::string name) {
  auto position = std::make_shared<uint64_t>(offset);
  uint64_t end = offset + length;
  return LayerInput(name, [fd, position, end, name](void* buffer, size_t capacity) -> size_t {
    uint64_t left = end - *position;
    if (left == 0) return 0;
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, capacity));
    for (;;) {
      ssize_t n = ::pread(fd, buffer, want, static_cast<off_t>(*position));
      if (n > 0) {
        *position += static_cast<uint64_t>(n);
        return static_cast<size_t>(n);
      }
      if (n == 0) fail_input("layer {} is truncated: {} bytes missing", name, left);
      if (errno != EINTR) fail_errno("cannot read layer " + name);
    }
  });
}

} // namespace strata::mount
