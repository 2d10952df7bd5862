// Errors carry the exit status strata ends with: 2 for bad input or usage, 1 for failed work.
#pragma once
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace strata {

class Error : public std::runtime_error {
public:
  Error(int exit_code, const std::string& message) : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

private:
  int exit_code_;
};

// Something the user gave us (spec, flag, image, tar) is wrong: exit 2.
class InputError : public Error {
public:
  explicit InputError(const std::string& message) : Error(2, message) {}
};

// The work failed (I/O, a script, the kernel refused): exit 1.
class WorkError : public Error {
public:
  explicit WorkError(const std::string& message) : Error(1, message) {}
};

template <typename... Args>
[[noreturn]] void fail_input(fmt::format_string<Args...> f, Args&&... args) {
  throw InputError(fmt::format(f, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] void fail_work(fmt::format_string<Args...> f, Args&&... args) {
  throw WorkError(fmt::format(f, std::forward<Args>(args)...));
}

// Throws WorkError with "<what>: <strerror(errno)>".
[[noreturn]] void fail_errno(const std::string& what);
[[noreturn]] void fail_errno(const std::string& what, int err);

} // namespace strata
