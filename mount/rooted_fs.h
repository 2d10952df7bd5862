// File operations confined to one directory tree, "the root": paths are resolved as if
// the root were "/" (openat2 with RESOLVE_IN_ROOT), so "..", absolute symlinks and
// magic links never lead out of it, and entries are made with *at() calls relative to
// fds obtained that way.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace strata::mount {

// The components of a tar member name: leading "/" and "./" dropped, empty and "."
// components skipped ("" names the root: an empty vector). Throws InputError
// "<what>: a '..' path component is not allowed" for a ".." component.
std::vector<std::string> split_member_name(std::string_view name, std::string_view what);
// The first `count` components joined with "/".
std::string join_components(const std::vector<std::string>& components, size_t count);

// openat2(root_fd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS).
// Returns the fd, or -1 with errno set. An empty path opens the root itself.
int open_in_root(int root_fd, const std::string& path, int flags);

// The names in the directory dir_fd refers to (without "." and ".."); dir_fd stays open.
std::vector<std::string> list_names_at(int dir_fd, const std::string& what);

// Removes `name` in dir_fd, with everything under it when it is a directory (made
// writable where needed); never follows a symlink. Missing is fine. `what` names the
// path in errors.
void remove_tree_at(int dir_fd, const std::string& name, const std::string& what);

} // namespace strata::mount
