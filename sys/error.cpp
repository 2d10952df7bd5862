#include "sys/error.h"

#include <cerrno>
#include <cstring>

namespace strata {

void fail_errno(const std::string& what, int err) {
  throw WorkError(fmt::format("{}: {}", what, std::strerror(err)));
}

void fail_errno(const std::string& what) { fail_errno(what, errno); }

} // namespace strata
