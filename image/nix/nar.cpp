#include "image/nix/nar.h"

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/files.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <vector>

namespace strata::nix {
namespace {

constexpr size_t buffer_size = 256 * 1024;

// Frames tokens and file contents as NAR strings, batching small writes in one buffer.
class NarWriter {
public:
  explicit NarWriter(ByteSink& sink) : sink_(sink), buffer_(new char[buffer_size]) {}

  void archive(const std::string& path) {
    token("nix-archive-1");
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0) fail_errno(fmt::format("cannot read {}", path));
    node(AT_FDCWD, path, st, path);
    flush();
  }

private:
  void node(int dirfd, const std::string& name, const struct stat& st, const std::string& shown) {
    token("(");
    token("type");
    if (S_ISREG(st.st_mode)) {
      token("regular");
      if (st.st_mode & S_IXUSR) {
        token("executable");
        token("");
      }
      token("contents");
      contents(dirfd, name, st, shown);
    } else if (S_ISLNK(st.st_mode)) {
      token("symlink");
      token("target");
      token(link_target(dirfd, name, st, shown));
    } else if (S_ISDIR(st.st_mode)) {
      token("directory");
      directory(dirfd, name, shown);
    } else {
      fail_input("{} has a file type a Nix archive cannot hold (only files, directories and symlinks)", shown);
    }
    token(")");
  }

  void directory(int dirfd, const std::string& name, const std::string& shown) {
    Fd dir = openat_or_fail(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    for (const std::string& entry : sorted_entries(dir.get(), shown)) {
      std::string entry_shown = shown + "/" + entry;
      struct stat st;
      if (::fstatat(dir.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
        fail_errno(fmt::format("cannot read {}", entry_shown));
      token("entry");
      token("(");
      token("name");
      token(entry);
      token("node");
      node(dir.get(), entry, st, entry_shown);
      token(")");
    }
  }

  static std::vector<std::string> sorted_entries(int dirfd, const std::string& shown) {
    int copy = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) fail_errno(fmt::format("cannot list {}", shown));
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(copy), ::closedir);
    if (!dir) {
      ::close(copy);
      fail_errno(fmt::format("cannot list {}", shown));
    }
    std::vector<std::string> names;
    for (;;) {
      errno = 0;
      dirent* e = ::readdir(dir.get());
      if (!e) {
        if (errno) fail_errno(fmt::format("cannot list {}", shown));
        break;
      }
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
    }
    std::sort(names.begin(), names.end()); // std::string compares bytewise, as Nix orders
    return names;
  }

  static std::string link_target(int dirfd, const std::string& name, const struct stat& st, const std::string& shown) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    for (;;) {
      ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
      if (n < 0) fail_errno(fmt::format("cannot read the symlink {}", shown));
      if (static_cast<size_t>(n) < target.size()) {
        target.resize(static_cast<size_t>(n));
        return target;
      }
      target.resize(target.size() * 2);
    }
  }

  void contents(int dirfd, const std::string& name, const struct stat& st, const std::string& shown) {
    Fd file = openat_or_fail(dirfd, name, O_RDONLY | O_NOFOLLOW);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    number(size);
    uint64_t left = size;
    while (left > 0) {
      if (used_ == buffer_size) flush();
      size_t want = static_cast<size_t>(std::min<uint64_t>(left, buffer_size - used_));
      size_t got = read_full(file.get(), buffer_.get() + used_, want, shown);
      if (got < want) fail_work("{} shrank while it was being archived", shown);
      used_ += got;
      left -= got;
    }
    char extra;
    if (read_full(file.get(), &extra, 1, shown) != 0) fail_work("{} grew while it was being archived", shown);
    pad(size);
  }

  void token(std::string_view s) {
    number(s.size());
    bytes(s.data(), s.size());
    pad(s.size());
  }

  void number(uint64_t n) {
    unsigned char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(n >> (8 * i));
    bytes(le, sizeof le);
  }

  void pad(uint64_t size) {
    static constexpr char zeros[8] = {};
    if (size % 8) bytes(zeros, 8 - size % 8);
  }

  void bytes(const void* data, size_t size) {
    auto p = static_cast<const char*>(data);
    while (size > 0) {
      if (used_ == buffer_size) flush();
      size_t n = std::min(size, buffer_size - used_);
      std::memcpy(buffer_.get() + used_, p, n);
      used_ += n;
      p += n;
      size -= n;
    }
  }

  void flush() {
    if (used_) sink_.write(buffer_.get(), used_);
    used_ = 0;
  }

  ByteSink& sink_;
  std::unique_ptr<char[]> buffer_;
  size_t used_ = 0;
};

class HashingSink : public ByteSink {
public:
  void write(const void* data, size_t size) override {
    hasher_.update(data, size);
    size_ += size;
  }
  NarHash result() { return NarHash{hasher_.finish(), size_}; }

private:
  Hasher hasher_;
  uint64_t size_ = 0;
};

} // namespace

void dump_nar(const std::string& path, ByteSink& sink) { NarWriter(sink).archive(path); }

NarHash nar_hash(const std::string& path) {
  HashingSink sink;
  dump_nar(path, sink);
  return sink.result();
}

} // namespace strata::nix

namespace strata::nix {
namespace {

// A NAR string: its length, then its bytes padded to 8.
constexpr uint64_t token_size(uint64_t length) { return 8 + (length + 7) / 8 * 8; }
constexpr uint64_t token_size(std::string_view s) { return token_size(s.size()); }

// "(" "type" <kind> … ")" around a node, without the kind's own fields.
constexpr uint64_t node_frame_size(std::string_view kind) {
  return token_size("(") + token_size("type") + token_size(kind) + token_size(")");
}

uint64_t regular_node_size(uint64_t size, bool executable) {
  uint64_t n = node_frame_size("regular") + token_size("contents") + token_size(size);
  if (executable) n += token_size("executable") + token_size("");
  return n;
}

// "entry" "(" "name" <name> "node" <node> ")"
uint64_t entry_size(std::string_view name, uint64_t node_size) {
  return token_size("entry") + token_size("(") + token_size("name") + token_size(name) + token_size("node") +
         node_size + token_size(")");
}

uint64_t node_size(int dirfd, const std::string& name, const std::string& shown) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) fail_errno(fmt::format("cannot read {}", shown));
  if (S_ISREG(st.st_mode)) return regular_node_size(static_cast<uint64_t>(st.st_size), st.st_mode & S_IXUSR);
  if (S_ISLNK(st.st_mode))
    return node_frame_size("symlink") + token_size("target") + token_size(static_cast<uint64_t>(st.st_size));
  if (!S_ISDIR(st.st_mode))
    fail_input("{} has a file type a Nix archive cannot hold (only files, directories and symlinks)", shown);
  uint64_t total = node_frame_size("directory");
  Fd dir = openat_or_fail(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  int copy = ::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0);
  if (copy < 0) fail_errno(fmt::format("cannot list {}", shown));
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::fdopendir(copy), ::closedir);
  if (!listing) {
    ::close(copy);
    fail_errno(fmt::format("cannot list {}", shown));
  }
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(listing.get());
    if (!e) {
      if (errno) fail_errno(fmt::format("cannot list {}", shown));
      break;
    }
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    std::string entry = e->d_name;
    total += entry_size(entry, node_size(dir.get(), entry, shown + "/" + entry));
  }
  return total;
}

} // namespace

uint64_t nar_size(const std::string& path) { return token_size("nix-archive-1") + node_size(AT_FDCWD, path, path); }

uint64_t nar_size_of_file(uint64_t size, bool executable) {
  return token_size("nix-archive-1") + regular_node_size(size, executable);
}

uint64_t nar_size_of_flat_dir(const std::vector<std::pair<std::string, uint64_t>>& files) {
  uint64_t total = token_size("nix-archive-1") + node_frame_size("directory");
  for (const auto& [name, size] : files) total += entry_size(name, regular_node_size(size, false));
  return total;
}

} // namespace strata::nix
