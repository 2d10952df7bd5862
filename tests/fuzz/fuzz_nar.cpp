// The NAR serialiser (image/nix/nar): a tree of files, executables, symlinks and
// directories with any names the input spells is made on disk, archived, and the NAR
// parsed back by an independent reader here: it must be well formed (tokens, padding,
// entries in strictly ascending byte order) and hold exactly the tree on disk, and
// nar_hash must agree with it.
#include "fuzz_support.h"
#include "image/nix/nar.h"
#include "image/sink.h"

#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <map>
#include <sys/stat.h>

namespace {

using strata::Fd;

[[noreturn]] void broken(const char* why) {
  std::fprintf(stderr, "NAR check failed: %s\n", why);
  std::abort();
}

// What the tree holds: path -> "f:<contents>", "x:<contents>", "l:<target>" or "d".
using Listing = std::map<std::string, std::string>;

// The input as operations: 0 file, 1 executable, 2 symlink, 3 enter a new directory,
// 4 leave it; each but 4 followed by a name (length byte, bytes) and all but 3 and 4 by
// a payload (length byte, bytes). Names the kernel refuses are skipped.
void make_tree(std::string_view in, const std::string& root) {
  std::vector<Fd> dirs;
  dirs.emplace_back(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  size_t pos = 0;
  auto take = [&](size_t n) {
    std::string_view s = in.substr(pos, std::min(n, in.size() - pos));
    pos += s.size();
    return std::string(s);
  };
  while (pos < in.size() && dirs.size() < 32) {
    unsigned op = static_cast<unsigned char>(in[pos++]) % 5;
    if (op == 4) {
      if (dirs.size() > 1) dirs.pop_back();
      continue;
    }
    std::string name = take(pos < in.size() ? static_cast<unsigned char>(in[pos++]) : 0);
    if (name.empty() || name == "." || name == ".." || name.find_first_of(std::string("/\0", 2)) != std::string::npos)
      continue;
    int at = dirs.back().get();
    if (op == 3) {
      if (::mkdirat(at, name.c_str(), 0755) == 0)
        dirs.emplace_back(::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      continue;
    }
    std::string payload = take(pos < in.size() ? static_cast<unsigned char>(in[pos++]) : 0);
    if (op == 2) {
      if (payload.empty() || payload.find('\0') != std::string::npos) continue;
      (void)::symlinkat(payload.c_str(), at, name.c_str());
      continue;
    }
    Fd file(::openat(at, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, op == 1 ? 0755 : 0644));
    if (file) strata::write_all(file.get(), payload, name);
  }
}

void list_disk(const std::string& path, const std::string& shown, Listing& out) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) broken("lstat");
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size), '\0');
    if (::readlink(path.c_str(), target.data(), target.size()) != st.st_size) broken("readlink");
    out[shown] = "l:" + target;
  } else if (S_ISREG(st.st_mode)) {
    out[shown] = std::string(st.st_mode & S_IXUSR ? "x:" : "f:") + strata::read_file(path);
  } else if (S_ISDIR(st.st_mode)) {
    out[shown] = "d";
    DIR* d = ::opendir(path.c_str());
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        list_disk(path + "/" + e->d_name, shown + "/" + e->d_name, out);
    ::closedir(d);
  }
}

class NarReader {
public:
  explicit NarReader(std::string_view nar) : nar_(nar) {}
  void archive(Listing& out) {
    expect("nix-archive-1");
    node("", out);
    if (pos_ != nar_.size()) broken("bytes after the root node");
  }

private:
  std::string str() {
    if (nar_.size() - pos_ < 8) broken("truncated length");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(nar_[pos_ + i]);
    pos_ += 8;
    if (n > nar_.size() - pos_) broken("truncated string");
    std::string s(nar_.substr(pos_, n));
    pos_ += n;
    size_t pad = (8 - n % 8) % 8;
    if (nar_.size() - pos_ < pad) broken("truncated padding");
    for (size_t i = 0; i < pad; ++i)
      if (nar_[pos_ + i] != '\0') broken("padding is not zero");
    pos_ += pad;
    return s;
  }
  void expect(std::string_view token) {
    if (str() != token) broken("unexpected token");
  }
  void node(const std::string& shown, Listing& out) {
    expect("(");
    expect("type");
    std::string type = str();
    if (type == "regular") {
      std::string next = str();
      bool executable = next == "executable";
      if (executable) {
        expect("");
        next = str();
      }
      if (next != "contents") broken("no contents");
      out[shown] = (executable ? "x:" : "f:") + str();
    } else if (type == "symlink") {
      expect("target");
      out[shown] = "l:" + str();
    } else if (type == "directory") {
      out[shown] = "d";
      std::string previous;
      bool first = true;
      for (std::string next = str(); next != ")"; next = str()) {
        if (next != "entry") broken("expected an entry");
        expect("(");
        expect("name");
        std::string name = str();
        if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) broken("bad name");
        if (!first && !(previous < name)) broken("entries not in ascending order");
        previous = name;
        first = false;
        expect("node");
        node(shown + "/" + name, out);
        expect(")");
      }
      return; // the directory's ")" was read by the loop
    } else {
      broken("unknown type");
    }
    expect(")");
  }

  std::string_view nar_;
  size_t pos_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  strata::TempDir dir("strata-fuzz-nar", strata::fuzz::scratch_parent());
  std::string root = dir.path() + "/root";
  if (::mkdir(root.c_str(), 0755) < 0) broken("mkdir");
  make_tree(strata::fuzz::as_text(data, size), root);
  strata::StringSink sink;
  strata::nix::dump_nar(root, sink);
  Listing from_nar, on_disk;
  NarReader(sink.data()).archive(from_nar);
  list_disk(root, "", on_disk);
  if (from_nar != on_disk) broken("the NAR does not hold the tree");
  strata::nix::NarHash hash = strata::nix::nar_hash(root);
  if (hash.size != sink.data().size()) broken("nar_hash's size differs from the NAR's");
  strata::Hasher hasher;
  hasher.update(sink.data());
  if (hasher.finish() != hash.sha256) broken("nar_hash differs from the NAR's hash");
  return 0;
}
