// nix2container's `perms` spec key: permissions and owners given to the files of a
// copyToRoot entry, set in the layer whatever the build could set on disk. Inside a Nix
// build a script's `chmod u+s` cannot succeed (Nix's seccomp filter refuses setuid and
// setgid modes): `perms` is how such bits reach an image there, and it works everywhere.
//
//   "perms": [{"path": "/nix/store/…-sudo", "regex": "/bin/sudo$", "mode": "4755",
//              "uid": 0, "gid": 0, "uname": "root", "gname": "root"}]
//
// For every entry of the layer made from copyToRoot that the copyToRoot entry `path`
// holds (the same relative path exists under it) and whose source path (under `path`:
// "/nix/store/…-sudo/bin/sudo", what nix2container matches) or path in the image
// ("/bin/sudo") contains a match of `regex` (ECMAScript syntax, searched as Go's
// regexp.MatchString does), the layer gets `mode` (octal permission bits, 0..7777,
// replacing the file's), then `orMode`'s bits added, and the owner fields given. All but
// `path` and `regex` are optional; rules apply in list order. Symlinks keep mode 0777.
#pragma once
#include "image/layer_entry.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace strata {

struct PermRule {
  std::string path;  // a copyToRoot entry (absolute, as resolved)
  bool is_file = false; // not a dir: it lands as /<its name>
  std::string regex; // as given, for messages
  std::shared_ptr<const std::regex> pattern;
  std::optional<uint32_t> mode, or_mode, uid, gid;
  std::optional<std::string> uname, gname;
};

// Parses the `perms` value; `resolve` turns a path as given into the absolute one the
// spec uses. InputError naming the rule and the field for anything malformed.
std::vector<PermRule> parse_perms(const nlohmann::json& value, const std::string& what,
                                  const std::function<std::string(const std::string&)>& resolve);

// InputError when a rule's path is none of the copyToRoot entries.
void check_perm_paths(const std::vector<PermRule>& rules, const std::vector<std::string>& copy_to_root,
                      const std::string& what);

// A visitor that applies the rules to each entry, then calls visit.
EntryVisitor apply_perms(const std::vector<PermRule>& rules, const EntryVisitor& visit);

} // namespace strata
