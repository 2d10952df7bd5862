#!/usr/bin/env bash
# A forged image: its config claims the diff_id of a good image's layer, its layer holds
# other content (every other digest right). Unpacked layers are cached by diff_id, so
# before, `strata run forged.oci` cached the evil layer under the good diff_id and then
# `strata run good.oci` saw the evil /etc/motd. Now every reader checks the diff_id
# while it reads: run (as root, strata-sub and strata-nosub), a runAsRoot build on it,
# unpack, export and a build that copies the layer as its base all exit 2 naming the
# image and the layer, leave nothing at the output and nothing in the layer cache; for
# OCI dirs, OCI archives and docker-archives, uncompressed, gzip and zstd. A base layer
# whose stored bytes are corrupt (blob digest) is refused too, where a build used to copy
# it and exit 0 with an image skopeo rejects.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
sandbox_setup
FORGE="$STRATA_TESTS/e2e/lib/forge_image.py"

make_rootfs "$WORK/good-tree"
echo GOOD >"$WORK/good-tree/etc/motd"
"$SB" build --name good --tag v1 --copy-to-root "$WORK/good-tree" --compress gzip --format oci-dir -o "$WORK/good.oci" -q
make_rootfs "$WORK/evil-tree"
echo EVIL >"$WORK/evil-tree/etc/motd"
tar -C "$WORK/evil-tree" -cf "$WORK/evil.tar" .
diff_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rootfs"]["diff_ids"][0])' \
  <(cd "$WORK/good.oci" && m=$(python3 -c 'import json; print(json.load(open("index.json"))["manifests"][0]["digest"][7:])') &&
    c=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"][7:])' "blobs/sha256/$m") &&
    cat "blobs/sha256/$c"))
hex=${diff_id#sha256:}
chmod -R a+rX "$WORK"
for user in $(sandbox_users); do install -d -o "$user" "$WORK/$user"; done

# No entry for the good diff_id, and no temp dir, in a layer store (and its subuid stores).
store_clean() {
  ! find "$1" -mindepth 1 -maxdepth 2 \( -name "$hex" -o -name ".tmp-*" \) 2>/dev/null | grep . >/dev/null
}

forged_ok=0
for format in oci-dir oci-archive docker-archive; do
  for compression in none gzip zstd; do
    [ "$format" = docker-archive ] && [ "$compression" = zstd ] && continue
    case $format in oci-dir) ext=oci ;; *) ext=tar ;; esac
    forged="$WORK/forged-$format-$compression.$ext"
    python3 "$FORGE" "$forged" "$format" "$compression" "$WORK/good.oci" "$WORK/evil.tar"
    chmod -R a+rX "$forged"
    what="$format/$compression"

    for user in $(sandbox_users); do
      store="$WORK/$user/store-$format-$compression"
      set +e
      msg=$(as_user "$user" "$SB" run --layer-store "$store" "$forged" -- /bin/cat /etc/motd 2>&1)
      rc=$?
      set -e
      check "$user $what: run of the forged image exits 2" [ "$rc" -eq 2 ]
      check "$user $what: the message names the image and the layer" \
        bash -c 'grep -qF "$1: layer 1 ($2) is corrupt or forged" <<<"$3"' _ "$forged" "$diff_id" "$msg"
      check "$user $what: the forged layer is not in the cache" store_clean "$store"
      out=$(as_user "$user" "$SB" run --layer-store "$store" "$WORK/good.oci" -- /bin/cat /etc/motd 2>&1 || true)
      check "$user $what: the good image then runs with its own content" [ "$out" = GOOD ]
    done

    [ "$compression" = gzip ] || continue # the other readers: one compression each format is enough
    store="$WORK/store-build-$format"
    set +e
    "$SB" unpack "$forged" "$WORK/unpacked-$format" 2>"$WORK/err"; rc=$?
    set -e
    check "$what: unpack exits 2 and leaves no dir" \
      bash -c '[ "$1" -eq 2 ] && [ ! -e "$2" ] && ! ls -a "$3" | grep "^\.unpacked-" >/dev/null' _ "$rc" "$WORK/unpacked-$format" "$WORK"
    check "$what: unpack names the layer" grep -qF "layer 1 ($diff_id) is corrupt or forged" "$WORK/err"
    set +e
    "$SB" export "$forged" -o "$WORK/export-$format.tar" 2>/dev/null; rc=$?
    set -e
    check "$what: export exits 2 and writes nothing" bash -c '[ "$1" -eq 2 ] && [ ! -e "$2" ]' _ "$rc" "$WORK/export-$format.tar"
    set +e
    "$SB" build --name child --tag v1 --from-image "$forged" --copy-to-root "$WORK/good-tree" \
      -o "$WORK/child-$format.tar" 2>"$WORK/err"; rc=$?
    set -e
    check "$what: a build copying the forged base exits 2 and writes nothing" \
      bash -c '[ "$1" -eq 2 ] && [ ! -e "$2" ]' _ "$rc" "$WORK/child-$format.tar"
    check "$what: the build names the base layer" grep -qF "$forged: layer 1" "$WORK/err"
    set +e
    "$SB" build --name child --tag v1 --from-image "$forged" --run-as-root 'cat /etc/motd' \
      --layer-store "$store" -o "$WORK/child-root-$format.tar" 2>/dev/null; rc=$?
    set -e
    check "$what: a runAsRoot build on the forged base exits 2, writes nothing, caches nothing" \
      bash -c '[ "$1" -eq 2 ] && [ ! -e "$2" ]' _ "$rc" "$WORK/child-root-$format.tar"
    check "$what: ... and its layer store holds no forged layer" store_clean "$store"
  done
done

# A corrupt blob (one byte changed, the manifest's digest kept) in a base.
cp -r "$WORK/good.oci" "$WORK/corrupt.oci"
blob=$(find "$WORK/corrupt.oci/blobs/sha256" -type f -size +1k | sed -n 1p)
python3 -c 'import sys; p=sys.argv[1]; d=bytearray(open(p,"rb").read()); d[len(d)//2]^=1; open(p,"wb").write(d)' "$blob"
set +e
"$SB" build --name child --tag v1 --from-image "$WORK/corrupt.oci" --copy-to-root "$WORK/good-tree" \
  -o "$WORK/child-corrupt.tar" 2>"$WORK/err"; rc=$?
set -e
check "a build copying a corrupt base blob exits 2 and writes nothing" \
  bash -c '[ "$1" -eq 2 ] && [ ! -e "$2" ]' _ "$rc" "$WORK/child-corrupt.tar"
check "the message says the stored bytes do not match the manifest" grep -q "stored bytes hash to .*, not to the digest" "$WORK/err"

# The good image still builds on, and the copy it makes is one skopeo accepts.
"$SB" build --name child --tag v1 --from-image "$WORK/good.oci" --copy-to-root "$WORK/good-tree" -o "$WORK/child.tar" -q
check "a build on the good base succeeds and skopeo copies it (checking every digest)" \
  skopeo copy -q "docker-archive:$WORK/child.tar" "oci:$WORK/child-copy:v1"
finish
