// Temporary directories and files that clean up after themselves, and outputs that
// appear at their final path only when complete.
#pragma once
#include "sys/fd.h"
#include "sys/signal_cleanup.h"

#include <string>

namespace strata {

// A fresh directory, removed with everything in it when the object dies (or when strata
// is ended by SIGTERM, SIGINT or SIGHUP: sys/signal_cleanup.h).
class TempDir {
public:
  // Created inside parent (default: $TMPDIR or /tmp) as <prefix>.<pid>.XXXXXX. Dirs of
  // the same prefix that a strata no longer running left there (SIGKILL) are removed
  // first.
  explicit TempDir(const std::string& prefix = "strata", const std::string& parent = "");
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // Keep the directory: the caller now owns it.
  std::string release();

private:
  std::string path_;
  CleanupOnSignal on_signal_;
};

// An output file that appears complete or not at all. Where the target is nothing or a
// regular file (also through symlinks), it is written under a hidden temporary name
// beside it and renamed onto it by commit(): a symlink keeps pointing where it did, a
// dangling one is replaced. Where it is a stream (a FIFO, a character device such as
// /dev/null, or one of the process's own fds: /dev/stdout, /dev/fd/N, /proc/self/fd/N),
// it is never replaced: the bytes go to an unlinked temp file in $TMPDIR and commit()
// copies them there. A directory, block device, socket or terminal is an InputError
// naming the path. Without commit() nothing reaches the target. The temp name is
// .<name>.strata-<pid>-XXXXXX; those a strata no longer running left are removed first.
class AtomicFile {
public:
  explicit AtomicFile(const std::string& target, mode_t mode = 0644);
  // A stream to an open fd (not owned), e.g. STDOUT_FILENO; `name` names it in errors.
  static AtomicFile to_stream(int fd, const std::string& name);
  AtomicFile(AtomicFile&&) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  // Where to write (seekable: a file in either case).
  int fd() const { return fd_.get(); }
  const std::string& target() const { return target_; }
  bool is_stream() const { return stream_ >= 0; }
  void commit();

private:
  AtomicFile() = default;
  void open_stream(int fd, Fd owned);

  std::string target_;
  std::string temp_path_; // beside the target; empty for a stream
  std::string rename_to_; // the target, its symlinks resolved
  Fd fd_;
  int stream_ = -1;       // the stream's fd (owned by stream_owned_, or the caller's)
  Fd stream_owned_;
  CleanupOnSignal on_signal_;
  bool committed_ = false;
};

std::string default_temp_parent();

} // namespace strata
