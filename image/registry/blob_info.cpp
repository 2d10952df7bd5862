#include "image/registry/blob_info.h"

#include "image/digest.h"
#include "sys/cache_root.h"
#include "sys/error.h"
#include "sys/files.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::registry {
namespace {

// "127.0.0.1:5000" -> a file name: anything but [A-Za-z0-9.-] becomes _XX.
std::string file_name_of(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '-') out += static_cast<char>(c);
    else out += fmt::format("_{:02x}", c);
  }
  return out;
}

void write_atomically(const std::string& path, const std::string& text) {
  try {
    make_dirs(dirname_of(path), 0700);
    std::string temp = path + fmt::format(".tmp{}", ::getpid());
    write_file(temp, text, 0600);
    if (::rename(temp.c_str(), path.c_str()) < 0) ::unlink(temp.c_str());
  } catch (const Error&) {
    // the record only saves work
  }
}

std::string read_or_empty(const std::string& path) {
  try {
    return path_exists(path) ? read_file(path) : "";
  } catch (const Error&) {
    return "";
  }
}

} // namespace

std::string BlobInfo::default_dir() {
  try {
    return cache_root().dir + "/registry";
  } catch (const Error&) {
    return "";
  }
}

BlobInfo::BlobInfo(std::string dir) : dir_(dir.empty() ? default_dir() : std::move(dir)) {
  if (dir_.empty()) return;
  try {
    make_dirs(dir_ + "/blobs/sha256", 0700);
    if (::access(dir_.c_str(), W_OK) != 0) dir_.clear();
  } catch (const Error&) {
    dir_.clear();
  }
}

std::vector<std::string> BlobInfo::repositories_with(const std::string& registry, const std::string& digest) const {
  std::vector<std::string> repos;
  if (!enabled() || !is_sha256_digest(digest)) return repos;
  std::istringstream lines(read_or_empty(dir_ + "/locations/" + file_name_of(registry) + "/" + digest_hex(digest)));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) repos.push_back(line);
  return repos;
}

void BlobInfo::remember_location(const std::string& registry, const std::string& repo, const std::string& digest) const {
  if (!enabled() || !is_sha256_digest(digest)) return;
  std::vector<std::string> repos = repositories_with(registry, digest);
  if (std::find(repos.begin(), repos.end(), repo) != repos.end()) return;
  repos.insert(repos.begin(), repo); // the newest first
  if (repos.size() > 16) repos.resize(16);
  std::string text;
  for (const auto& r : repos) text += r + "\n";
  write_atomically(dir_ + "/locations/" + file_name_of(registry) + "/" + digest_hex(digest), text);
}

std::optional<BlobInfo::Compressed> BlobInfo::compressed(const std::string& diff_id, const std::string& compression) const {
  if (!enabled() || !is_sha256_digest(diff_id)) return std::nullopt;
  std::istringstream in(read_or_empty(dir_ + "/compressed/" + digest_hex(diff_id) + "." + compression));
  Compressed c;
  if (!(in >> c.digest >> c.size) || !is_sha256_digest(c.digest)) return std::nullopt;
  return c;
}

void BlobInfo::remember_compressed(const std::string& diff_id, const std::string& compression, const Compressed& c) const {
  if (!enabled() || !is_sha256_digest(diff_id)) return;
  write_atomically(dir_ + "/compressed/" + digest_hex(diff_id) + "." + compression, fmt::format("{} {}\n", c.digest, c.size));
}

std::optional<std::string> BlobInfo::cached_blob(const std::string& digest, uint64_t size) const {
  if (!enabled() || !is_sha256_digest(digest)) return std::nullopt;
  std::string path = blob_dir() + "/" + digest_hex(digest);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  if (size != 0 && static_cast<uint64_t>(st.st_size) != size) return std::nullopt;
  return path;
}

std::string BlobInfo::blob_dir() const { return dir_ + "/blobs/sha256"; }

} // namespace strata::registry
