// Temporary directories and files that clean up after themselves, and outputs that
// appear at their final path only when complete.
#pragma once
#include "sys/fd.h"

#include <string>

namespace strata {

// A fresh directory, removed with everything in it when the object dies.
class TempDir {
public:
  // Created inside parent (default: $TMPDIR or /tmp) with the given name prefix.
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
};

// A file created under a hidden temporary name beside its target, renamed onto the
// target by commit(); removed if never committed.
class AtomicFile {
public:
  explicit AtomicFile(const std::string& target, mode_t mode = 0644);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const { return fd_.get(); }
  const std::string& temp_path() const { return temp_path_; }
  const std::string& target() const { return target_; }
  void commit();

private:
  std::string target_;
  std::string temp_path_;
  Fd fd_;
  bool committed_ = false;
};

// Checks that an output file can be created at path (its directory exists and is
// writable, and path is not a directory); throws InputError naming the problem.
void check_output_file_path(const std::string& path);

std::string default_temp_parent();

} // namespace strata
