// What the libFuzzer targets share. Each target feeds one reader of untrusted bytes the
// way strata feeds it a user's input. Bad input must end as an InputError (exit 2): any
// other exception escaping a target is a finding (libFuzzer reports it as a crash), as
// is every ASan/UBSan report, hang and leak.
#pragma once
#include "image/digest.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>

namespace strata::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs f, taking an InputError as the expected end of bad input. STRATA_FUZZ_VERBOSE=1
// prints its message (to see how far an input gets).
template <typename F> int expect_input_errors_only(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    static const bool verbose = std::getenv("STRATA_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "input error: %s\n", e.what());
  }
  return 0;
}

// One in-memory file (memfd) rewritten for every input: a path readers can open as a
// regular file, without touching a disk.
class MemFile {
public:
  MemFile() : fd_(::memfd_create("strata-fuzz", MFD_CLOEXEC)) {
    if (!fd_) fail_errno("memfd_create");
  }
  void set(std::string_view bytes) {
    if (::ftruncate(fd_.get(), 0) < 0) fail_errno("ftruncate");
    write_all_at(bytes);
  }
  int fd() const { return fd_.get(); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_.get()); }
  uint64_t size() const { return static_cast<uint64_t>(::lseek(fd_.get(), 0, SEEK_END)); }

private:
  void write_all_at(std::string_view bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::pwrite(fd_.get(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (n < 0) fail_errno("pwrite");
      done += static_cast<size_t>(n);
    }
  }
  Fd fd_;
};

// A scratch dir for one input, removed with everything in it (on tmpfs where possible).
inline std::string scratch_parent() { return ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : ""; }

} // namespace strata::fuzz
