// Copying a tree natively, as `cp -a --no-preserve=ownership` does, with no program of
// the host's (a Nix build has no cp but the one its PATH names, if any).
//
// Kept: directories (merged into existing ones), regular files with their holes (a
// sparse file stays sparse: only its data ranges are copied), symlinks as symlinks, hard
// links within the copy as hard links, fifos; permission bits (setuid and setgid too),
// mtimes. Not kept: owners (the copy is the caller's), xattrs (a layer made from the
// source tree has none either). Devices and sockets are refused, naming the file.
//
// What is in the way of a copied entry is replaced: a file, a symlink or a fifo by
// anything, an empty or full directory only by a directory (merged); a non-directory
// onto a directory is an InputError naming both. Nothing is followed in the target: a
// symlink there is replaced, never written through.
#pragma once
#include <cstdint>
#include <string>

namespace strata {

struct CopyStats {
  uint64_t files = 0, directories = 0, symlinks = 0, hardlinks = 0, fifos = 0;
  uint64_t bytes = 0; // data bytes copied (holes not counted)
};

// Copies the contents of directory `from` into the existing directory `to`.
CopyStats copy_tree_contents(const std::string& from, const std::string& to);

// A directory's contents into dir (as `cp -a FROM/. DIR/`), else the file itself as
// dir/<its name>.
CopyStats copy_into(const std::string& path, const std::string& dir);

} // namespace strata
