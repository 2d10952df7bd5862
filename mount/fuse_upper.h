// An upper dir made ready for fuse-overlayfs. With xattr_permissions=2, fuse-overlayfs
// 1.10 reads every owner and mode of the upper dir from user.fuseoverlayfs.override_stat
// and answers ENODATA ("No data available") for a dir or file without it, so a tree put
// in the upper dir beforehand (copyToRoot under runAsRoot) could not even be listed, nor
// its /bin/sh run. Later versions prefer user.containers.override_stat and fall back to
// this name, so recording it suits them too.
#pragma once
#include <cstdint>
#include <string>

namespace strata::mount {

// Gives every dir and regular file under upper (upper too) that has no
// user.fuseoverlayfs.override_stat one: the owner and mode its
// user.containers.override_stat records, else those on disk (in the ids stat() shows
// where this runs: inside the sandbox's user namespace, as fuse-overlayfs sees them).
// Symlinks, devices, fifos and sockets cannot carry user xattrs and are left alone (fuse-
// overlayfs reads them from the disk). Returns how many entries it marked; WorkError
// when an xattr cannot be written.
uint64_t record_upper_for_fuse(const std::string& upper);

} // namespace strata::mount
