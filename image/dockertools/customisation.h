// The customisation layer's tree, as streamLayeredImage makes it with symlinkJoin:
// contents that are store paths are joined (directories real, everything else a link
// into the store, the first content winning), other contents are copied.
#pragma once
#include "image/dockertools/root_script.h"
#include "image/spec.h"

#include <string>
#include <vector>

namespace strata {

void lay_out_customisation(const std::vector<std::string>& contents, const std::string& store_dir,
                           const std::string& dir);

// Copies a file or a directory's contents into dir as `cp -a` does, natively
// (sys/copy_tree.h: modes, links, holes and times kept; owned by the caller), and leaves
// dir writable (0755) for what runs next in it.
void copy_contents_into(const std::string& path, const std::string& dir);

// Runs spec.extra_commands in dir (the layer's root), confined: in the sandbox as the
// calling user, dir its cwd and the only writable path, the store read-only, umask 022
// (RootScriptRequest::as_caller). A failing script is failed work naming its status; no
// runner is an InputError.
void run_extra_commands(RootScriptRunner* runner, const Spec& spec, const std::string& dir);

} // namespace strata
