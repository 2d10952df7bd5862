// Nix store paths: `<storeDir>/<32-char nix-base32 hash>-<name>`. Parsing, validation,
// and mapping a file inside a store path to that store path. The store dir is a
// parameter everywhere (default /nix/store); a store may also live somewhere else on
// disk than the store dir its paths name (Nix's `local?root=R`), see StoreLocation.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace strata::closure {

inline constexpr std::string_view default_store_dir = "/nix/store";
// Length of the hash part of a store path's base name.
inline constexpr size_t hash_part_length = 32;
// Nix's longest accepted store path name (the part after "<hash>-").
inline constexpr size_t max_name_length = 211;

// Nix's base32 alphabet: digits and lower-case letters without e, o, u and t.
inline constexpr std::string_view nix_base32_alphabet = "0123456789abcdfghijklmnpqrsvwxyz";
// Which bytes are in that alphabet (inline: the reference scanner asks for every byte).
inline constexpr std::array<bool, 256> nix_base32_bytes = [] {
  std::array<bool, 256> table{};
  for (char c : nix_base32_alphabet) table[static_cast<unsigned char>(c)] = true;
  return table;
}();
inline bool is_nix_base32_char(char c) { return nix_base32_bytes[static_cast<unsigned char>(c)]; }

// A valid store path split into its parts.
struct StorePath {
  std::string path; // e.g. /nix/store/abc…-hello-2.1
  std::string hash; // the 32 characters after the store dir
  std::string name; // e.g. hello-2.1
};

// The store dir with trailing slashes removed; InputError unless absolute and not "/"
// (`what` names where the value came from, e.g. "--store-dir").
std::string normalize_store_dir(std::string_view store_dir, std::string_view what = "store dir");

// Whether `name` is acceptable after "<hash>-" (Nix's rules: 1..211 characters from
// [A-Za-z0-9+-._?=], not starting with '.').
bool is_valid_path_name(std::string_view name);
// Whether `base` (one path component) is `<32 base32 chars>-<valid name>`.
bool is_store_base_name(std::string_view base);

// Whether `path` is exactly a store path directly in store_dir (nothing after the name).
bool is_store_path(std::string_view path, std::string_view store_dir);
std::optional<StorePath> try_parse_store_path(std::string_view path, std::string_view store_dir);
// Like try_parse_store_path; InputError saying what is wrong, naming `what` (the file or
// option the path came from) when given.
StorePath parse_store_path(std::string_view path, std::string_view store_dir, std::string_view what = "");

// The store path a path lies in: the path itself when it is a store path, the store path
// it is inside otherwise (`/nix/store/abc…-foo/bin/x` -> `/nix/store/abc…-foo`). nullopt
// when the path is not under store_dir or its first component there is not a store path
// base name. The path is taken lexically: `..` components are not resolved.
std::optional<std::string> containing_store_path(std::string_view path, std::string_view store_dir);

// Where a path the user gave (a copyToRoot or contents entry) enters the store, as Nix's
// followLinksToStore finds it: the path made absolute and normalised lexically, then,
// while it is not in store_dir and is a symlink, replaced by the link's target (a
// relative one taken from the link's dir). So a store path that is itself a symlink to
// another stays that store path, and `./result` becomes the store path it names. A path
// that never reaches the store comes back with every symlink resolved (realpath).
// InputError "<what> <path> cannot be resolved" when it does not exist.
std::string follow_links_to_store(const std::string& path, std::string_view store_dir, const std::string& what);

// The hash part of a valid store path (no checks beyond the length).
std::string_view hash_part_of(std::string_view store_path, std::string_view store_dir);

// Where a store is on disk. Paths and file contents always name `store_dir` (the logical
// store dir, /nix/store by default); the entries are read from `real_dir`, which is
// `store_dir` itself for an ordinary store and `<root><store_dir>` for a store made with
// Nix's `--store local?root=<root>`.
struct StoreLocation {
  std::string store_dir = std::string(default_store_dir);
  std::string real_dir; // empty: same as store_dir

  // store_dir normalised; real_dir = root + store_dir (root empty: the store dir itself).
  static StoreLocation with_root(std::string_view store_dir, std::string_view root);
  const std::string& disk_dir() const { return real_dir.empty() ? store_dir : real_dir; }
  // The on-disk path of a logical store path (or of a file inside one).
  std::string on_disk(std::string_view store_path) const;
};

} // namespace strata::closure
