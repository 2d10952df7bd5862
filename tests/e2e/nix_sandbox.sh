#!/usr/bin/env bash
# strata inside Nix's build sandbox (issue 11): Debian's nix-bin with a chroot store under
# a temp root, `sandbox = true` and the default `filter-syscalls`; each derivation's
# builder is busybox's sh with PATH = the busybox store path only, calling strata (put in
# the store with its glibc: tests/e2e/lib/nix-sandbox.sh). As root, strata-sub and
# strata-nosub, each with a Nix of its own:
#  - build with copyToRoot: skopeo and umoci read the image; the files are there;
#  - layered with a copyToRoot tree the build made (copied natively, no cp): hard link,
#    symlink and modes in the layer;
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

# last_layer_listing IMAGE: "MODE NAME[ -> TARGET| link to TARGET]" of its last layer.
last_layer_listing() {
  [ -n "$1" ] || return 0
  tar -xOf "$1" "$(tar -xOf "$1" manifest.json | jq -r '.[0].Layers[-1]')" | tar -tvzf - |
    awk '{ line = $1; for (i = 6; i <= NF; i++) line = line " " $i; print line }'
}

for user in $(sandbox_users); do
  echo "--- $user"
  nix="$WORK/nix-$user"
  nix_sandbox_init "$nix" "$user" "$STORE_DIR"
  nix_sandbox_add_tools "$SB"
  pkg=$(nix_sandbox_add "$pkg_src")
  inputs=("$pkg")
  outside="$WORK/outside-$user"
  mkdir -p "$outside"
  chown "$user:" "$outside"

  # build_both NAME COMMAND PREP: in a derivation's build dir, runs the shell snippet PREP
  # (it writes spec.json and what the spec names) and `strata COMMAND spec.json`; then does
  # the same outside Nix, as the same user, in a dir of its own. Sets inside (the image's
  # host path, or "" when the build failed) and outside_image ("" likewise); the Nix log
  # is in $NIX_SANDBOX_LOG.
  build_both() {
    local name=$1 command=$2 prep=$3 out
    if out=$(nix_sandbox_run "$name" "mkdir \$out
$prep
\$strata $command spec.json -o \$out/image.tar" "${inputs[@]}"); then
      inside=$out/image.tar
    else
      inside=""
    fi
    local dir=$outside/$name
    mkdir -p "$dir" && chown "$user:" "$dir"
    outside_image=$dir/image.tar
    nix_sandbox_outside "$user" env -C "$dir" XDG_CACHE_HOME="$outside/cache" TMPDIR="$outside" \
      sh -e -c "$prep
\"\$0\" $command spec.json -o image.tar -q" "$SB" 2>"$dir/err" || outside_image=""
  }
  same_layers() { [ -n "$inside" ] && [ -n "$outside_image" ] && [ "$(layers "$inside")" = "$(layers "$outside_image")" ]; }

  # 1. copyToRoot of a store package.
  build_both copy build "echo '{\"name\": \"copy\", \"tag\": \"1\", \"copyToRoot\": [\"$pkg\"]}' >spec.json"
  check "$user: build with copyToRoot in Nix" test -n "$inside" || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  check "$user: skopeo and umoci read it" unpacked "$inside" "$WORK/copy-$user"
  root=$WORK/copy-$user/rootfs
  check "$user: its files are there" sh -c "[ \"\$('$root/bin/hello')\" = hello ] && [ \"\$(readlink '$root/bin/hi')\" = hello ] &&
    cmp -s '$root/bin/hello' '$root/bin/hello-again' && cmp -s '$pkg_src/share/sparse' '$root/share/sparse'"
  check "$user: the same layers outside Nix" same_layers

  # 2. layered with a copyToRoot tree of the build's own (copied natively: no cp in Nix):
  # a hard link, a sparse file, a symlink, modes.
  build_both tree layered "mkdir -p tree/bin tree/etc
printf '#!/bin/sh\necho tool\n' >tree/bin/tool
chmod 750 tree/bin/tool
ln tree/bin/tool tree/bin/tool-again
ln -s tool tree/bin/t
truncate -s 2M tree/etc/sparse
chmod 600 tree/etc/sparse
echo '{\"name\": \"tree\", \"tag\": \"1\", \"copyToRoot\": [\"tree\", \"$pkg\"]}' >spec.json"
  check "$user: layered with a tree of the build's in Nix" test -n "$inside" || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  listing=$(last_layer_listing "$inside")
  check "$user: its hard link, symlink and modes are in the layer" sh -c "printf '%s\n' \"\$1\" | grep -qx -- '-rwxr-x--- bin/tool' &&
    printf '%s\n' \"\$1\" | grep -qx 'hrwxr-x--- bin/tool-again link to bin/tool' &&
    printf '%s\n' \"\$1\" | grep -qx 'lrwxrwxrwx bin/t -> tool' && printf '%s\n' \"\$1\" | grep -qx -- '-rw------- etc/sparse'" sh "$listing"
  check "$user: the same layers outside Nix" same_layers
  [ -n "${KEEP_TMP:-}" ] || nix_sandbox_cleanup
done
finish
