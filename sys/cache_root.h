// Where strata keeps its caches (unpacked base layers, the layer cache, registry blobs):
// $XDG_CACHE_HOME/strata when XDG_CACHE_HOME is an absolute path, else $HOME/.cache/strata,
// the first that exists or can be made and is writable; else $TMPDIR/strata-cache-<uid>
// (a dir of the caller's own, mode 0700). A Nix build has HOME=/homeless-shelter, which
// does not exist, and a TMPDIR of its own (the build dir): its caches live and die there.
#pragma once
#include <string>

namespace strata {

struct CacheRoot {
  std::string dir; // e.g. /home/me/.cache/strata
  std::string why; // how it was chosen, for -v: "$HOME/.cache", or why the others were not
};

// Chosen once per process (the dir is created then). Throws InputError when not even
// the TMPDIR fallback can be used.
const CacheRoot& cache_root();

} // namespace strata
