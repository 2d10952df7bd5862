# Sourced by tests that run strata inside Nix's build sandbox, as a Nix user would:
# Debian's nix-bin with its config, state and a chroot store under a temp dir,
# `sandbox = true`, the default `filter-syscalls` (setuid chmod and xattr writes refused),
# derivations whose builder is busybox's sh with PATH = the busybox store path only.
#
#   nix_sandbox_init DIR [USER] [STORE-DIR]
#                                 an isolated Nix in DIR (made if missing, owned by USER,
#                                 default root); every Nix command then runs as USER, with
#                                 its own chroot store DIR/root whose logical dir is
#                                 STORE-DIR (default /nix/store; nix-bin 2.8 keeps the
#                                 files in DIR/root/nix/store whatever it is). Give an existing empty dir as
#                                 STORE-DIR to run strata outside Nix on the same paths too
#                                 (nix_sandbox_outside)
#   nix_sandbox_add_tools [STRATA] puts busybox, strata (default $STRATA) and the glibc it
#                                 needs into the store: sets NIX_BUSYBOX, NIX_GLIBC,
#                                 NIX_STRATA (a store dir; the binary is $NIX_STRATA/bin/strata)
#                                 and writes DIR/tools.nix, { busybox, glibc, strata } with
#                                 their string context, for expressions to import
#   nix_sandbox_add PATH          nix-store --add: prints the store path
#   nix_sandbox_real STORE-PATH   where a store path lives on the host: DIR/root/nix/store/NAME
#   nix_sandbox_nix CMD ARGS…     runs a Nix command (nix-build, nix-store…) against the
#                                 store, as USER
#   nix_sandbox_build FILE.nix [ARGS…]
#                                 nix-build FILE.nix: prints the output's host path; the
#                                 build log is in $NIX_SANDBOX_LOG; exits non-zero on failure
#   nix_sandbox_run NAME SCRIPT [STORE-PATH…]
#                                 builds a derivation NAME whose builder runs SCRIPT with
#                                 `sh -e` in the sandbox (cwd $NIX_BUILD_TOP, PATH the busybox
#                                 store path only, $strata the strata binary, $out the output);
#                                 the STORE-PATHs are its inputs (visible inside), also as
#                                 $input1, $input2…; prints the output's host path
#
# Needs nix-bin, patchelf and busybox-static (scripts/setup installs them). The caller
# removes DIR (store paths are read-only: chmod -R u+w first, nix_sandbox_cleanup does).

nix_sandbox_require() {
  local tool
  for tool in nix-build nix-store patchelf; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup installs it)" >&2; return 1; }
  done
  [ -x /bin/busybox ] || { echo "FAIL: /bin/busybox (busybox-static) is missing" >&2; return 1; }
}

nix_sandbox_init() {
  nix_sandbox_require || exit 1
  NIX_SANDBOX_DIR=$1
  NIX_SANDBOX_USER=${2:-root}
  NIX_SANDBOX_STORE_DIR=${3:-/nix/store}
  NIX_SANDBOX_STORE="local?root=$NIX_SANDBOX_DIR/root"
  NIX_SANDBOX_LOG=$NIX_SANDBOX_DIR/last-build.log
  mkdir -p "$NIX_SANDBOX_DIR"/{conf,state,log,home,root,work}
  # Nix as root builds as the nixbld group's users: none here (the builder is then uid 1000
  # in a user namespace of its own, as for an unprivileged caller).
  cat >"$NIX_SANDBOX_DIR/conf/nix.conf" <<EOF
build-users-group =
sandbox = true
sandbox-paths = /bin/sh=/bin/busybox
substituters =
EOF
  if [ "$NIX_SANDBOX_USER" != root ]; then
    chown -R "$NIX_SANDBOX_USER:" "$NIX_SANDBOX_DIR"
    # The user must reach DIR: every parent needs x for others.
    local parent=$NIX_SANDBOX_DIR
    while parent=$(dirname "$parent") && [ "$parent" != / ]; do chmod o+x "$parent"; done
  fi
}

nix_sandbox_nix() {
  local env=(NIX_STATE_DIR="$NIX_SANDBOX_DIR/state" NIX_LOG_DIR="$NIX_SANDBOX_DIR/log"
    NIX_CONF_DIR="$NIX_SANDBOX_DIR/conf" HOME="$NIX_SANDBOX_DIR/home" NIX_REMOTE= TMPDIR="$NIX_SANDBOX_DIR/work"
    NIX_STORE_DIR="$NIX_SANDBOX_STORE_DIR")
  local cmd=$1
  shift
  if [ "$NIX_SANDBOX_USER" = root ]; then
    env "${env[@]}" "$cmd" --store "$NIX_SANDBOX_STORE" "$@"
  else
    runuser -u "$NIX_SANDBOX_USER" -- env "${env[@]}" "$cmd" --store "$NIX_SANDBOX_STORE" "$@"
  fi
}

nix_sandbox_add() {
  # The user must be able to read what it adds.
  [ "$NIX_SANDBOX_USER" = root ] || chmod -R a+rX "$1"
  nix_sandbox_nix nix-store --add "$1"
}

nix_sandbox_real() { echo "$NIX_SANDBOX_DIR/root/nix/store/${1##*/}"; }

nix_sandbox_add_tools() {
  local strata=${1:-$STRATA} staging=$NIX_SANDBOX_DIR/staging lib
  rm -rf "$staging"
  mkdir -p "$staging/busybox/bin" "$staging/glibc" "$staging/strata/bin"
  cp /bin/busybox "$staging/busybox/bin/busybox"
  (cd "$staging/busybox/bin" && for applet in $(./busybox --list); do [ -e "$applet" ] || ln -s busybox "$applet"; done)
  NIX_BUSYBOX=$(nix_sandbox_add "$staging/busybox")
  # strata's interpreter and libraries (glibc: libc, libm, the loader), as one store path.
  for lib in $(ldd "$strata" | awk '/=>/ { print $3 } /^\t\/.*ld-linux/ { print $1 }'); do
    cp -L "$lib" "$staging/glibc/"
  done
  NIX_GLIBC=$(nix_sandbox_add "$staging/glibc")
  local loader
  loader=$(cd "$staging/glibc" && ls ld-linux*.so.* | sed -n 1p)
  cp "$strata" "$staging/strata/bin/strata"
  chmod u+w "$staging/strata/bin/strata"
  patchelf --set-interpreter "$NIX_GLIBC/$loader" --set-rpath "$NIX_GLIBC" "$staging/strata/bin/strata"
  NIX_STRATA=$(nix_sandbox_add "$staging/strata")
  cat >"$NIX_SANDBOX_DIR/tools.nix" <<EOF
# busybox, glibc and strata in the test's store (tests/e2e/lib/nix-sandbox.sh).
{
  busybox = builtins.storePath "$NIX_BUSYBOX";
  glibc = builtins.storePath "$NIX_GLIBC";
  strata = builtins.storePath "$NIX_STRATA";
}
EOF
  [ "$NIX_SANDBOX_USER" = root ] || chown "$NIX_SANDBOX_USER:" "$NIX_SANDBOX_DIR/tools.nix"
}

nix_sandbox_build() {
  local file=$1 out
  shift
  if ! out=$(nix_sandbox_nix nix-build --no-out-link "$file" "$@" 2>"$NIX_SANDBOX_LOG"); then
    return 1
  fi
  nix_sandbox_real "$out"
}

nix_sandbox_run() {
  local name=$1 script=$2 dir=$NIX_SANDBOX_DIR/drv-$1 inputs="" path
  shift 2
  mkdir -p "$dir"
  printf '%s\n' "$script" >"$dir/script.sh"
  for path in "$@"; do inputs+=" \"$path\""; done
  cat >"$dir/default.nix" <<EOF
let
  tools = import ../tools.nix;
  inputs = map builtins.storePath [$inputs ];
  numbered = builtins.listToAttrs (builtins.genList (i: {
    name = "input\${toString (i + 1)}";
    value = builtins.elemAt inputs i;
  }) (builtins.length inputs));
in
derivation (numbered // {
  name = "$name";
  system = builtins.currentSystem;
  builder = "\${tools.busybox}/bin/sh";
  args = [ "-e" "-c" (builtins.readFile ./script.sh) ];
  PATH = "\${tools.busybox}/bin";
  strata = "\${tools.strata}/bin/strata";
  glibc = tools.glibc;
  inherit inputs;
})
EOF
  [ "$NIX_SANDBOX_USER" = root ] || chown -R "$NIX_SANDBOX_USER:" "$dir"
  nix_sandbox_build "$dir/default.nix"
}

nix_sandbox_outside() {
  local user=$1 store=$NIX_SANDBOX_STORE_DIR
  shift
  [ -d "$store" ] || { echo "FAIL: nix_sandbox_outside needs the store dir $store to exist" >&2; return 1; }
  unshare -m --propagation private sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
    "$NIX_SANDBOX_DIR/root/nix/store" "$store" runuser -u "$user" -- "$@"
}

nix_sandbox_cleanup() {
  [ -n "${NIX_SANDBOX_DIR:-}" ] || return 0
  chmod -R u+w "$NIX_SANDBOX_DIR" 2>/dev/null || true
  rm -rf "$NIX_SANDBOX_DIR"
}
