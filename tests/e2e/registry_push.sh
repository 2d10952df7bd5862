#!/usr/bin/env bash
# strata push, pull and -o docker:// against Debian's docker-registry on 127.0.0.1 (a
# config of the test's own; its access log is the witness of what strata sent): each
# input format pushed and read back by skopeo; a second push and a push to another
# repository send no blob bytes; `layered -o docker://` after one store path changed
# sends that layer and the config; pull gives the pushed diff_ids, resolves a manifest
# list by platform, refuses an unknown one with nothing at -o, and fetches nothing twice;
# `fromImage: "docker://…@sha256:…"` builds on a pulled base.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/layered.sh"
source "$(dirname "$0")/lib/registry.sh"
need jq skopeo curl sha256sum docker-registry

cd "$WORK"
export XDG_CACHE_HOME=$WORK/cache # strata's blob-info record and blob cache, the test's own
make_fake_store
jq -n --arg store "$STORE" --arg app "${SP[app]}" --arg tool "${SP[tool]}" '
  {name: "strata/pushed", tag: "v1", storeDir: $store, closureGraph: "graph.json", contents: [$tool],
   maxLayers: 6, config: {Cmd: [($app + "/bin/app")]}}' >spec.json
"$STRATA" layered spec.json --compress none -o plain.tar -q --no-cache
"$STRATA" layered spec.json --format oci-dir -o img.oci -q --no-cache
"$STRATA" layered spec.json --format oci-archive -o img.oci.tar -q --no-cache
"$STRATA" manifest spec.json -o img.registry -q --no-cache
diff_ids() { "$STRATA" inspect "$1" | jq -c '[.layers[].diff_id]'; }
want_diff_ids=$(diff_ids plain.tar)

start_registry
R=$REGISTRY
push() { "$STRATA" push --tls-verify=false --json "$@"; }

# --- each input format, read back by skopeo ------------------------------------------
push plain.tar "docker://$R/from/docker-archive:v1" >push-da.json
assert_eq '["uploaded"]' "$(jq -c '[.blobs[].status] | unique' push-da.json)" "docker-archive: every blob uploaded to an empty registry"
assert_eq "$(jq '.blobs | length' push-da.json)" "$(blob_uploads)" "the registry's log shows one upload per blob"
skopeo inspect --tls-verify=false --raw "docker://$R/from/docker-archive:v1" >raw-da.json
assert_eq application/vnd.docker.distribution.manifest.v2+json "$(jq -r .mediaType raw-da.json)" "docker-archive is pushed as Docker schema 2"
assert_eq '["application/vnd.docker.image.rootfs.diff.tar.gzip"]' "$(jq -c '[.layers[].mediaType] | unique' raw-da.json)" \
  "uncompressed docker-archive layers are gzip-compressed on the way"
assert_eq "sha256:$(sha256sum raw-da.json | cut -d' ' -f1)" "$(jq -r .manifest_digest push-da.json)" "--json names the manifest digest served"
skopeo copy -q --src-tls-verify=false "docker://$R/from/docker-archive:v1" oci:copied-da:v1
assert_eq "$want_diff_ids" "$(diff_ids copied-da)" "skopeo copy of the pushed docker-archive: the same diff_ids"

for input in img.oci img.oci.tar img.registry; do
  repo=from/${input//./-}
  push "$input" "docker://$R/$repo:v1" >push.json
  skopeo inspect --tls-verify=false --raw "docker://$R/$repo:v1" >raw.json
  skopeo copy -q --src-tls-verify=false "docker://$R/$repo:v1" "oci:copied-$input:v1"
  assert_eq "$want_diff_ids" "$(diff_ids "copied-$input")" "$input pushed and copied back by skopeo: the same diff_ids"
done
assert_eq application/vnd.oci.image.manifest.v1+json "$(skopeo inspect --tls-verify=false --raw "docker://$R/from/img-oci:v1" | jq -r .mediaType)" \
  "an OCI dir keeps its OCI media types"
cmp -s <(skopeo inspect --tls-verify=false --raw "docker://$R/from/img-oci:v1") \
  "img.oci/blobs/sha256/$(jq -r '.manifests[0].digest' img.oci/index.json | cut -d: -f2)" || fail "the OCI manifest changed on the way"
pass "an OCI dir's manifest is pushed byte for byte"
cmp -s <(skopeo inspect --tls-verify=false --raw "docker://$R/from/img-registry:v1") img.registry/manifest.json ||
  fail "the registry dir's manifest changed on the way"
pass "a strata manifest dir's manifest.json is pushed byte for byte"

# A layer over the 32 MiB monolithic limit goes in chunks (PATCH), then the PUT.
mkdir -p big && head -c $((40 << 20)) /dev/urandom >big/blob
"$STRATA" build --name big --tag v1 --copy-to-root big --format oci-dir -o big.oci -q
push big.oci "docker://$R/big/img:v1" >big.json
[ "$(requests '"PATCH /v2/big/img/blobs/uploads/')" -ge 2 ] || fail "a 40 MiB layer was not sent in chunks"
pass "a 40 MiB layer is uploaded in $(requests '"PATCH /v2/big/img/blobs/uploads/') chunks"
skopeo copy -q --src-tls-verify=false "docker://$R/big/img:v1" oci:copied-big:v1
assert_eq "$(diff_ids big.oci)" "$(diff_ids copied-big)" "the chunked layer reads back with its diff_id"
rm -rf big big.oci copied-big

# --- a second push sends nothing; another repository mounts ----------------------------
before=$(blob_uploads)
push plain.tar "docker://$R/from/docker-archive:v1" >again.json
assert_eq '["present"]' "$(jq -c '[.blobs[].status] | unique' again.json)" "second push: every blob already present"
assert_eq "$before" "$(blob_uploads)" "second push: no blob upload in the registry's log"
assert_eq 0 "$(jq .bytes_sent again.json)" "second push: 0 blob bytes sent"
assert_eq "$(jq -r .manifest_digest push-da.json)" "$(jq -r .manifest_digest again.json)" \
  "the same docker-archive pushed twice gives the same manifest digest (deterministic gzip)"

push plain.tar "docker://$R/other/repo:v1" >other.json
assert_eq '["mounted"]' "$(jq -c '[.blobs[].status] | unique' other.json)" "push to another repository: every blob mounted"
assert_eq "$before" "$(blob_uploads)" "push to another repository: no blob upload in the log"
[ "$(requests '"POST /v2/other/repo/blobs/uploads/\?mount=sha256')" -ge "$(jq '.blobs | length' other.json)" ] || fail "no mount requests logged"
pass "push to another repository: POST ?mount=…&from=… for each blob"
XDG_CACHE_HOME=$WORK/fresh-cache push img.oci "docker://$R/third/repo:v1" --mount-from from/img-oci >mount-from.json
assert_eq '["mounted"]' "$(jq -c '[.blobs[].status] | unique' mount-from.json)" "--mount-from mounts without a local record"
assert_eq "$before" "$(blob_uploads)" "--mount-from: no blob upload in the log"

# --- layered -o docker:// after one changed store path ---------------------------------
"$STRATA" layered spec.json --cache-dir "$WORK/layer-cache" -o "docker://$R/built/layered:v1" --tls-verify=false --json >built1.json
assert_eq "$(jq -c '[.layers[].digest]' built1.json)" "$(skopeo inspect --tls-verify=false "docker://$R/built/layered:v1" | jq -c .Layers)" \
  "layered -o docker://: the registry serves the layers strata made"
printf 'a change\n' >"${SP[libfoo]}/changed"
before=$(blob_uploads)
"$STRATA" layered spec.json --cache-dir "$WORK/layer-cache" -o "docker://$R/built/layered:v2" --tls-verify=false --json >built2.json
changed=$(jq -r --arg p "${SP[libfoo]}" '[.store_layers | to_entries[] | select(.value | index($p))][0].key' built2.json)
[ "$changed" != null ] || fail "no store layer holds ${SP[libfoo]}"
changed_digest=$(jq -r ".layers[$changed].digest" built2.json)
assert_eq "$(jq -c --arg d "$changed_digest" --arg c "$(jq -r .config_digest built2.json)" '[$d, $c] | sort' <<<null)" \
  "$(jq -c '[.push.blobs[] | select(.status == "uploaded") | .digest] | sort' built2.json)" \
  "one store path changed: exactly its layer and the config are uploaded"
assert_eq $((before + 2)) "$(blob_uploads)" "the registry's log shows two blob uploads"
[ "$(jq .stats.layers_from_cache built2.json)" -ge 3 ] || fail "the unchanged store layers did not come from the cache"
pass "the unchanged store layers came from the layer cache ($(jq .stats.layers_from_cache built2.json))"

# --- pull ------------------------------------------------------------------------------
digest=$(jq -r .manifest_digest push-da.json)
"$STRATA" pull --tls-verify=false "docker://$R/from/docker-archive:v1" -o pulled.tar --json >pull1.json
assert_eq "$want_diff_ids" "$(diff_ids pulled.tar)" "pull: the same diff_ids as the pushed image"
assert_eq "$digest" "$(jq -r .manifest_digest pull1.json)" "pull reports the manifest digest"
gets=$(requests '"GET /v2/from/docker-archive/blobs/')
"$STRATA" pull --tls-verify=false --image-name "$R/from/docker-archive" --image-digest "$digest" --format oci-dir -o pulled.oci -q
assert_eq "$gets" "$(requests '"GET /v2/from/docker-archive/blobs/')" "a second pull fetches no blob (the blob cache)"
assert_eq "$want_diff_ids" "$(diff_ids pulled.oci)" "pull --image-name --image-digest --format oci-dir: the same diff_ids"
sha=$(sha256sum pulled.tar | cut -d' ' -f1)
"$STRATA" pull --tls-verify=false "docker://$R/from/docker-archive@$digest" --final-image-tag v1 -o by-sha.tar --sha256 "$sha" -q
cmp -s pulled.tar by-sha.tar || fail "two pulls of one image differ"
pass "pull is reproducible and --sha256 accepts the output's hash"
expect_status 2 pull --tls-verify=false "docker://$R/from/docker-archive@$digest" -o bad-sha.tar --sha256 "$(printf '%064d' 0)"
[ ! -e bad-sha.tar ] || fail "a --sha256 mismatch left bad-sha.tar"
grep -q "sha256" "$WORK/stderr" || fail "no sha256 message: $(cat "$WORK/stderr")"
pass "--sha256 mismatch: exit 2, nothing at -o"

# A manifest list: the amd64 image above and an arm64 one.
jq '.architecture = "arm64"' spec.json >spec-arm.json
"$STRATA" layered spec-arm.json -o "docker://$R/multi/img:arm64" --tls-verify=false --no-cache -q
arm_manifest=$(skopeo inspect --tls-verify=false --raw "docker://$R/multi/img:arm64")
"$STRATA" push --tls-verify=false -q plain.tar "docker://$R/multi/img:amd64"
amd_manifest=$(skopeo inspect --tls-verify=false --raw "docker://$R/multi/img:amd64")
entry() { jq -c --arg arch "$2" '{mediaType: .mediaType, size: ($m | length), digest: $d, platform: {os: "linux", architecture: $arch}}' \
  --arg m "$1" --arg d "sha256:$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)" <<<"$1"; }
jq -n --argjson a "$(entry "$amd_manifest" amd64)" --argjson b "$(entry "$arm_manifest" arm64)" \
  '{schemaVersion: 2, mediaType: "application/vnd.docker.distribution.manifest.list.v2+json", manifests: [$a, $b]}' >list.json
curl -fsS -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.list.v2+json' --data-binary @list.json \
  "http://$R/v2/multi/img/manifests/list" -o /dev/null
"$STRATA" pull --tls-verify=false "docker://$R/multi/img:list" --arch arm64 -o arm.tar -q
assert_eq arm64 "$("$STRATA" inspect arm.tar | jq -r .config.architecture)" "a manifest list resolved by --arch arm64"
"$STRATA" pull --tls-verify=false "docker://$R/multi/img:list" --arch amd64 -o amd.tar -q
assert_eq amd64 "$("$STRATA" inspect amd.tar | jq -r .config.architecture)" "a manifest list resolved by --arch amd64"
expect_status 2 pull --tls-verify=false "docker://$R/multi/img:list" --arch s390x -o none.tar
grep -q "linux/arm64" "$WORK/stderr" || fail "the message does not list the platforms: $(cat "$WORK/stderr")"
[ ! -e none.tar ] || fail "an unknown platform left none.tar"
pass "no image for the platform: exit 2, the platforms named, nothing at -o"

# --- fromImage docker://…@sha256:… and build -o docker:// ------------------------------
mkdir -p extra/etc && printf 'hello\n' >extra/etc/greeting
jq -n --arg base "docker://$R/from/docker-archive@$digest" --arg root "$WORK/extra" \
  '{name: "strata/on-base", tag: "v1", fromImage: $base, copyToRoot: [$root]}' >on-base.json
"$STRATA" build on-base.json --tls-verify=false -o on-base.tar -q
assert_eq "$want_diff_ids" "$(diff_ids on-base.tar | jq -c '.[:-1]')" "fromImage docker://…@sha256: the base's layers come first"
jq '.fromImage = "docker://'"$R"'/from/docker-archive:v1"' on-base.json >unpinned.json
expect_status 2 build unpinned.json --tls-verify=false -o unpinned.tar
grep -q "must name a digest" "$WORK/stderr" || fail "unpinned fromImage: $(cat "$WORK/stderr")"
pass "fromImage docker:// without a digest is refused (exit 2)"
before=$(blob_uploads)
"$STRATA" build on-base.json --tls-verify=false -o "docker://$R/built/on-base:v1" --json >build-push.json
assert_eq 1 "$(jq '[.push.blobs[] | select(.status == "uploaded" and .kind == "layer")] | length' build-push.json)" \
  "build -o docker://: only the new layer is uploaded, the base's are present"
skopeo copy -q --src-tls-verify=false "docker://$R/built/on-base:v1" oci:copied-build:v1
assert_eq "$(diff_ids on-base.tar)" "$(diff_ids copied-build)" "build -o docker:// gives the image build -o FILE gives"
finish
