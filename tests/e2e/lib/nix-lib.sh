# Sourced by tests/e2e/nix_lib*.sh: nix/default.nix's images (tests/e2e/lib/nix-lib-images.nix)
# built by nix-build in an isolated Nix (tests/e2e/lib/nix-sandbox.sh: Debian's nix-bin, a
# chroot store, `sandbox = true`, busybox as /bin/sh) as root, and helpers reading them.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/nix-sandbox.sh"
for tool in skopeo umoci podman jq tar unshare gzip zstd nix-instantiate; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (run scripts/setup)"; exit 1; }
done
sandbox_setup
# What common.sh gives other tests (tests/e2e/lib/registry.sh uses them).
need() { local tool; for tool; do command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (run scripts/setup)"; exit 1; }; done; }
fail() { echo "FAIL: $*" >&2; exit 1; }
trap "${KEEP_TMP:+: }nix_sandbox_cleanup; ${KEEP_TMP:+: }sandbox_cleanup" EXIT # KEEP_TMP=1 keeps $WORK to debug a failure

# The store's logical dir: an empty dir, so that the stream program can run outside Nix
# on the same paths (nix_sandbox_outside binds the store's files there).
STORE_DIR=$WORK/s
mkdir -p "$STORE_DIR"
user=root
nix="$WORK/nix"
nix_sandbox_init "$nix" "$user" "$STORE_DIR"
nix_sandbox_add_tools "$SB"
# strata pull dlopen()s libcurl: in the store, its libraries (those glibc's path lacks) and
# libgcc_s (glibc's thread exit unwinds with it), found by a DT_RPATH of strata, which
# (unlike DT_RUNPATH) also serves the libraries it loads. nix/package.nix adds curl's lib
# dir to strata's rpath the same way.
nix_lib_add_curl() {
  local staging=$NIX_SANDBOX_DIR/staging-curl lib curl
  curl=$(ldconfig -p | awk '/libcurl\.so\.4 / && !found { print $NF; found = 1 }')
  mkdir -p "$staging/lib" "$staging/strata/bin"
  for lib in "$curl" $(ldd "$curl" | awk '/=>/ { print $3 }') $(ldconfig -p | awk '/libgcc_s\.so\.1 / && !found { print $NF; found = 1 }'); do
    [ -e "$NIX_GLIBC/${lib##*/}" ] || cp -L "$lib" "$staging/lib/"
  done
  NIX_CURL=$(nix_sandbox_add "$staging/lib")
  cp "$(nix_sandbox_real "$NIX_STRATA")/bin/strata" "$staging/strata/bin/strata"
  chmod u+w "$staging/strata/bin/strata"
  patchelf --force-rpath --set-rpath "$NIX_GLIBC:$NIX_CURL" "$staging/strata/bin/strata"
  NIX_STRATA=$(nix_sandbox_add "$staging/strata")
  cat >"$NIX_SANDBOX_DIR/tools.nix" <<EOF
# busybox, glibc, curl's libraries and strata in the test's store (tests/e2e/lib/nix-lib.sh).
{
  busybox = builtins.storePath "$NIX_BUSYBOX";
  glibc = builtins.storePath "$NIX_GLIBC";
  curl = builtins.storePath "$NIX_CURL";
  strata = builtins.storePath "$NIX_STRATA";
}
EOF
}
nix_lib_add_curl

# The user's expression (tests/e2e/lib/nix-lib-images.nix), over this repository's nix/.
cat >"$nix/images.nix" <<EOF
import $STRATA_TESTS/e2e/lib/nix-lib-images.nix { tools = import ./tools.nix; dockerToolsDir = $STRATA_SRC/nix; }
EOF

# build ATTR: nix-build -A ATTR; sets built (the output's host path), or prints the log.
build() {
  built=""
  if built=$(nix_sandbox_build "$nix/images.nix" -A "$1"); then return 0; fi
  built=""
  sed 's/^/  nix: /' "$NIX_SANDBOX_LOG" | tail -n 30
  return 1
}
# eval_json EXPR: nix-instantiate --eval --strict --json of EXPR over images.nix' attrs.
eval_json() { nix_sandbox_nix nix-instantiate --eval --strict --json -E "with import $nix/images.nix; $1" 2>"$WORK/eval.err"; }
# eval_fails EXPR PATTERN: evaluating EXPR fails with a message matching PATTERN.
eval_fails() {
  ! eval_json "$1" >/dev/null && grep -q -- "$2" "$WORK/eval.err" || { sed 's/^/  eval: /' "$WORK/eval.err"; return 1; }
}
# unpacked IMAGE DIR: skopeo copies the docker-archive to OCI, umoci unpacks it (as root:
# real owners) into DIR/rootfs.
unpacked() {
  rm -rf "$2" "$2.oci"
  [ -n "$1" ] && skopeo copy -q "docker-archive:$1" "oci:$2.oci:img" && umoci unpack --image "$2.oci:img" "$2" >/dev/null 2>&1
}
# store_names DIR: the names (without hash) of the store paths in DIR/rootfs, sorted.
store_names() { (cd "$1/rootfs$STORE_DIR" 2>/dev/null && ls | sed 's/^[a-z0-9]*-//' | sort | tr '\n' ' '); }
config_of() { skopeo inspect --config "docker-archive:$1"; }
layer_count() { skopeo inspect "docker-archive:$1" | jq '.Layers | length'; }
is_named() { case $1 in *-"$2") return 0 ;; *) echo "  named ${1##*/}, not *-$2"; return 1 ;; esac; }
podman_load() { # ARCHIVE-or-"" (stdin) EXPECTED-NAME: podman load (a private storage) prints the name
  mkdir -p "$WORK/podman"
  printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/podman/root"\nrunroot = "%s/podman/run"\n' "$WORK" "$WORK" >"$WORK/podman/storage.conf"
  CONTAINERS_STORAGE_CONF="$WORK/podman/storage.conf" podman load -q ${1:+-i "$1"} | tee "$WORK/podman.out" | grep -F "$2" >/dev/null
}

hello_runs() { [ "$(chroot "$1" /bin/hello)" = "hello from nix" ]; }
owned() { [ "$(stat -c %u:%g "$1")" = "$2" ] || { echo "  $1 is owned by $(stat -c %u:%g "$1" 2>&1), not $2"; return 1; }; }
