#!/usr/bin/env bash
# strata layered / stream: popularity layers of a fake store, read back by tar, skopeo and
# podman. The expected layer order is derived by hand below from nixpkgs'
# referencesByPopularity as dockerTools roots the graph.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/layered.sh"
need jq skopeo podman tar

cd "$WORK"
make_fake_store
rel=${STORE#/}

# A contents dir outside the store: its script names helper-2, which thus joins the closure
# (found by scanning the dir even when a closureGraph is given).
mkdir -p extra/bin extra/etc
printf '#!/bin/sh\nexec %s/share/refs\n' "${SP[helper]}" >extra/bin/run-helper
chmod 755 extra/bin/run-helper
echo "welcome" >extra/etc/motd

write_spec() { # file, extra JSON merged in
  jq -n --arg store "$STORE" --arg app "${SP[app]}" --arg cacert "${SP[cacert]}" \
    --arg tool "${SP[tool]}" --arg data "${SP[data]}" --argjson extra "${2:-{\}}" '
    {name: "layered/structure", tag: "v1", storeDir: $store, closureGraph: "graph.json",
     contents: [$tool, $data, "extra"], maxLayers: 8, layeringPipeline: "popularity",
     config: {Cmd: [($app + "/bin/app")], Env: [("SSL_CERT_FILE=" + $cacert)]}} + $extra' >"$1"
}
write_spec spec.json

# The expected order. dockerTools' graph: R -> {C, K}; C (the config) -> app, cacert;
# K (customisation) -> tool, data, helper (helper through extra/). score(p) = the number
# of nodes of the expanded tree whose subtree holds p = the sum, over p's
# ancestors-or-self a, of routes(a) (the number of paths R -> a). routes: R C K app cacert
# tool data helper curl libfoo openssl chain1 chain2 chain3 tzdata = 1, bash = 2 (app,
# tool), zlib = 3 (curl, openssl, libfoo), glibc = 9 (curl 1 + openssl 1 + zlib 3 +
# bash 2 + libfoo 1 + helper 1).
#   glibc  : R C K app curl openssl zlib bash libfoo tool helper + itself 9      = 23
#   zlib   : R C app curl openssl libfoo + itself 3                              =  9
#   bash   : R C K app tool + itself 2                                           =  7
#   chain3 : R K tool chain1 chain2 chain3                                       =  6
#   chain2, openssl                                                              =  5
#   chain1 (R K tool), curl (R C app), libfoo (R C app), tzdata (R K data)       =  4
#   app, cacert (R C), data, helper, tool (R K)                                  =  3
# Ties go by name ("chain2-..." < "openssl-..."): the hashes run the other way.
# maxLayers 8, no base: 8 - 1 (customisation) = 7 store layers, the first 6 paths one
# each, the other 9 in the seventh.
order=(glibc zlib bash chain3 chain2 openssl chain1 curl libfoo tzdata app cacert data helper tool)
groups_json() { # singles
  local n=$1 i g="[" tail=""
  for ((i = 0; i < n; i++)); do g+="[\"${SP[${order[i]}]}\"],"; done
  for ((i = n; i < ${#order[@]}; i++)); do tail+="${tail:+,}\"${SP[${order[i]}]}\""; done
  echo "$g[$tail]]" | jq -c .
}
expected=$(groups_json 6)

"$STRATA" layered spec.json -o img.tar --json -q >report.json
assert_eq "$expected" "$(jq -c .store_layers report.json)" "store_layers: 6 single paths in popularity order, 9 in the shared tail"
assert_eq "$(jq -nc '$a | flatten' --argjson a "$expected")" "$(jq -c .store_paths report.json)" "store_paths in popularity order, unused-1 left out"
assert_eq '["store","store","store","store","store","store","store","customisation"]' \
  "$(jq -c '[.layers[].source]' report.json)" "layer sources: 7 store layers, the customisation layer last"

# The same layering when the closure is scanned instead of read from graph.json.
jq 'del(.closureGraph)' spec.json >spec-scan.json
"$STRATA" layered spec-scan.json -o img-scan.tar --json -q >report-scan.json
assert_eq "$expected" "$(jq -c .store_layers report-scan.json)" "scanned closure gives the same layers"
cmp -s img.tar img-scan.tar || fail "scanned closure gives a different image"
pass "scanned closure gives the same bytes"

# The layers themselves (docker-archive).
mapfile -t layers < <(archive_layers img.tar)
[ "${#layers[@]}" -le 8 ] || fail "${#layers[@]} layers > maxLayers 8"
assert_eq 8 "${#layers[@]}" "docker-archive has maxLayers (8) layers"
# store_paths_in LIST: the store paths that have entries in a layer listing
store_paths_in() { grep -oE "^$rel/[^/]+" "$1" | sort -u | sed 's|^|/|'; }
parents=$(echo "$rel" | awk -F/ '{p=""; for (i=1;i<=NF;i++) {p=p $i "/"; print p}}')
for i in 0 1 2 3 4 5 6; do
  archive_layer_list img.tar "${layers[i]}" >"layer$i.list"
  archive_layer_verbose img.tar "${layers[i]}" >"layer$i.verbose"
  want=$(jq -r ".[$i][]" <<<"$expected" | sort)
  assert_eq "$want" "$(store_paths_in "layer$i.list")" "layer $i holds exactly store layer $i's paths"
  assert_eq "$parents" "$(head -n "$(wc -l <<<"$parents")" "layer$i.list")" "layer $i starts with the store dir's parents"
  modes=$(head -n "$(wc -l <<<"$parents")" "layer$i.verbose" | awk '{print $1 " " $2}' | sort -u)
  assert_eq "drwxr-xr-x root/root" "$modes" "layer $i: parents are 0755 dirs owned by root"
done
archive_layer_list img.tar "${layers[7]}" >custom.list
grep -q "^$rel/" custom.list && fail "the customisation layer holds store entries: $(grep "^$rel/" custom.list | sed -n 1,3p)"
for want in bin/tool bin/run-helper etc/motd share/data/nested; do
  grep -Eq "^(\./)?$want/?\$" custom.list || fail "customisation layer lacks $want: $(cat custom.list)"
done
pass "the last layer is the customisation layer: contents joined (bin/tool, share/data) and copied (extra/)"
tar xOf img.tar "${layers[7]}" | gzip -dc | tar xf - -C "$WORK" --one-top-level=customroot
assert_eq "${SP[tool]}/bin/tool" "$(readlink customroot/bin/tool)" "store contents are linked into the root"

# Every store file of the closure exactly once across the layers.
cat layer?.list | grep -E "^$rel/[^/]+" >all-store.list
dups=$(sort all-store.list | uniq -d)
[ -z "$dups" ] || fail "entries in several layers: $dups"
(for name in "${order[@]}"; do
  p=${SP[$name]}
  if [ -d "$p" ]; then find "$p" -printf '%p\n' | sed "s|^/||; s|\$|/|" | while read -r e; do
    if [ -d "/${e%/}" ] && [ ! -L "/${e%/}" ]; then echo "$e"; else echo "${e%/}"; fi
  done; else echo "${p#/}"; fi
done) | sort >expected-store.list
diff <(sort all-store.list) expected-store.list >store.diff || fail "store entries differ from the closure's files: $(head store.diff)"
pass "every file of the 15 closure paths is present exactly once ($(wc -l <expected-store.list) entries)"

# oci-dir: same layers.
"$STRATA" layered spec.json --format oci-dir -o img-oci -q
assert_eq 8 "$(oci_manifest img-oci | jq '.layers | length')" "oci-dir has 8 layers"
assert_eq "$(archive_diff_ids img.tar)" "$(skopeo inspect --config oci:img-oci:v1 | jq -c .rootfs.diff_ids)" \
  "oci-dir and docker-archive have the same diff_ids"
mapfile -t blobs < <(oci_layer_blobs img-oci)
for i in 0 6; do
  assert_eq "$(jq -r ".[$i][]" <<<"$expected" | sort)" "$(tar tzf "${blobs[i]}" | store_paths_in /dev/stdin)" "oci-dir layer $i holds the same paths"
done

# A base image of two layers, made by strata build: it counts against maxLayers.
mkdir -p base1/etc base2/etc
echo one >base1/etc/base-one
echo two >base2/etc/base-two
"$STRATA" build --name base --tag 1 --copy-to-root base1 -o base1.tar -q
"$STRATA" build --name base --tag 2 --from-image base1.tar --copy-to-root base2 -o base2.tar -q
base_ids=$(archive_diff_ids base2.tar)
assert_eq 2 "$(jq length <<<"$base_ids")" "the base has 2 layers"
write_spec spec-base.json '{"fromImage": "base2.tar"}'
"$STRATA" layered spec-base.json -o img-base.tar --json -q >report-base.json
ids=$(archive_diff_ids img-base.tar)
assert_eq 8 "$(jq length <<<"$ids")" "with a 2-layer base: still 8 layers"
assert_eq "$base_ids" "$(jq -c '.[:2]' <<<"$ids")" "the base layers come first, unchanged"
# 8 - 2 base - 1 customisation = 5 store layers: 4 single paths, 11 in the tail
assert_eq "$(groups_json 4)" "$(jq -c .store_layers report-base.json)" "with the base: 4 single paths, 11 in the tail"
assert_eq '["base","base","store","store","store","store","store","customisation"]' \
  "$(jq -c '[.layers[].source]' report-base.json)" "layer sources with the base"

# includeStorePaths: false.
write_spec spec-nostore.json '{"includeStorePaths": false}'
"$STRATA" layered spec-nostore.json -o img-nostore.tar --json -q >report-nostore.json
assert_eq "[]" "$(jq -c .store_paths report-nostore.json)" "includeStorePaths false: no store paths"
n=0
for l in $(archive_layers img-nostore.tar); do
  n=$((n + 1))
  archive_layer_list img-nostore.tar "$l" | grep "^$rel/" >/dev/null && fail "a store entry in an image without store paths"
done
assert_eq 1 "$n" "includeStorePaths false: the customisation layer only"

# Real clients: podman load, skopeo copy to OCI.
podman_setup
podman_ load -i img.tar >podman.out 2>&1 || fail "podman load failed: $(cat podman.out)"
grep -q 'layered/structure:v1' podman.out || fail "podman did not report the image: $(cat podman.out)"
assert_eq "$(archive_diff_ids img.tar)" "$(podman_ image inspect layered/structure:v1 | jq -c '.[0].RootFS.Layers')" \
  "podman load: the loaded image has the archive's 8 diff_ids"
podman_ rmi -a -f >/dev/null 2>&1 || true
skopeo copy -q docker-archive:img.tar oci:copied:v1
assert_eq "$(archive_diff_ids img.tar)" "$(skopeo inspect --config oci:copied:v1 | jq -c .rootfs.diff_ids)" \
  "skopeo copies the image to OCI with the same diff_ids"
assert_eq 8 "$(skopeo inspect oci:copied:v1 | jq '.Layers | length')" "the OCI copy has 8 layers"

# stream: uncompressed docker-archive on stdout, same layers as layered --compress none.
"$STRATA" stream spec.json >streamed.tar 2>stream.err || fail "strata stream failed: $(cat stream.err)"
"$STRATA" layered spec.json --compress none -o img-plain.tar -q
assert_eq "$(archive_diff_ids img-plain.tar)" "$(archive_diff_ids streamed.tar)" "stream and layered --compress none: same diff_ids"
assert_eq "$(archive_diff_ids img.tar)" "$(archive_diff_ids streamed.tar)" "stream and the gzip image: same diff_ids"
cmp -s img-plain.tar streamed.tar || fail "the stream differs from the layered --compress none archive"
pass "the stream is byte for byte the layered --compress none archive"
first=$(archive_layers streamed.tar | sed -n 1p)
tar xOf streamed.tar "$first" >stream-layer0
assert_eq "ustar" "$(dd if=stream-layer0 bs=1 skip=257 count=5 status=none)" "streamed layers are plain (uncompressed) tar"
"$STRATA" stream spec.json --json 2>stream-report.json | tar tf - >/dev/null || fail "stream into a pipe failed"
assert_eq "$expected" "$(jq -c .store_layers stream-report.json)" "stream --json: the report goes to stderr"
podman_ load -i streamed.tar >podman2.out 2>&1 || fail "podman load of the stream failed: $(cat podman2.out)"
assert_eq "$(archive_diff_ids img.tar)" "$(podman_ image inspect layered/structure:v1 | jq -c '.[0].RootFS.Layers')" \
  "podman loads the streamed image with the same diff_ids"
podman_ rmi -a -f >/dev/null 2>&1 || true

# Hard links in the store, as auto-optimise-store makes them: a store path's content is
# its NAR, which has no hard links, so the layers must not depend on them (nixpkgs'
# stream_layered_image.py writes hard links as regular files). Within glibc (a layer of
# its own) and across curl and libfoo (both in the shared tail).
chmod u+w "${SP[glibc]}" "${SP[curl]}/share" "${SP[libfoo]}/share"
ln "${SP[glibc]}/lib-big" "${SP[glibc]}/lib-big-again"
printf 'shared bytes\n' >"${SP[curl]}/share/same"
ln "${SP[curl]}/share/same" "${SP[libfoo]}/share/same"
"$STRATA" layered spec.json --no-cache -o img-linked.tar -q
for l in $(archive_layers img-linked.tar); do
  archive_layer_verbose img-linked.tar "$l" | grep '^h' && fail "a hard link entry in layer $l"
done
pass "hard-linked store files are written as regular files"
for f in "${SP[glibc]}/lib-big-again" "${SP[libfoo]}/share/same"; do
  cp -p "$f" "$f.copy" && mv -f "$f.copy" "$f"
done
"$STRATA" layered spec.json --no-cache -o img-unlinked.tar -q
cmp -s img-linked.tar img-unlinked.tar || fail "hard links in the store change the image"
pass "the same store with and without hard links gives the same image"
chmod a-w "${SP[glibc]}" "${SP[curl]}/share" "${SP[libfoo]}/share"
finish
