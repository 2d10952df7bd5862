// The customisation layer's tree, as streamLayeredImage makes it with symlinkJoin:
// contents that are store paths are joined (directories real, everything else a link
// into the store, the first content winning), other contents are copied.
#pragma once
#include <string>
#include <vector>

namespace strata {

void lay_out_customisation(const std::vector<std::string>& contents, const std::string& store_dir,
                           const std::string& dir);

// Copies a file or a directory's contents into dir as `cp -a` does, natively
// (sys/copy_tree.h: modes, links, holes and times kept; owned by the caller), and leaves
// dir writable (0755) for what runs next in it.
void copy_contents_into(const std::string& path, const std::string& dir);

// Runs a shell script with `sh -e` in dir as the calling user, umask 022.
// `what` names it in errors ("extraCommands").
void run_script_in(const std::string& script, const std::string& dir, const std::string& what);

} // namespace strata
