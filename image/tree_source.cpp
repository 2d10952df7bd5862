#include "image/tree_source.h"

#include "sys/error.h"
#include "sys/files.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <set>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace strata {
namespace {

// The skeleton of mapped paths: which host paths are mapped at or below each layer path.
struct MapNode {
  std::map<std::string, MapNode> children;
  std::vector<std::string> hosts;
};

// The trees strata copies are the user's input: what cannot be read there is bad input
// (exit 2), not failed work.
[[noreturn]] void fail_reading(const char* action, const std::string& path) {
  int err = errno;
  if (err == EACCES || err == EPERM || err == ELOOP || err == ENAMETOOLONG || err == ENOTDIR)
    fail_input("{} {}: {}", action, path, std::strerror(err));
  fail_errno(fmt::format("{} {}", action, path), err);
}

struct Source {
  std::string host_path;
  struct stat st;
};

class Walker {
public:
  // A planning walker visits nothing and reads no file: it only finds where
  // keep_dirlinks sends a directory through a link (redirects()).
  Walker(const TreeOptions& options, const EntryVisitor& visit, bool planning = false)
      : options_(options), visit_(visit), planning_(planning) {}

  const std::vector<TreeMapping>& redirects() const { return redirects_; }

  void walk_dir(const MapNode* node, const std::string& layer_dir, const std::vector<std::string>& host_dirs) {
    std::set<std::string> names;
    for (const auto& dir : host_dirs) list_dir(dir, names);
    if (node)
      for (const auto& [name, child] : node->children) names.insert(name);

    for (const auto& name : names) {
      std::string layer_path = layer_dir.empty() ? name : layer_dir + "/" + name;
      std::vector<Source> sources;
      for (const auto& dir : host_dirs) add_source(dir + "/" + name, sources);
      const MapNode* child_node = nullptr;
      if (node) {
        auto it = node->children.find(name);
        if (it != node->children.end()) {
          child_node = &it->second;
          for (const auto& host : child_node->hosts) add_source(host, sources);
        }
      }
      visit_path(child_node, layer_path, sources);
    }
  }

  TreeStats stats;

private:
  static void list_dir(const std::string& dir, std::set<std::string>& names) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) fail_reading("cannot read directory", dir);
    std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") names.emplace(n);
    }
  }

  static void add_source(const std::string& host, std::vector<Source>& sources) {
    Source s{host, {}};
    if (::lstat(host.c_str(), &s.st) < 0) {
      if (errno == ENOENT) return;
      fail_reading("cannot stat", host);
    }
    sources.push_back(std::move(s));
  }

  void visit_path(const MapNode* node, const std::string& layer_path, std::vector<Source>& sources) {
    // The winner is the last source; directories merge with the directories before them.
    if (!sources.empty() && !S_ISDIR(sources.back().st.st_mode)) {
      emit_host(layer_path, sources.back());
      return;
    }
    size_t first_dir = sources.size();
    while (first_dir > 0 && S_ISDIR(sources[first_dir - 1].st.st_mode)) --first_dir;
    if (options_.keep_dirlinks && first_dir > 0 && S_ISLNK(sources[first_dir - 1].st.st_mode) &&
        is_directory(sources[first_dir - 1].host_path)) {
      // rsync --keep-dirlinks: the link stays and the later directories' contents go where
      // it points. The planning walk records that as mappings at the link's target.
      const Source& link = sources[first_dir - 1];
      if (planning_) {
        std::string target = link_target_in_layer(layer_path, link.host_path);
        for (size_t i = first_dir; i < sources.size(); ++i) redirects_.push_back({sources[i].host_path, target});
        return;
      }
      emit_host(layer_path, link);
      return;
    }
    std::vector<std::string> dirs;
    for (size_t i = first_dir; i < sources.size(); ++i) dirs.push_back(sources[i].host_path);

    LayerEntry e = base_entry(layer_path);
    e.type = EntryType::Directory;
    if (dirs.empty()) {
      e.mode = options_.synthesized_dir_mode;
    } else {
      const struct stat& st = sources.back().st;
      e.mode = st.st_mode & 07777;
      if (!options_.owner) set_disk_owner(e, st);
    }
    emit(e);
    walk_dir(node, layer_path, dirs);
  }

  LayerEntry base_entry(const std::string& layer_path) const {
    LayerEntry e;
    e.path = layer_path;
    e.mtime = options_.mtime;
    if (options_.owner) e.owner = *options_.owner;
    return e;
  }

  static void set_disk_owner(LayerEntry& e, const struct stat& st) {
    e.owner = Owner{st.st_uid, st.st_gid, "", ""};
  }

  // Where a link at layer_path points, as a layer path ("" for the root).
  static std::string link_target_in_layer(const std::string& layer_path, const std::string& host_link) {
    char buf[4096];
    ssize_t n = ::readlink(host_link.c_str(), buf, sizeof buf);
    if (n < 0) fail_reading("cannot read link", host_link);
    return link_target_path(layer_path, std::string(buf, static_cast<size_t>(n)));
  }

  void emit_host(const std::string& layer_path, const Source& source) {
    if (planning_) return;
    const struct stat& st = source.st;
    LayerEntry e = base_entry(layer_path);
    e.mode = st.st_mode & 07777;
    if (!options_.owner) set_disk_owner(e, st);
    Fd content;
    switch (st.st_mode & S_IFMT) {
    case S_IFREG: {
      if (st.st_nlink > 1) {
        auto [it, inserted] = hardlinks_.try_emplace({st.st_dev, st.st_ino}, layer_path);
        if (!inserted) {
          e.type = EntryType::Hardlink;
          e.link_target = it->second;
          emit(e);
          return;
        }
      }
      e.type = EntryType::File;
      e.size = static_cast<uint64_t>(st.st_size);
      if (e.size > 0) {
        int fd = ::open(source.host_path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) fail_reading("cannot read", source.host_path);
        content.reset(fd);
        e.content_fd = content.get();
      }
      stats.file_bytes += e.size;
      break;
    }
    case S_IFLNK: {
      e.type = EntryType::Symlink;
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(source.host_path.c_str(), target.data(), target.size());
      if (n < 0) fail_reading("cannot read link", source.host_path);
      target.resize(static_cast<size_t>(n));
      e.link_target = std::move(target);
      e.mode = 0777;
      break;
    }
    case S_IFCHR:
    case S_IFBLK:
      e.type = S_ISCHR(st.st_mode) ? EntryType::CharDevice : EntryType::BlockDevice;
      e.dev_major = major(st.st_rdev);
      e.dev_minor = minor(st.st_rdev);
      break;
    case S_IFIFO: e.type = EntryType::Fifo; break;
    default: return; // sockets have no place in a layer
    }
    emit(e);
  }

  void emit(LayerEntry& e) {
    if (planning_) return;
    if (options_.exclude && options_.exclude(e.path)) return;
    ++stats.entries;
    visit_(e);
  }

  const TreeOptions& options_;
  const EntryVisitor& visit_;
  bool planning_;
  std::vector<TreeMapping> redirects_;
  std::map<std::pair<dev_t, ino_t>, std::string> hardlinks_;
};

void insert_mapping(MapNode& root, const TreeMapping& m) {
  MapNode* node = &root;
  std::string_view rest = m.layer_path;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string part(rest.substr(0, slash));
    if (part.empty() || part == "." || part == "..") fail_input("invalid layer path '{}'", m.layer_path);
    node = &node->children[part];
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  }
  if (!m.host_path.empty()) node->hosts.push_back(m.host_path);
}

} // namespace

TreeStats walk_trees(const std::vector<TreeMapping>& mappings, const TreeOptions& options, const EntryVisitor& visit) {
  MapNode root;
  for (const auto& m : mappings) insert_mapping(root, m);
  auto root_dirs = [&] {
    std::vector<std::string> dirs;
    for (const auto& host : root.hosts) {
      if (!is_directory(host)) fail_input("{} is mapped at the layer root but is not a directory", host);
      dirs.push_back(host);
    }
    return dirs;
  };
  if (options.keep_dirlinks) {
    Walker planner(options, visit, true);
    planner.walk_dir(&root, "", root_dirs());
    for (const auto& r : planner.redirects()) insert_mapping(root, r);
  }
  Walker walker(options, visit);
  walker.walk_dir(&root, "", root_dirs());
  return walker.stats;
}

} // namespace strata
