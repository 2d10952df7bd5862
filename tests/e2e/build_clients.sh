#!/usr/bin/env bash
# strata build output read by real clients: skopeo, umoci, oci-image-tool, podman.
source "$(dirname "$0")/lib/common.sh"
need skopeo umoci oci-image-tool podman jq

cd "$WORK"
root=$WORK/root
make_busybox_root "$root"
mkdir -p "$root/data/sub" "$root/empty"
printf 'hello\n' >"$root/data/hello.txt"
ln "$root/data/hello.txt" "$root/data/hardlink.txt"
ln -s ../data/hello.txt "$root/data/sub/link"
printf '#!/bin/sh\necho run\n' >"$root/data/script.sh"
chmod 755 "$root/data/script.sh"
chmod 4755 "$root/data/script.sh"
chmod 700 "$root/data/sub"
long=$(printf 'n%.0s' $(seq 1 150))
printf 'long\n' >"$root/data/$long"
printf 'utf8\n' >"$root/data/héllo wörld ☃"
cat >spec.json <<JSON
{"name": "E2E/Clients", "tag": "v1", "copyToRoot": "root",
 "config": {"Cmd": ["/bin/sh", "-c", "echo hi"], "Env": ["A=1", "B=2"], "WorkingDir": "/data"},
 "uid": 0, "gid": 0}
JSON

for fmt in docker-archive oci-dir oci-archive; do
  "$STRATA" build spec.json --format "$fmt" -o "img-$fmt" -q
done
pass "built every format"

skopeo inspect docker-archive:img-docker-archive >inspect.json
assert_eq '["/bin/sh","-c","echo hi"]' "$(skopeo inspect --config docker-archive:img-docker-archive | jq -c .config.Cmd)" "skopeo reads the docker-archive config"
assert_eq "e2e/clients:v1" "$(tar xOf img-docker-archive manifest.json | jq -r '.[0].RepoTags[0]')" "name is lowercased in RepoTags"
skopeo inspect oci:img-oci-dir:v1 >/dev/null && pass "skopeo reads the oci-dir"
skopeo inspect oci-archive:img-oci-archive:v1 >/dev/null && pass "skopeo reads the oci-archive"

# skopeo copy docker-archive -> oci -> docker-archive keeps the diff_ids.
skopeo copy -q docker-archive:img-docker-archive oci:copied:v1
skopeo copy -q oci:copied:v1 docker-archive:back.tar:e2e/clients:v1
a=$(skopeo inspect --config docker-archive:img-docker-archive | jq -c .rootfs.diff_ids)
b=$(skopeo inspect --config docker-archive:back.tar | jq -c .rootfs.diff_ids)
assert_eq "$a" "$b" "skopeo round trip docker-archive -> oci -> docker-archive keeps diff_ids"

oci-image-tool validate --type image --ref name=v1 img-oci-dir >validate.out 2>&1 || fail "oci-image-tool rejects the oci-dir: $(cat validate.out)"
pass "oci-image-tool validate --type image"

# umoci unpack --rootless gives exactly the tree.
umoci unpack --rootless --image img-oci-dir:v1 bundle >/dev/null
rf=bundle/rootfs
[ -x "$rf/bin/busybox" ] || fail "busybox missing from the unpacked rootfs"
assert_eq "busybox" "$(readlink "$rf/bin/sh")" "symlinks kept"
assert_eq "hello" "$(cat "$rf/data/hello.txt")" "file contents"
assert_eq "$(stat -c %i "$rf/data/hello.txt")" "$(stat -c %i "$rf/data/hardlink.txt")" "hard links kept as links"
assert_eq "../data/hello.txt" "$(readlink "$rf/data/sub/link")" "relative symlink target"
assert_eq "4755" "$(stat -c %a "$rf/data/script.sh")" "setuid mode kept"
assert_eq "700" "$(stat -c %a "$rf/data/sub")" "directory mode kept"
assert_eq "long" "$(cat "$rf/data/$long")" "a 150-character name (PAX) survives"
assert_eq "utf8" "$(cat "$rf/data/héllo wörld ☃")" "a UTF-8 name with spaces survives"
[ -d "$rf/empty" ] || fail "empty dir missing"
[ ! -e "$rf/nix" ] || fail "/nix present in an image without store paths"
pass "empty dirs present; no /nix without store paths (as dockerTools' buildImage)"
(cd "$root" && find . -path ./nix -prune -o -printf '%P %y %m\n' | sort) >expected.list
(cd "$rf" && find . -path ./nix -prune -o -printf '%P %y %m\n' | sort) >actual.list
diff expected.list actual.list >/dev/null || fail "unpacked tree differs: $(diff expected.list actual.list | sed -n 1,10p)"
pass "unpacked tree has exactly the source's names, types and modes"
# Ownership recorded: every entry is 0:0 root:root in the layer.
blob=$(jq -r '.layers[0].digest' <"img-oci-dir/blobs/sha256/$(jq -r '.manifests[0].digest' img-oci-dir/index.json | cut -d: -f2)" | cut -d: -f2)
owners=$(tar tvzf "img-oci-dir/blobs/sha256/$blob" | awk '{print $2}' | sort -u | tr '\n' ' ')
assert_eq "root/root " "$owners" "every layer entry is owned by root/root"

# podman loads the docker-archive and runs nothing (no runtime needed to load).
export CONTAINERS_STORAGE_CONF=$WORK/storage.conf
cat >"$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "vfs"
graphroot = "$WORK/podman/root"
runroot = "$WORK/podman/run"
CONF
podman --root "$WORK/podman/root" --runroot "$WORK/podman/run" --storage-driver vfs load -i img-docker-archive >podman.out 2>&1 || fail "podman load failed: $(cat podman.out)"
grep -q 'e2e/clients:v1' podman.out || fail "podman did not report the image name: $(cat podman.out)"
pass "podman load accepts the docker-archive"
podman --root "$WORK/podman/root" --runroot "$WORK/podman/run" --storage-driver vfs rmi -a -f >/dev/null 2>&1 || true

# strata inspect reads all three and agrees on the diff_ids.
for fmt in docker-archive oci-dir oci-archive; do
  assert_eq "$a" "$("$STRATA" inspect "img-$fmt" | jq -c .config.rootfs.diff_ids)" "strata inspect $fmt"
done
finish
