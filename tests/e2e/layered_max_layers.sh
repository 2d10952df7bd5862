#!/usr/bin/env bash
# maxLayers takes any value above 1, as dockerTools' `assert maxLayers > 1` does (issue 10
# item 7a); an image of more layers than Docker can run (127: its overlay2 driver stacks
# at most 128 lower dirs, a container's init layer among them) is still written, with one
# warning on stderr naming the count. No sandbox runs here, so one user is enough.
#  - maxLayers 200 with 21 store paths: no refusal, no warning, 22 layers;
#  - 126 store paths: 127 layers, no warning, and podman's overlay driver mounts it (as
#    root); buildImage over it makes 128: the warning names 128;
#  - 131 store paths: 132 layers (skopeo), the warning names 132, once; podman loads it;
#    -q silences it; the same image from --max-layers 200; a layeringPipeline making 131
#    store layers is no longer refused either; strata stream warns the same;
#  - maxLayers 1 is refused as dockerTools refuses it, nothing written.
source "$(dirname "$0")/lib/common.sh"
need jq skopeo podman tar

cd "$WORK"
podman_dir=$(mktemp -d /tmp/podXXXXXX) # podman refuses a runroot path of more than 50 characters
trap 'cleanup; rm -rf "$podman_dir"' EXIT
STORE=$WORK/store
mkdir -p "$STORE"
for i in $(seq 1 130); do # p1 … p130, hash parts made of digits
  mkdir -p "$STORE/$(printf '%032d' "$i")-p$i"
  echo "$i" >"$STORE/$(printf '%032d' "$i")-p$i/file"
done
# app N (20, 125 or 130): a store path naming p1 … pN.
app() {
  local letter
  case $1 in 20) letter=a ;; 125) letter=b ;; 130) letter=c ;; esac
  local path=$STORE/$(printf '%032d' 0 | tr 0 "$letter")-app$1
  if [ ! -d "$path" ]; then
    mkdir -p "$path"
    for i in $(seq 1 "$1"); do echo "$STORE/$(printf '%032d' "$i")-p$i"; done >"$path/refs"
  fi
  echo "$path"
}
# spec FILE N [EXTRA-JSON]: contents app N, maxLayers 200 unless EXTRA says otherwise.
spec() {
  jq -n --arg store "$STORE" --arg app "$(app "$2")" --argjson extra "${3:-{\}}" \
    '{name: "max-layers", tag: "t", storeDir: $store, contents: [$app], maxLayers: 200} + $extra' >"$1"
}
layer_count() { skopeo inspect "docker-archive:$1" | jq '.Layers | length'; }
warnings() { grep -c '^warning:' "$WORK/stderr" || true; }

# 21 store paths
spec s20.json 20
expect_status 0 layered s20.json -o s20.tar --no-cache
assert_eq 0 "$(warnings)" "maxLayers 200, 21 store paths: built, no warning"
assert_eq 22 "$(layer_count s20.tar)" "... 22 layers (a store path each, the customisation layer)"

# 127 layers: the most Docker runs
spec s125.json 125
expect_status 0 layered s125.json -o s125.tar --no-cache
assert_eq 0 "$(warnings)" "126 store paths: built, no warning"
assert_eq 127 "$(layer_count s125.tar)" "... 127 layers"
if [ "$(id -u)" = 0 ]; then
  pod="podman --root $podman_dir/overlay/root --runroot $podman_dir/overlay/run --storage-driver overlay"
  $pod load -q -i s125.tar >podman-overlay.out 2>&1 || fail "podman (overlay) cannot load the 127-layer image: $(cat podman-overlay.out)"
  mounted=$($pod image mount localhost/max-layers:t 2>&1) || fail "podman's overlay driver cannot stack 127 layers: $mounted"
  assert_eq 126 "$(ls "$mounted$STORE" | wc -l)" "... podman's overlay driver mounts it: its 126 store paths"
  $pod image unmount -a >/dev/null 2>&1 || true
  $pod rmi -a -f >/dev/null 2>&1 || true
fi
# buildImage over it: 128
jq -n '{name: "over-127", tag: "t", fromImage: "s125.tar"}' >over.json
expect_status 0 build over.json -o over.tar
assert_eq 128 "$(layer_count over.tar)" "buildImage over the 127-layer image: 128 layers"
grep -q '^warning: the image has 128 layers, more than the 127 Docker can run' "$WORK/stderr" ||
  fail "no warning naming 128 layers: $(cat "$WORK/stderr")"
pass "... built, with a warning naming 128 layers and Docker's 127"

# 132 layers
spec s130.json 130
expect_status 0 layered s130.json -o s130.tar --no-cache
assert_eq 132 "$(layer_count s130.tar)" "131 store paths, maxLayers 200: built, 132 layers"
assert_eq 1 "$(warnings)" "... one warning"
grep -q '^warning: the image has 132 layers, more than the 127 Docker can run (its overlay2 driver stacks at most 128 lower dirs' "$WORK/stderr" ||
  fail "the warning does not name 132 layers and the limit: $(cat "$WORK/stderr")"
pass "... naming 132 layers, Docker's 127 and why"
export CONTAINERS_STORAGE_CONF=$WORK/storage.conf
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$podman_dir/vfs/root" "$podman_dir/vfs/run" >"$CONTAINERS_STORAGE_CONF"
podman_() { podman --root "$podman_dir/vfs/root" --runroot "$podman_dir/vfs/run" --storage-driver vfs "$@"; }
podman_ load -i s130.tar >podman.out 2>&1 || fail "podman load failed: $(cat podman.out)"
assert_eq 132 "$(podman_ image inspect localhost/max-layers:t | jq '.[0].RootFS.Layers | length')" "... podman loads it: 132 layers"
podman_ rmi -a -f >/dev/null 2>&1 || true
expect_status 0 layered s130.json -o s130q.tar --no-cache -q
assert_eq "" "$(cat "$WORK/stderr")" "... -q silences the warning"
jq 'del(.maxLayers)' s130.json >flag.json
expect_status 0 layered flag.json --max-layers 200 -o flag.tar --no-cache
cmp -s s130.tar flag.tar || fail "--max-layers 200 gave other bytes than maxLayers 200"
pass "... --max-layers 200 gives the same bytes"
spec pipeline.json 130 '{"layeringPipeline": [["popularity_contest"]]}'
expect_status 0 layered pipeline.json -o pipeline.tar --no-cache
assert_eq 132 "$(layer_count pipeline.tar)" "a layeringPipeline making 131 store layers: built, 132 layers"
assert_eq 1 "$(warnings)" "... with the warning"
"$STRATA" stream s130.json --no-cache >streamed.tar 2>"$WORK/stderr" || fail "strata stream failed: $(cat "$WORK/stderr")"
assert_eq 132 "$(layer_count streamed.tar)" "strata stream: 132 layers"
assert_eq 1 "$(warnings)" "... and the same warning"

# maxLayers 1: dockerTools' assert refuses it, so does strata.
spec one.json 20 '{"maxLayers": 1}'
expect_status 2 layered one.json -o one.tar --no-cache
grep -q "'maxLayers' must be greater than 1, not 1" "$WORK/stderr" || fail "maxLayers 1: $(cat "$WORK/stderr")"
[ ! -e one.tar ] || fail "maxLayers 1 left one.tar"
pass "maxLayers 1: exit 2, 'must be greater than 1', nothing written"
finish
