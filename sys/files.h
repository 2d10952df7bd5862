// Whole-file and whole-buffer I/O on fds, with errors that name the path.
#pragma once
#include "sys/fd.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace strata {

Fd open_or_fail(const std::string& path, int flags, mode_t mode = 0);
Fd openat_or_fail(int dirfd, const std::string& path, int flags, mode_t mode = 0);

void write_all(int fd, const void* data, size_t size, const std::string& what);
inline void write_all(int fd, std::string_view s, const std::string& what) { write_all(fd, s.data(), s.size(), what); }
// Reads up to size bytes; returns fewer only at end of file.
size_t read_full(int fd, void* data, size_t size, const std::string& what);

std::string read_file(const std::string& path);

// Opens a file the user gave (an image, a blob, a spec) for reading, refusing what would
// block or never end instead of hanging on it: InputError "<what> <path> …" when it is
// missing, unreadable, a directory, a device or a socket, or a FIFO unless allow_pipe
// (a spec or graph file may be `<(…)`: a pipe is read to its end). Never blocks in open.
Fd open_input_file(const std::string& path, const std::string& what, bool allow_pipe = false);
// The whole of such a file; InputError when it is longer than max_bytes.
std::string read_input_file(const std::string& path, const std::string& what, size_t max_bytes,
                            bool allow_pipe = false);
void write_file(const std::string& path, std::string_view contents, mode_t mode = 0644);

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
std::string absolute_path(const std::string& path);
// The path with every symlink resolved; InputError "<what> <path> cannot be resolved".
std::string resolved_path(const std::string& path, const std::string& what);
std::string dirname_of(const std::string& path);
// "." and ".." resolved lexically, clamped at the top, no leading or trailing "/":
// "a/./b/../c" -> "a/c", "/../x" -> "x", "a/.." -> "".
std::string lexically_normal_relative(const std::string& path);
// Where a symlink at link_path (relative to a root) with this target points, relative to
// the same root: an absolute target is taken from the root; never above it.
std::string link_target_path(const std::string& link_path, const std::string& target);
std::string basename_of(const std::string& path);
// Joins a relative path onto base; an absolute path is returned as is.
std::string resolve_against(const std::string& base_dir, const std::string& path);

// Puts a placeholder (an O_PATH fd of "/") on whichever of fds 0, 1, 2 the caller left
// closed, so that no file strata opens lands there (an image "written to stdout" into
// its own temp file) and every write to a closed stdout fails (EBADF) instead of vanishing.
void reserve_standard_fds();
// WorkError naming stdout unless fd 1 is open for writing: a caller that sends its
// result there checks before doing the work.
void require_writable_stdout();

void make_dirs(const std::string& path, mode_t mode = 0755);
// Removes a tree, making unreadable dirs writable first; missing is fine.
void remove_tree(const std::string& path);

} // namespace strata
