#include "image/dockertools/base_paths.h"

#include "image/layer_reader.h"
#include "image/tar_index.h"

#include <archive_entry.h>

namespace strata {
namespace {

void erase_subtree(std::set<std::string>& paths, const std::string& dir, bool keep_dir) {
  if (!keep_dir) paths.erase(dir);
  std::string prefix = dir.empty() ? "" : dir + "/";
  for (auto it = paths.lower_bound(prefix); it != paths.end() && it->compare(0, prefix.size(), prefix) == 0;)
    it = paths.erase(it);
}

} // namespace

namespace {

bool at_or_above(const std::string& path, const std::string& store_prefix) {
  return path == store_prefix || (store_prefix.compare(0, path.size(), path) == 0 && store_prefix[path.size()] == '/');
}

bool below(const std::string& path, const std::string& store_prefix) {
  return path.size() > store_prefix.size() && path.compare(0, store_prefix.size(), store_prefix) == 0 &&
         path[store_prefix.size()] == '/';
}

} // namespace

std::set<std::string> base_store_paths(const ImageSource& base, const std::string& store_prefix,
                                       const std::set<std::string>& also) {
  std::set<std::string> paths;
  for (size_t i = 0; i < base.layers().size(); ++i) {
    read_layer_entries(base, i, [&](archive*, archive_entry* e) {
      std::string path = normalise_member_name(archive_entry_pathname(e));
      auto slash = path.rfind('/');
      std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
      std::string base_name = slash == std::string::npos ? path : path.substr(slash + 1);
      if (base_name == ".wh..wh..opq") {
        erase_subtree(paths, dir, true);
      } else if (base_name.rfind(".wh.", 0) == 0) {
        erase_subtree(paths, (dir.empty() ? "" : dir + "/") + base_name.substr(4), false);
      } else if (!path.empty() && (at_or_above(path, store_prefix) || below(path, store_prefix) || also.count(path))) {
        paths.insert(path);
      }
    });
  }
  return paths;
}

bool base_has_store_entry(const std::set<std::string>& base_paths, const std::string& store_prefix,
                          const std::string& layer_path) {
  if (below(layer_path, store_prefix)) return base_paths.count(layer_path) > 0;
  if (at_or_above(layer_path, store_prefix)) return base_paths.count(store_prefix) > 0 && base_paths.count(layer_path) > 0;
  return false; // what copyToRoot and the scripts made is kept whatever the base has
}

} // namespace strata
