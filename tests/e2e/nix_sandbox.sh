#!/usr/bin/env bash
# strata inside Nix's build sandbox (issue 11): Debian's nix-bin with a chroot store under
# a temp root, `sandbox = true` and the default `filter-syscalls`; each derivation's
# builder is busybox's sh with PATH = the busybox store path only, calling strata (put in
# the store with its glibc: tests/e2e/lib/nix-sandbox.sh). As root, strata-sub and
# strata-nosub, each with a Nix of its own:
#  - build with copyToRoot: skopeo and umoci read the image; the files are there;
# and every spec built outside Nix, by the same user on the same store paths, gives the
# same layers (diff_ids) as inside.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/nix-sandbox.sh"
for tool in skopeo umoci jq tar unshare; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (run scripts/setup)"; exit 1; }
done
sandbox_setup
trap "${KEEP_TMP:+: }nix_sandbox_cleanup; ${KEEP_TMP:+: }sandbox_cleanup" EXIT # KEEP_TMP=1 keeps $WORK to debug a failure

# The store's logical dir: an empty dir here, so that strata outside Nix can see the
# same paths at the same names (nix_sandbox_outside binds the store's files there).
STORE_DIR=$WORK/s
mkdir -p "$STORE_DIR"

# A package: an executable, a symlink, a hard link (two files in the store: a store path
# is its NAR), a sparse file.
pkg_src=$WORK/hello-src
mkdir -p "$pkg_src/bin" "$pkg_src/share/doc"
printf '#!/bin/sh\necho hello\n' >"$pkg_src/bin/hello"
chmod 755 "$pkg_src/bin/hello"
ln -s hello "$pkg_src/bin/hi"
ln "$pkg_src/bin/hello" "$pkg_src/bin/hello-again"
truncate -s 3M "$pkg_src/share/sparse" && printf 'end' >>"$pkg_src/share/sparse"
echo doc >"$pkg_src/share/doc/README"

# layers IMAGE: the image's diff_ids, one a line.
layers() { jq -r '.layers[].diff_id' < <("$SB" inspect "$1"); }
# unpacked IMAGE DIR: skopeo copies the docker-archive to OCI, umoci unpacks it (as root:
# real owners) into DIR/rootfs.
unpacked() {
  rm -rf "$2" "$2.oci"
  skopeo copy -q "docker-archive:$1" "oci:$2.oci:img" && umoci unpack --image "$2.oci:img" "$2" >/dev/null 2>&1
}

for user in $(sandbox_users); do
  echo "--- $user"
  nix="$WORK/nix-$user"
  nix_sandbox_init "$nix" "$user" "$STORE_DIR"
  nix_sandbox_add_tools "$SB"
  pkg=$(nix_sandbox_add "$pkg_src")
  outside="$WORK/outside-$user"
  mkdir -p "$outside"
  chown "$user:" "$outside"

  # build_both NAME SPEC-JSON: builds the spec in Nix (strata build) and outside; sets
  # inside (the image's host path) and outside_image.
  build_both() {
    local name=$1 spec_json=$2 spec
    printf '%s\n' "$spec_json" >"$WORK/$name-$user.json"
    spec=$(nix_sandbox_add "$WORK/$name-$user.json")
    local out
    if out=$(nix_sandbox_run "$name" 'mkdir $out && $strata build $input1 -o $out/image.tar' "$spec" "$pkg"); then
      inside=$out/image.tar
    else
      inside=""
      sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
    fi
    outside_image=$outside/$name.tar
    nix_sandbox_outside "$user" env XDG_CACHE_HOME="$outside/cache" TMPDIR="$outside" \
      "$SB" build "$spec" -o "$outside_image" -q 2>"$outside/$name.err" || outside_image=""
  }
  same_layers() { [ -n "$inside" ] && [ -n "$outside_image" ] && [ "$(layers "$inside")" = "$(layers "$outside_image")" ]; }

  # 1. copyToRoot of a store package.
  build_both copy '{"name": "copy", "tag": "1", "copyToRoot": ["'"$pkg"'"]}'
  check "$user: build with copyToRoot in Nix" test -n "$inside"
  check "$user: skopeo and umoci read it" unpacked "$inside" "$WORK/copy-$user"
  root=$WORK/copy-$user/rootfs
  check "$user: its files are there" sh -c "[ \"\$('$root/bin/hello')\" = hello ] && [ \"\$(readlink '$root/bin/hi')\" = hello ] &&
    cmp -s '$root/bin/hello' '$root/bin/hello-again' && cmp -s '$pkg_src/share/sparse' '$root/share/sparse'"
  check "$user: the same layers outside Nix" same_layers
  [ -n "${KEEP_TMP:-}" ] || nix_sandbox_cleanup
done
finish
