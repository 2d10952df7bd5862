# Sourced by nix_*.sh e2e tests: Debian's nix-bin isolated in a temp dir, and helpers.
# Needs $tmp (the test's temp dir, removed by the test's trap).

command -v nix-store >/dev/null || { echo "FAIL: nix-store (Debian nix-bin) is not installed"; exit 1; }
command -v nix-instantiate >/dev/null || { echo "FAIL: nix-instantiate (nix-bin) is not installed"; exit 1; }
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 is not installed"; exit 1; }

# No daemon, no host config, no state outside $tmp.
export NIX_STATE_DIR=$tmp/nix-env/state NIX_LOG_DIR=$tmp/nix-env/log NIX_CONF_DIR=$tmp/nix-env/conf
export HOME=$tmp/nix-env/home XDG_CACHE_HOME=$tmp/nix-env/home/.cache
unset NIX_REMOTE
mkdir -p "$NIX_STATE_DIR" "$NIX_LOG_DIR" "$NIX_CONF_DIR" "$HOME"
# As root, Nix builds as the nixbld group's users, and warns at every call when the
# machine has none: this store never builds.
printf 'build-users-group =\n' >"$NIX_CONF_DIR/nix.conf"

# Store paths are read-only once Nix has them: make everything removable.
nix_env_cleanup() { chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"; }

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

# nix_store ROOT ARGS...: nix-store against the store under ROOT.
nix_store() { local root=$1; shift; nix-store --store "local?root=$root" "$@"; }

# A store path name with a made-up but well-formed hash part: fake_store_path NAME.
fake_store_path() {
  local sha1; sha1=$(printf %s "$1" | sha1sum | cut -c1-40)
  echo "/nix/store/$(nix-hash --type sha1 --to-base32 "$sha1")-$1"
}
