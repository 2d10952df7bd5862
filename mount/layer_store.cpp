#include "mount/layer_store.h"

#include "image/digest.h"
#include "mount/image_layer.h"
#include "sys/cache_root.h"
#include "sys/error.h"
#include "sys/owner_table.h"
#include "sys/fd.h"
#include "sys/files.h"
#include "sys/signal_cleanup.h"

#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace strata::mount {
namespace {

constexpr std::string_view kTempPrefix = ".tmp-";
constexpr std::string_view kTableSuffix = ".owners"; // owner_table_path
constexpr const char* kLockName = ".lock";

// Holds flock(op) on fd until destroyed.
class FlockGuard {
public:
  FlockGuard(int fd, int op, const std::string& what) : fd_(fd) {
    while (::flock(fd_, op) != 0) {
      if (errno != EINTR) fail_errno("cannot lock " + what);
    }
  }
  FlockGuard(const FlockGuard&) = delete;
  FlockGuard& operator=(const FlockGuard&) = delete;
  ~FlockGuard() { ::flock(fd_, LOCK_UN); }

private:
  int fd_;
};

// The store-wide lock file: creators of temp dirs hold it shared while a temp dir exists
// without its own lock yet; the sweeper holds it exclusive, so it never mistakes a temp
// dir being created for an abandoned one.
Fd open_store_lock(const std::string& dir) {
  return open_or_fail(dir + "/" + kLockName, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
}

// A temp dir being filled: locked while this object lives, removed unless released.
class TempLayerDir {
public:
  TempLayerDir(const std::string& store_dir, const std::string& hex) {
    Fd store_lock = open_store_lock(store_dir);
    FlockGuard shared(store_lock.get(), LOCK_SH, store_dir + "/" + kLockName);
    std::string tmpl = store_dir + "/" + std::string(kTempPrefix) + hex + "-XXXXXX";
    SignalsHeld held;  // until it is registered
    if (!::mkdtemp(tmpl.data())) fail_errno("cannot create a temporary directory in " + store_dir);
    path_ = tmpl;
    lock_ = Fd(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!lock_ || ::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::rmdir(path_.c_str());
      fail_errno("cannot lock " + path_, err);
    }
    // Overlay shows a lower dir's root mode where no upper covers it: make it a root's.
    ::chmod(path_.c_str(), 0755);
    on_signal_ = CleanupOnSignal(path_, CleanupOnSignal::Kind::Tree);
  }
  TempLayerDir(const TempLayerDir&) = delete;
  TempLayerDir& operator=(const TempLayerDir&) = delete;
  ~TempLayerDir() {
    if (path_.empty()) return;
    try {
      remove_tree(path_);
      ::unlink(owner_table_path(path_).c_str());
    } catch (...) {
    }
  }

  const std::string& path() const { return path_; }
  // Renamed away (or removed) by the caller: nothing left to clean.
  void release() {
    on_signal_.release();
    path_.clear();
  }

private:
  std::string path_;
  Fd lock_;
  CleanupOnSignal on_signal_;
};

} // namespace

LayerStore::LayerStore(std::string dir, UnpackOptions options)
    : dir_(dir.empty() ? default_dir() : std::move(dir)), options_(std::move(options)) {}

std::string LayerStore::default_dir() {
  return cache_root().dir + "/unpacked";
}

std::string LayerStore::path_for(const std::string& diff_id) const {
  if (!is_sha256_digest(diff_id)) fail_input("'{}' is not a sha256 diff_id", diff_id);
  return dir_ + "/" + digest_hex(diff_id);
}

std::string LayerStore::ensure(const ImageSource& image, size_t layer_index, UnpackStats* stats) const {
  if (layer_index >= image.layers().size())
    fail_input("the image has {} layers: there is no layer {}", image.layers().size(), layer_index + 1);
  const LayerDescriptor& layer = image.layers()[layer_index];
  std::string final_path = path_for(layer.diff_id);
  if (is_directory(final_path)) return final_path;

  make_dirs(dir_);
  remove_stale_temp_dirs();
  TempLayerDir temp(dir_, digest_hex(layer.diff_id));
  ImageLayerInput input(image, layer_index);
  UnpackStats unpacked = unpack_layer_dir(input.input(), temp.path(), options_);
  input.verify();

  // The owner table first: a layer dir is never seen without it.
  if (options_.owner_table &&
      ::rename(owner_table_path(temp.path()).c_str(), owner_table_path(final_path).c_str()) != 0)
    fail_errno("cannot move the owner table to " + owner_table_path(final_path));
  if (::rename(temp.path().c_str(), final_path.c_str()) != 0) {
    int err = errno;
    // Another process put the same layer in place first: theirs serves as well.
    if ((err == ENOTEMPTY || err == EEXIST) && is_directory(final_path)) return final_path;
    fail_errno(fmt::format("cannot move the unpacked layer to {}", final_path), err);
  }
  temp.release();
  if (stats) *stats += unpacked;
  return final_path;
}

size_t LayerStore::remove_stale_temp_dirs() const {
  if (!is_directory(dir_)) return 0;
  Fd store_lock = open_store_lock(dir_);
  FlockGuard exclusive(store_lock.get(), LOCK_EX, dir_ + "/" + kLockName);
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir_.c_str()), ::closedir);
  if (!listing) fail_errno("cannot list " + dir_);
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(listing.get())) {
    std::string_view entry = e->d_name;
    if (entry.substr(0, kTempPrefix.size()) != kTempPrefix) continue;
    std::string path = dir_ + "/" + std::string(entry);
    Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      // Not a directory (or gone): nothing of ours; a stray file is removed too, but not
      // the owner table of a temp dir still there (it goes with its dir).
      bool table = entry.size() > kTableSuffix.size() && entry.substr(entry.size() - kTableSuffix.size()) == kTableSuffix;
      if (table && is_directory(path.substr(0, path.size() - kTableSuffix.size()))) continue;
      if (errno == ENOTDIR || errno == ELOOP) stale.push_back(path);
      continue;
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) stale.push_back(path); // its filler is gone
  }
  for (const auto& path : stale) {
    remove_tree(path);
    if (std::string table = owner_table_path(path); path_exists(table)) remove_tree(table);
  }
  return stale.size();
}

} // namespace strata::mount
