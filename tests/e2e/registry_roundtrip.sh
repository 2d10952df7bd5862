#!/usr/bin/env bash
# strata manifest (Nixery's registry output) served by a real registry: the blobs and the
# Docker schema 2 manifest go into Debian's docker-registry over the HTTP API, then
# skopeo inspect and skopeo copy read them back with the same digests, and build.json's
# md5s and sizes match the blobs.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/layered.sh"
source "$(dirname "$0")/lib/registry.sh"
need jq skopeo curl md5sum sha256sum docker-registry

cd "$WORK"
make_fake_store
jq -n --arg store "$STORE" --arg app "${SP[app]}" --arg tool "${SP[tool]}" '
  {name: "strata/roundtrip", tag: "v1", storeDir: $store, closureGraph: "graph.json", contents: [$tool],
   maxLayers: 6, layeringPipeline: "popularity", config: {Cmd: [($app + "/bin/app")], Env: ["A=1"]}}' >spec.json
"$STRATA" manifest spec.json -o reg -q --no-cache
"$STRATA" manifest spec.json -o reg-json --no-cache --json >report.json

m=reg/manifest.json
b=reg/build.json
assert_eq "application/vnd.docker.distribution.manifest.v2+json" "$(jq -r .mediaType $m)" "manifest.json is a Docker schema 2 manifest"
assert_eq 2 "$(jq .schemaVersion $m)" "schemaVersion 2"
assert_eq "application/vnd.docker.container.image.v1+json" "$(jq -r .config.mediaType $m)" "config media type"
assert_eq '["application/vnd.docker.image.rootfs.diff.tar.gzip"]' "$(jq -c '[.layers[].mediaType] | unique' $m)" "layer media types"
assert_eq 6 "$(jq '.layers | length' $m)" "6 layers (maxLayers 6)"
assert_eq "$(jq -cS . $m)" "$(jq -cS .manifest $b)" "build.json holds the manifest"
assert_eq "$(jq -cS . reg-json/build.json)" "$(jq -cS . report.json)" "--json prints build.json"
cmp -s $m reg-json/manifest.json || fail "two builds of the same spec give different manifests"
pass "the same spec gives the same manifest twice"

# Blobs and metadata: every digest is the sha256 of its blob; md5 and size as md5sum and stat see them.
config_hex=$(jq -r .config.digest $m | cut -d: -f2)
cfg=reg/blobs/sha256/$config_hex
assert_eq "$config_hex" "$(sha256sum "$cfg" | cut -d' ' -f1)" "the config blob's sha256 is its digest"
assert_eq "$config_hex" "$(jq -r .config.sha256 $b)" "build.json config.sha256"
assert_eq "$(md5sum "$cfg" | cut -d' ' -f1)" "$(jq -r .config.md5 $b)" "build.json config.md5 = md5sum of the config blob"
assert_eq "$(stat -c %s "$cfg")" "$(jq -r .config.size $b)" "build.json config.size"
assert_eq "$(stat -c %s "$cfg")" "$(jq -r .config.size $m)" "manifest config size"
assert_eq "$(realpath "$cfg")" "$(jq -r .config.path $b)" "build.json config.path"
assert_eq "$(jq -c '[.layers[].digest] | sort' $m)" "$(jq -c '.layerLocations | keys' $b)" "layerLocations has every layer, nothing else"
n=0
for digest in $(jq -r '.layers[].digest' $m); do
  blob=reg/blobs/sha256/${digest#sha256:}
  [ "$(sha256sum "$blob" | cut -d' ' -f1)" = "${digest#sha256:}" ] || fail "blob $blob does not hash to its digest"
  loc=$(jq -c --arg d "$digest" '.layerLocations[$d]' $b)
  [ "$(jq -r .md5 <<<"$loc")" = "$(md5sum "$blob" | cut -d' ' -f1)" ] || fail "md5 of $digest: $loc"
  [ "$(jq -r .size <<<"$loc")" = "$(stat -c %s "$blob")" ] || fail "size of $digest: $loc"
  [ "$(jq -r .path <<<"$loc")" = "$(realpath "$blob")" ] || fail "path of $digest: $loc"
  [ "$(jq -r --arg d "$digest" '.layers[] | select(.digest == $d) | .size' $m)" = "$(stat -c %s "$blob")" ] ||
    fail "manifest size of $digest"
  gzip -t "$blob" || fail "layer blob $digest is not gzip"
  n=$((n + 1))
done
assert_eq "$(jq '.layers | length' $m)" "$n" "every layer: sha256, md5 (md5sum), size and path as build.json says; gzip"
assert_eq "$(jq -c '.rootfs.diff_ids' "$cfg")" "$(for d in $(jq -r '.layers[].digest' $m); do
  gzip -dc "reg/blobs/sha256/${d#sha256:}" | sha256sum | sed 's/^/sha256:/; s/ .*//'; done | jq -R . | jq -sc .)" \
  "config diff_ids are the sha256 of the ungzipped blobs"
assert_eq $((1 + n)) "$(find reg/blobs/sha256 -type f | wc -l)" "blobs/sha256 holds the layers and the config, nothing else"

# Into the registry over the HTTP API.
start_registry
pass "docker-registry serves /v2/ on $REGISTRY"
repo=strata/roundtrip
push_blob $repo "$cfg" "sha256:$config_hex"
for digest in $(jq -r '.layers[].digest' $m); do push_blob $repo "reg/blobs/sha256/${digest#sha256:}" "$digest"; done
for digest in "sha256:$config_hex" $(jq -r '.layers[].digest' $m); do
  size=$(curl -fsSI "http://$REGISTRY/v2/$repo/blobs/$digest" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ength: //p')
  [ -n "$size" ] || fail "the registry does not have $digest after the upload"
done
pass "HEAD /v2/$repo/blobs/<digest>: the registry has the config and all $n layers"
manifest_digest=sha256:$(sha256sum $m | cut -d' ' -f1)
answered=$(push_manifest $repo v1 $m application/vnd.docker.distribution.manifest.v2+json)
assert_eq "$manifest_digest" "$answered" "PUT manifest: the registry's Docker-Content-Digest is the sha256 of manifest.json"

# skopeo reads it back.
ref=docker://$REGISTRY/$repo:v1
skopeo inspect --tls-verify=false "$ref" >inspect.json
assert_eq "$manifest_digest" "$(jq -r .Digest inspect.json)" "skopeo inspect: manifest digest"
assert_eq "$(jq -c '[.layers[].digest]' $m)" "$(jq -c .Layers inspect.json)" "skopeo inspect: layer digests in order"
skopeo inspect --tls-verify=false --raw "$ref" >raw-manifest.json
cmp -s raw-manifest.json $m || fail "the registry serves different manifest bytes"
pass "skopeo inspect --raw: the served manifest is manifest.json byte for byte"
skopeo inspect --tls-verify=false --raw --config "$ref" >raw-config.json
cmp -s raw-config.json "$cfg" || fail "the registry serves a different config"
pass "skopeo inspect --raw --config: the served config is the config blob byte for byte"
curl -fsS "http://$REGISTRY/v2/$repo/blobs/$(jq -r '.layers[0].digest' $m)" | cmp -s - "reg/blobs/sha256/$(jq -r '.layers[0].digest' $m | cut -d: -f2)" ||
  fail "GET of the first layer blob differs"
pass "GET /v2/$repo/blobs/<first layer>: the blob byte for byte"

skopeo copy -q --src-tls-verify=false "$ref" oci:copied:v1
copied_manifest=copied/blobs/sha256/$(jq -r '.manifests[0].digest' copied/index.json | cut -d: -f2)
assert_eq "$(jq -c '[.layers[].digest]' $m)" "$(jq -c '[.layers[].digest]' "$copied_manifest")" "skopeo copy to OCI: the same layer digests"
# skopeo converts a schema 2 manifest to OCI by re-marshalling the config from Go structs
# (containers/image convertToManifestOCI1), so the OCI config has new bytes: its content
# must be the same.
copied_config=copied/blobs/sha256/$(jq -r .config.digest "$copied_manifest" | cut -d: -f2)
for field in .rootfs .config .architecture .os .created .history; do
  assert_eq "$(jq -cS "$field" "$cfg")" "$(jq -cS "$field" "$copied_config")" "skopeo copy to OCI: config $field unchanged"
done
for digest in $(jq -r '.layers[].digest' $m); do
  cmp -s "copied/blobs/sha256/${digest#sha256:}" "reg/blobs/sha256/${digest#sha256:}" || fail "copied blob $digest differs"
done
pass "skopeo copy to OCI: every layer blob byte for byte"
# skopeo copy to a dir: (which keeps the manifest type): manifest and config digests too.
skopeo copy -q --src-tls-verify=false --preserve-digests "$ref" dir:copied-dir
cmp -s copied-dir/manifest.json $m || fail "skopeo copy to dir: the manifest changed"
pass "skopeo copy --preserve-digests to dir: manifest.json byte for byte (digest $manifest_digest)"
cmp -s "copied-dir/$config_hex" "$cfg" || fail "skopeo copy to dir: config $config_hex missing or changed"
pass "skopeo copy to dir: the config blob under its digest, byte for byte"
for digest in $(jq -r '.layers[].digest' $m); do
  cmp -s "copied-dir/${digest#sha256:}" "reg/blobs/sha256/${digest#sha256:}" || fail "skopeo copy to dir: layer $digest"
done
pass "skopeo copy to dir: every layer under its digest, byte for byte"
# The same image pulled by digest gives the same result.
assert_eq "$(jq -c .Layers inspect.json)" "$(skopeo inspect --tls-verify=false "docker://$REGISTRY/$repo@$manifest_digest" | jq -c .Layers)" \
  "pull by manifest digest: the same layers"

# The other way in: strata layered --format oci-dir pushed by skopeo. Its layers are the
# manifest command's layers, blob for blob.
"$STRATA" layered spec.json --format oci-dir -o oci-img -q --no-cache
skopeo copy -q --dest-tls-verify=false oci:oci-img:v1 "docker://$REGISTRY/strata/from-oci:v1"
assert_eq "$(jq -c '[.layers[].digest]' $m)" "$(skopeo inspect --tls-verify=false "docker://$REGISTRY/strata/from-oci:v1" | jq -c .Layers)" \
  "layered --format oci-dir pushed with skopeo: the same layer digests as strata manifest"
finish
