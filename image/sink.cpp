#include "image/sink.h"

#include "sys/files.h"

namespace strata {

void FdSink::write(const void* data, size_t size) { write_all(fd_, data, size, what_); }

} // namespace strata
