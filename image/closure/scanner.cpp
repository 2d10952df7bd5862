#include "image/closure/scanner.h"

#include "sys/error.h"
#include "sys/fd.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>

namespace strata::closure {

namespace {

constexpr size_t window = hash_part_length;
constexpr size_t read_buffer_size = 256 * 1024;

inline bool base32_at(const char* p, size_t i) { return is_nix_base32_char(p[i]); }

// Hash parts are random, so their first 8 bytes spread well after one multiply.
inline uint64_t window_hash(const char* w) {
  uint64_t v;
  std::memcpy(&v, w, sizeof v);
  return (v * 0x9e3779b97f4a7c15ull) >> 17;
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

struct DirEntry {
  std::string name;
  unsigned char type;
};

// The entries of a directory (without . and ..); the directory is closed on return so a
// deep tree never holds more than one directory open.
std::vector<DirEntry> list_dir(const std::string& path) {
  std::unique_ptr<DIR, DirCloser> dir(::opendir(path.c_str()));
  if (!dir) fail_errno("cannot open directory " + path);
  std::vector<DirEntry> entries;
  errno = 0;
  while (dirent* e = ::readdir(dir.get())) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    entries.push_back({e->d_name, e->d_type});
  }
  if (errno != 0) fail_errno("cannot read directory " + path);
  return entries;
}

unsigned char type_of(const std::string& path, unsigned char d_type) {
  if (d_type != DT_UNKNOWN) return d_type;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) fail_errno("cannot stat " + path);
  if (S_ISDIR(st.st_mode)) return DT_DIR;
  if (S_ISREG(st.st_mode)) return DT_REG;
  if (S_ISLNK(st.st_mode)) return DT_LNK;
  return DT_UNKNOWN;
}

void scan_file(const std::string& path, ReferenceScanner& scanner, std::vector<char>& buffer) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd && (errno == EACCES || errno == EPERM)) fail_input("cannot read {}: {}", path, std::strerror(errno));
  if (!fd) fail_errno("cannot open " + path);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot read " + path);
    }
    if (n == 0) break;
    scanner.feed(buffer.data(), static_cast<size_t>(n));
  }
  scanner.end_stream();
}

void scan_symlink(const std::string& path, ReferenceScanner& scanner) {
  std::string target(4096, '\0');
  for (;;) {
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) fail_errno("cannot read symlink " + path);
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      break;
    }
    target.resize(target.size() * 2);
  }
  scanner.scan(target);
}

void scan_entry(const std::string& path, unsigned char type, ReferenceScanner& scanner, std::vector<char>& buffer) {
  switch (type_of(path, type)) {
  case DT_REG: scan_file(path, scanner, buffer); break;
  case DT_LNK: scan_symlink(path, scanner); break;
  case DT_DIR:
    for (const auto& entry : list_dir(path)) {
      scanner.scan(entry.name);
      scan_entry(path + "/" + entry.name, entry.type, scanner, buffer);
    }
    break;
  default: break; // devices, fifos, sockets: nothing but their names
  }
}

bool is_leftover_lock(const std::string& disk_path, std::string_view name) {
  if (name.size() < 5 || name.substr(name.size() - 5) != ".lock") return false;
  struct stat st;
  return ::lstat(disk_path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
}

} // namespace

// --- HashCandidates ---

size_t HashCandidates::add(std::string_view store_path, std::string_view store_dir) {
  StorePath parsed = parse_store_path(store_path, store_dir);
  if (size_t existing = find(parsed.hash.data()); existing != npos) return existing;
  if ((paths_.size() + 1) * 2 > slots_.size()) grow();
  size_t index = paths_.size();
  paths_.push_back(std::move(parsed.path));
  hashes_ += parsed.hash;
  size_t mask = slots_.size() - 1;
  for (size_t s = window_hash(parsed.hash.data()) & mask;; s = (s + 1) & mask) {
    if (slots_[s] == 0) {
      slots_[s] = static_cast<uint32_t>(index + 1);
      break;
    }
  }
  return index;
}

void HashCandidates::grow() {
  std::vector<uint32_t> slots(std::max<size_t>(64, slots_.size() * 2), 0);
  size_t mask = slots.size() - 1;
  for (size_t index = 0; index < paths_.size(); ++index) {
    size_t s = window_hash(hashes_.data() + index * window) & mask;
    while (slots[s] != 0) s = (s + 1) & mask;
    slots[s] = static_cast<uint32_t>(index + 1);
  }
  slots_ = std::move(slots);
}

size_t HashCandidates::find(const char* w) const {
  if (slots_.empty()) return npos;
  size_t mask = slots_.size() - 1;
  for (size_t s = window_hash(w) & mask;; s = (s + 1) & mask) {
    uint32_t slot = slots_[s];
    if (slot == 0) return npos;
    if (std::memcmp(hashes_.data() + (slot - 1) * window, w, window) == 0) return slot - 1;
  }
}

// --- ReferenceScanner ---

ReferenceScanner::ReferenceScanner(const HashCandidates& candidates)
    : candidates_(candidates), seen_(candidates.size(), 0) {}

// Every 32-byte window made only of base32 characters is looked up. Testing a window from
// its right end lets one byte outside the alphabet skip every window that contains it;
// bytes already known to be base32 are not tested again.
void ReferenceScanner::scan_block(const char* p, size_t n) {
  size_t i = 0;
  size_t known_good_end = 0; // [i, known_good_end) are base32 when known_good_end > i
  while (i + window <= n) {
    size_t end = i + window;
    size_t k = end;
    size_t stop = std::max(i, known_good_end);
    while (k > stop && base32_at(p, k - 1)) --k;
    known_good_end = end;
    if (k > stop) { // p[k-1] is not base32: no window containing it can match
      i = k;
      continue;
    }
    size_t index = candidates_.find(p + i);
    if (index != HashCandidates::npos && !seen_[index]) {
      seen_[index] = 1;
      found_.push_back(index);
    }
    ++i;
  }
}

void ReferenceScanner::feed(const char* data, size_t size) {
  if (candidates_.size() == 0 || size == 0) return;
  // A match may start in the last 31 bytes of the previous piece: scan that tail joined
  // to the head of this piece, then the piece itself.
  if (carry_size_ > 0) {
    char joint[2 * (window - 1)];
    size_t head = std::min(size, window - 1);
    std::memcpy(joint, carry_, carry_size_);
    std::memcpy(joint + carry_size_, data, head);
    scan_block(joint, carry_size_ + head);
  }
  scan_block(data, size);
  if (size >= window - 1) {
    std::memcpy(carry_, data + size - (window - 1), window - 1);
    carry_size_ = window - 1;
  } else {
    size_t keep = std::min(carry_size_, window - 1 - size);
    std::memmove(carry_, carry_ + carry_size_ - keep, keep);
    std::memcpy(carry_ + keep, data, size);
    carry_size_ = keep + size;
  }
}

void ReferenceScanner::end_stream() { carry_size_ = 0; }

void ReferenceScanner::scan(std::string_view bytes) {
  end_stream();
  if (candidates_.size() > 0) scan_block(bytes.data(), bytes.size());
}

std::vector<std::string> ReferenceScanner::found_paths() const {
  std::vector<std::string> out;
  for (size_t index : found_) out.push_back(candidates_.path(index));
  std::sort(out.begin(), out.end());
  return out;
}

void ReferenceScanner::clear() {
  for (size_t index : found_) seen_[index] = 0;
  found_.clear();
  carry_size_ = 0;
}

// --- trees and stores ---

void scan_tree(const std::string& disk_path, ReferenceScanner& scanner) {
  struct stat st;
  if (::lstat(disk_path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) fail_input("{} does not exist", disk_path);
    fail_errno("cannot stat " + disk_path);
  }
  std::vector<char> buffer(read_buffer_size);
  unsigned char type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
  scan_entry(disk_path, type, scanner, buffer);
}

StoreScanner::StoreScanner(StoreLocation location) : location_(std::move(location)) {
  location_.store_dir = normalize_store_dir(location_.store_dir);
  const std::string& disk = location_.disk_dir();
  if (!std::unique_ptr<DIR, DirCloser>(::opendir(disk.c_str())))
    fail_input("store dir {} cannot be read: {}", disk, std::strerror(errno));
  auto entries = list_dir(disk);
  std::sort(entries.begin(), entries.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  for (const auto& entry : entries) {
    if (!is_store_base_name(entry.name) || is_leftover_lock(disk + "/" + entry.name, entry.name)) continue;
    candidates_.add(location_.store_dir + "/" + entry.name, location_.store_dir);
  }
}

std::vector<std::string> StoreScanner::references_of_tree(const std::string& disk_path) const {
  ReferenceScanner scanner(candidates_);
  scan_tree(disk_path, scanner);
  return scanner.found_paths();
}

std::vector<std::string> StoreScanner::references_of_bytes(std::string_view bytes) const {
  ReferenceScanner scanner(candidates_);
  scanner.scan(bytes);
  return scanner.found_paths();
}

ClosureGraph StoreScanner::closure(const std::vector<std::string>& root_paths) const {
  const std::string& store_dir = location_.store_dir;
  std::vector<std::string> work;
  std::vector<uint8_t> queued(candidates_.size(), 0);
  for (const auto& root : root_paths) {
    StorePath parsed = parse_store_path(root, store_dir, "closure root");
    size_t index = candidates_.find(parsed.hash.data());
    if (index == HashCandidates::npos || candidates_.path(index) != parsed.path)
      fail_input("store path {} does not exist in {}", root, location_.disk_dir());
    if (!queued[index]) {
      queued[index] = 1;
      work.push_back(parsed.path);
    }
  }
  ReferenceScanner scanner(candidates_);
  std::vector<PathNode> nodes;
  while (!work.empty()) {
    PathNode node;
    node.path = std::move(work.back());
    work.pop_back();
    scanner.clear();
    scan_tree(location_.on_disk(node.path), scanner);
    for (size_t index : scanner.found_indices())
      if (!queued[index]) {
        queued[index] = 1;
        work.push_back(candidates_.path(index));
      }
    node.references = scanner.found_paths();
    nodes.push_back(std::move(node));
  }
  return ClosureGraph(std::move(nodes), store_dir, location_.disk_dir());
}

HashCandidates candidates_of(const ClosureGraph& graph) {
  HashCandidates candidates;
  for (const auto& node : graph.nodes()) candidates.add(node.path, graph.store_dir());
  return candidates;
}

std::vector<std::string> find_graph_references(const std::string& dir_or_file, const ClosureGraph& graph) {
  HashCandidates candidates = candidates_of(graph);
  ReferenceScanner scanner(candidates);
  scan_tree(dir_or_file, scanner);
  return scanner.found_paths();
}

ClosureGraph scan_closure(const StoreLocation& store, const std::vector<std::string>& root_paths) {
  return StoreScanner(store).closure(root_paths);
}

ClosureGraph scan_closure(std::string_view store_dir, const std::vector<std::string>& root_paths) {
  return scan_closure(StoreLocation{std::string(store_dir), ""}, root_paths);
}

std::vector<std::string> find_store_references(const std::string& dir_or_file, const StoreLocation& store) {
  return StoreScanner(store).references_of_tree(dir_or_file);
}

std::vector<std::string> find_store_references(const std::string& dir_or_file, std::string_view store_dir) {
  return find_store_references(dir_or_file, StoreLocation{std::string(store_dir), ""});
}

} // namespace strata::closure
