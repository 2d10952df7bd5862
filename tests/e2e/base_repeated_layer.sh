#!/usr/bin/env bash
# A base whose manifest repeats a layer (issue 10 item 5, nixpkgs #214434). Docker makes
# such images; the kernel overlay refuses a lower dir listed twice ("Too many levels of
# symbolic links"). A layer applied again on top of the layers between gives what
# applying it only that last time gives, so strata stacks each distinct layer once, at
# its last occurrence; the output keeps the manifest's layers as they are.
#  - docker-tools.nix's repeatedLayerTestImage: two identical empty layers (buildImage
#    { name = "empty"; } and the same with fromImage = itself, so the manifest lists one
#    layer tar twice), then buildImage { fromImage; copyToRoot = bash; runAsRoot = "echo
#    'runAsRoot has run.'"; }; as the test asserts, the build succeeds and `/bin/bash -c
#    'exit 0'` runs in it (strata run: podman run does not work here). From the
#    docker-archive and from an OCI layout.
#  - a base [A, B, A] where B deletes /etc/a and rewrites /etc/b: A's second application
#    brings both back. The reference is umoci unpack (every layer applied in manifest
#    order); `strata run`, `strata unpack`, `strata export` and a runAsRoot build over
#    it see the same tree.
#  - fromImage without scripts: the output lists [A, B, A, new], A's blob stored once;
#    skopeo inspect and podman load accept it (docker-archive and OCI).
#  - as root, the fuse-overlayfs driver (/dev/fuse is root-only here): the same results,
#    and fuse-overlayfs' "unknown argument ignored: lazytime" does not reach the user.
# As root, strata-sub and strata-nosub.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/dockertools.sh"
sandbox_need jq tar skopeo umoci podman ldd
sandbox_setup
F=$WORK/fixtures
mkdir -p "$F"

# copyToRoot = pkgs.bash: the host's bash with its libraries.
mkdir -p "$F/bash/bin"
cp /bin/bash "$F/bash/bin/bash"
for lib in $(ldd /bin/bash | grep -o '/[^ ]*'); do
  mkdir -p "$F/bash$(dirname "$lib")"
  cp -L "$lib" "$F/bash$lib"
done

# repeatedLayerTestImage's base: layer1 = buildImage { name = "empty"; }, layer2 = the same
# with fromImage = layer1. Their layers are the same bytes, so the manifest names one
# tar twice (nixpkgs makes its two tars symlinks to one file to get there).
echo '{"name": "empty"}' >"$F/empty1.json"
"$SB" build "$F/empty1.json" -o "$F/empty1.tar" -q
jq -n --arg base "$F/empty1.tar" '{name: "empty", fromImage: $base}' >"$F/empty2.json"
"$SB" build "$F/empty2.json" -o "$F/empty2.tar" -q
"$SB" build "$F/empty2.json" --format oci-dir -o "$F/empty2-oci" -q
layers_json() { tar xOf "$1" manifest.json | jq -c '.[0].Layers'; }
oci_layer_digests() { jq -c '[.layers[].digest]' "$1/blobs/sha256/$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)"; }
# What every way of reading a rootfs must agree on: each file and its content's digest.
tree_of() { (cd "$1" && find . -path ./dev -prune -o -path ./proc -prune -o -type f -print0 | sort -z | xargs -0 sha256sum); }
export -f layers_json tree_of as_user layer_of
export SB
check "the empty base's manifest lists one layer tar twice" \
  bash -c '[ "$(jq -r "length == 2 and .[0] == .[1]" <<<"$1")" = true ]' _ "$(layers_json "$F/empty2.tar")"
check "so does its OCI manifest" \
  bash -c '[ "$(jq -r "length == 2 and .[0] == .[1]" <<<"$1")" = true ]' _ "$(oci_layer_digests "$F/empty2-oci")"

# The base [A, B, A]: A has /etc/a, /etc/b = A and busybox; B (a runAsRoot over A) whites
# out /etc/a, writes B to /etc/b and /new; then A again, added to the manifest and to the
# config's diff_ids and history with jq, as docker would have written it.
mkdir -p "$F/a/etc" "$F/a/bin"
cp /bin/busybox "$F/a/bin/busybox"
for applet in sh cat ls; do ln -s busybox "$F/a/bin/$applet"; done
echo A >"$F/a/etc/a"
echo A >"$F/a/etc/b"
jq -n --arg a "$F/a" '{name: "a", copyToRoot: $a}' >"$F/a.json"
"$SB" build "$F/a.json" -o "$F/a.tar" -q
jq -n --arg base "$F/a.tar" '{name: "b", fromImage: $base, runAsRoot: "rm /etc/a\necho B > /etc/b\necho B > /new"}' >"$F/b.json"
"$SB" build "$F/b.json" -o "$F/b.tar" -q
check "B whites out /etc/a" bash -c 'layer_of "$1" 1 | grep " etc/.wh.a$" >/dev/null' _ "$F/b.tar"
mkdir "$F/aba"
tar xf "$F/b.tar" -C "$F/aba"
(
  cd "$F/aba"
  config=$(jq -r '.[0].Config' manifest.json)
  jq -c '.rootfs.diff_ids += [.rootfs.diff_ids[0]] | .history += [.history[0]]' "$config" >config.new
  new_config=$(sha256sum config.new | cut -d' ' -f1).json
  mv config.new "$new_config"
  rm "$config"
  jq -c --arg c "$new_config" '.[0].Config = $c | .[0].Layers += [.[0].Layers[0]] | .[0].RepoTags = ["aba:latest"]' \
    manifest.json >manifest.new
  mv manifest.new manifest.json
  tar --sort=name -cf "$F/aba.tar" -- *
)
skopeo copy -q "docker-archive:$F/aba.tar" "oci:$F/aba-oci:latest"
check "skopeo reads [A, B, A] from the docker-archive" \
  bash -c '[ "$(skopeo inspect "docker-archive:$1" | jq -r ".Layers | length == 3 and .[0] == .[2] and .[0] != .[1]")" = true ]' _ "$F/aba.tar"
(cd "$F" && umoci unpack --rootless --image aba-oci:latest reference >/dev/null)
REF=$F/reference/rootfs
# What every way of reading the base must see: umoci's rootfs.
WANT_TREE=$(tree_of "$REF")
WANT_SEEN=$(cat "$REF/etc/a" "$REF/etc/b" "$REF/new")
check "umoci: A's second application brings back /etc/a and /etc/b = A" [ "$WANT_SEEN" = "$(printf 'A\nA\nB')" ]
chmod -R a+rX "$F"

for user in $(sandbox_users); do
  d=$WORK/$user
  mkdir -p "$d/tmp"
  chown "$user:" "$d" "$d/tmp"
  build() { as_user "$user" env TMPDIR="$d/tmp" "$SB" build "$@" --layer-store "$d/layers"; }

  for base in "$F/empty2.tar" "$F/empty2-oci"; do
    kind=$([ -d "$base" ] && echo OCI || echo docker-archive)
    jq -n --arg base "$base" --arg bash "$F/bash" '{name: "repeated-layer-test", tag: "latest", fromImage: $base,
      copyToRoot: $bash, runAsRoot: "echo '\''runAsRoot has run.'\''\n"}' >"$d/repeated.json"
    rm -f "$d/repeated.tar"
    rc=0
    out=$(build "$d/repeated.json" -o "$d/repeated.tar" 2>&1) || rc=$?
    check "$user: repeatedLayerTestImage over the $kind base builds, runAsRoot ran" \
      bash -c '[ "$1" = 0 ] && grep -qx "runAsRoot has run." <<<"$2"' _ "$rc" "$out"
    check "$user: ... /bin/bash -c 'exit 0' runs in it" run_image "$user" "$d/repeated.tar" /bin/bash -c 'exit 0'
    check "$user: ... its manifest keeps the base's two layers" \
      bash -c '[ "$(layers_json "$1" | jq -c ".[:2]")" = "$(layers_json "$2")" ]' _ "$d/repeated.tar" "$F/empty2.tar"
  done

  for base in "$F/aba.tar" "$F/aba-oci"; do
    kind=$([ -d "$base" ] && echo OCI || echo docker-archive)
    check "$user: strata run of [A, B, A] ($kind) sees umoci's tree" \
      says "$WANT_SEEN" run_image "$user" "$base" /bin/sh -c 'cat /etc/a /etc/b /new'
    jq -n --arg base "$base" '{name: "seen", fromImage: $base, runAsRoot: "cat /etc/a /etc/b /new > /seen"}' >"$d/seen.json"
    check "$user: a runAsRoot over it ($kind) builds" build "$d/seen.json" -o "$d/seen.tar" -q
    check "$user: ... and saw umoci's tree" bash -c '[ "$(tar xOf "$1" "$(layers_json "$1" | jq -r ".[-1]")" | gzip -dcf | tar xOf - seen)" = "$2" ]' \
      _ "$d/seen.tar" "$WANT_SEEN"
    check "$user: ... its layer holds only what the script made" says "-rw-r--r-- 0/0 seen" layer_of "$d/seen.tar" -1
    rm -rf "$d/unpacked"
    check "$user: strata unpack of it ($kind) is umoci's tree" \
      bash -c 'as_user "$1" "$SB" unpack "$2" "$3" -q && [ "$(tree_of "$3")" = "$4" ]' _ "$user" "$base" "$d/unpacked" "$WANT_TREE"
    rm -rf "$d/exported" "$d/rootfs.tar" && mkdir -p "$d/exported"
    check "$user: strata export of it ($kind) is umoci's tree" \
      bash -c 'as_user "$1" "$SB" export "$2" -o "$3/rootfs.tar" -q && tar xf "$3/rootfs.tar" -C "$3/exported" &&
               [ "$(tree_of "$3/exported")" = "$4" ]' _ "$user" "$base" "$d" "$WANT_TREE"
  done
done
# As root only, where fuse-overlayfs can run: the fallback driver gives the same.
d=$WORK/fuse
mkdir -p "$d"
jq -n --arg base "$F/empty2.tar" --arg bash "$F/bash" '{name: "repeated-layer-test", tag: "latest", fromImage: $base,
  copyToRoot: $bash, runAsRoot: "echo '\''runAsRoot has run.'\''\n"}' >"$d/repeated.json"
out=$("$SB" build "$d/repeated.json" -o "$d/repeated.tar" --overlay fuse --layer-store "$d/layers" 2>&1) || true
check "root, fuse-overlayfs: repeatedLayerTestImage builds, runAsRoot ran" grep -qx 'runAsRoot has run.' <<<"$out"
check "root, fuse-overlayfs: its 'unknown argument ignored: lazytime' does not reach the user" \
  bash -c '! grep -q lazytime <<<"$1"' _ "$out"
check "root, fuse-overlayfs: the new layer is the kernel overlay's" \
  bash -c '[ "$(layer_of "$1" -1)" = "$(layer_of "$2" -1)" ]' _ "$d/repeated.tar" "$WORK/root/repeated.tar"
jq -n --arg base "$F/aba.tar" '{name: "seen", fromImage: $base, runAsRoot: "cat /etc/a /etc/b /new > /seen"}' >"$d/seen.json"
check "root, fuse-overlayfs: a runAsRoot over [A, B, A] builds" \
  "$SB" build "$d/seen.json" -o "$d/seen.tar" --overlay fuse --layer-store "$d/layers" -q
# (the mode aside: fuse-overlayfs before 1.14 ignores the umask with xattr_permissions)
check "root, fuse-overlayfs: ... saw umoci's tree, and its layer holds only what the script made" \
  bash -c '[ "$(tar xOf "$1" "$(layers_json "$1" | jq -r ".[-1]")" | gzip -dcf | tar xOf - seen)" = "$2" ] &&
           [ "$(layer_of "$1" -1 | cut -d" " -f2-)" = "0/0 seen" ]' _ "$d/seen.tar" "$WANT_SEEN"

# fromImage without scripts: the base's layers copied as they are.
d=$WORK/copy
mkdir -p "$d/add"
echo new >"$d/add/added"
jq -n --arg base "$F/aba.tar" --arg add "$d/add" '{name: "over-aba", tag: "latest", fromImage: $base, copyToRoot: $add}' >"$d/over.json"
"$SB" build "$d/over.json" -o "$d/over.tar" -q
check "fromImage without scripts: the manifest lists [A, B, A, new]" \
  bash -c '[ "$(layers_json "$1" | jq -c ".[:3]")" = "$(layers_json "$2")" ] && [ "$(layers_json "$1" | jq length)" = 4 ]' \
  _ "$d/over.tar" "$F/aba.tar"
check "... the config's diff_ids too" \
  bash -c 'c() { tar xOf "$1" "$(tar xOf "$1" manifest.json | jq -r ".[0].Config")" | jq -c "$2"; }
           [ "$(c "$1" ".rootfs.diff_ids[:3]")" = "$(c "$2" ".rootfs.diff_ids")" ]' _ "$d/over.tar" "$F/aba.tar"
check "... A's blob is stored once" \
  bash -c '[ "$(tar tf "$1" | grep -cx "$(layers_json "$1" | jq -r ".[0]")")" = 1 ]' _ "$d/over.tar"
check "... skopeo inspect lists the four layers" \
  bash -c '[ "$(skopeo inspect "docker-archive:$1" | jq -r ".Layers | length == 4 and .[0] == .[2]")" = true ]' _ "$d/over.tar"
"$SB" build "$d/over.json" --format oci-dir -o "$d/over-oci" -q
check "... as OCI: skopeo inspect lists the four layers, three blobs of them stored" \
  bash -c '[ "$(skopeo inspect "oci:$1" | jq -r ".Layers | length == 4 and .[0] == .[2]")" = true ] &&
           [ "$(ls "$1/blobs/sha256" | wc -l)" = 5 ]' _ "$d/over-oci"
PODMAN_DIR=$(mktemp -d /tmp/podmanXXXXXX)
podman_() { podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/run" --storage-driver vfs "$@"; }
check "... podman load accepts the docker-archive" podman_ load -q -i "$d/over.tar"
"$SB" build "$d/over.json" --format oci-archive -o "$d/over-oci.tar" -q
check "... and the OCI archive" podman_ load -q -i "$d/over-oci.tar"
check "... podman shows the four layers" \
  bash -c '[ "$(podman --root "$1/root" --runroot "$1/run" --storage-driver vfs image inspect over-aba:latest |
               jq -r ".[0].RootFS.Layers | length")" = 4 ]' _ "$PODMAN_DIR"
podman_ system reset -f >/dev/null 2>&1 || true
rm -rf "$PODMAN_DIR"
finish
