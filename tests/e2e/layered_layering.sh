#!/usr/bin/env bash
# layeringPipeline: the "auto" default (nixpkgs' dockerAutoLayer), "popularity" by name, a
# multi-operator pipeline inline and from a file, read back by skopeo; two auto images
# sharing a big dependency share its layer by digest; the layer cache serves every
# layering; a malformed pipeline exits 2 naming the step. Expected layers are derived by
# hand below from NAR sizes given in the closureGraph.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/layered.sh"
need jq skopeo tar nix-store

cd "$WORK"
make_fake_store
rel=${STORE#/}

# graph.json with NAR sizes (bytes) chosen by hand.
declare -A SIZE=([glibc]=400000 [bash]=50000 [tzdata]=20000 [data]=5000 [openssl]=3000 [curl]=2000
  [libfoo]=1500 [chain3]=1100 [zlib]=1000 [chain2]=900 [app]=800 [chain1]=700 [tool]=600 [cacert]=300
  [helper]=100 [unused]=100)
sizes='{}'
for name in "${!SIZE[@]}"; do sizes=$(jq -c --arg p "${SP[$name]}" --argjson s "${SIZE[$name]}" '. + {($p): $s}' <<<"$sizes"); done
jq --argjson sizes "$sizes" 'map(. + {narSize: $sizes[.path]})' graph.json >sized.json

# spec FILE EXTRA-JSON: contents tool and data, app and cacert named in config.
spec() {
  jq -n --arg store "$STORE" --arg app "${SP[app]}" --arg cacert "${SP[cacert]}" --arg tool "${SP[tool]}" \
    --arg data "${SP[data]}" --argjson extra "$2" '
    {name: "layering/test", tag: "v1", storeDir: $store, closureGraph: "sized.json", contents: [$tool, $data],
     config: {Cmd: [($app + "/bin/app")], Env: [("SSL_CERT_FILE=" + $cacert)]}} + $extra' >"$1"
}
names_json() { # name…: the store paths as a JSON list
  local n
  for n in "$@"; do echo "${SP[$n]}"; done | jq -R . | jq -sc .
}
# skopeo_layers IMAGE.tar: the store layers' paths, each list sorted, as one JSON list,
# read from the OCI copy skopeo makes of the docker-archive; fails unless the last layer
# (the customisation layer) holds no store path.
skopeo_layers() {
  local dir=$WORK/skopeo-$(basename "$1" .tar)
  skopeo copy -q "docker-archive:$1" "oci:$dir:t" >/dev/null
  local manifest blob
  manifest=$(jq -r '.manifests[0].digest' "$dir/index.json" | cut -d: -f2)
  for blob in $(jq -r '.layers[].digest' "$dir/blobs/sha256/$manifest" | cut -d: -f2); do
    { tar tzf "$dir/blobs/sha256/$blob" | grep -oE "^$rel/[^/]+" || true; } | sort -u | sed 's|^|/|' | jq -R . | jq -sc .
  done | jq -sc 'if .[-1] == [] then .[:-1] else error("the last layer holds store paths") end'
}
sorted() { jq -c 'map(sort)' <<<"$1"; }

# --- auto (the default) --------------------------------------------------------------
# The graph auto-layer sees: the 14 image paths, nixpkgs' base.json (~300 bytes) and the
# customisation layer (a dir of checksum + layer.tar padded to 10240 bytes: ~10.6 kB).
# maxLayers 5: 5 - 1 (customisation) = 4 keys at most. Largest first:
#   glibc: {glibc}                                        keys {} {glibc}          2
#   bash: {bash}; glibc keeps its own key                 {} {glibc} {bash}        3
#   tzdata: {tzdata}                                      4
#   customisation (10.6 kB): tool, chain1-3, data would get it: 5 keys > 4, undone.
# Layers by closure size: tzdata 20000, glibc 400000, bash 450000, then the empty key's
# layer (everything else, base.json and the customisation left out) sorted by name.
spec auto.json '{"maxLayers": 5}'
"$STRATA" layered auto.json -o auto.tar --json -q >auto.report
expected_auto=$( (names_json tzdata; names_json glibc; names_json bash
  names_json app cacert chain1 chain2 chain3 curl data libfoo openssl tool zlib) | jq -sc .)
assert_eq "$expected_auto" "$(jq -c .store_layers auto.report)" "auto: store_layers as derived by hand"
assert_eq "$(sorted "$expected_auto")" "$(skopeo_layers auto.tar)" "auto: skopeo reads 4 store layers holding exactly those paths"
assert_eq 5 "$(skopeo inspect docker-archive:auto.tar | jq '.Layers | length')" "auto: skopeo inspect sees maxLayers (5) layers"
spec auto-named.json '{"maxLayers": 5, "layeringPipeline": "auto"}'
"$STRATA" layered auto-named.json -o auto-named.tar -q
cmp -s auto.tar auto-named.tar || fail "layeringPipeline \"auto\" differs from the default"
pass "\"auto\" by name is the default, byte for byte"

# --- popularity by name ---------------------------------------------------------------
# layered_structure.sh derives this order by hand (there with helper-2 in the closure).
spec pop.json '{"maxLayers": 5, "layeringPipeline": "popularity"}'
"$STRATA" layered pop.json -o pop.tar --json -q >pop.report
assert_eq "$(jq -c '.store_layers | map(length)' pop.report)" "[1,1,1,11]" "popularity: 3 single paths, 11 in the tail"
assert_eq "$(names_json glibc zlib bash | jq -c 'map([.])')" "$(jq -c '.store_layers[:3]' pop.report)" \
  "popularity: glibc, zlib, bash first (most popular)"
assert_eq "$(sorted "$(jq -c .store_layers pop.report)")" "$(skopeo_layers pop.tar)" \
  "popularity: skopeo reads the same layers"

# --- a multi-operator pipeline ---------------------------------------------------------
# subcomponent_out curl: main = curl and what it references, in NAR-size order
# (zlib 1000, curl 2000, openssl 3000, glibc 400000); the rest by popularity_contest
# within the rest (its roots app, tool, data, cacert): bash 4 (app, tool, itself 2),
# chain3 4, chain2 3, chain1/libfoo/tzdata 2, app/cacert/data/tool 1 (ties by name),
# limit_layers 3 merging all from chain2 on.
pipeline=$(jq -nc --arg curl "${SP[curl]}" '[["subcomponent_out", [$curl]],
  ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 3]]]]]')
spec pipe.json "{\"layeringPipeline\": $pipeline}"
"$STRATA" layered pipe.json -o pipe.tar --json -q >pipe.report
expected_pipe=$( (names_json zlib curl openssl glibc; names_json bash; names_json chain3
  names_json chain2 chain1 libfoo tzdata app cacert data tool) | jq -sc .)
assert_eq "$expected_pipe" "$(jq -c .store_layers pipe.report)" "pipeline: store_layers as derived by hand"
assert_eq "$(sorted "$expected_pipe")" "$(skopeo_layers pipe.tar)" \
  "pipeline: skopeo reads those 4 layers"
assert_eq 5 "$(skopeo inspect docker-archive:pipe.tar | jq '.Layers | length')" "pipeline: 4 store layers and the customisation layer"
# As in nixpkgs, maxLayers does not limit a pipeline (it does auto: one store layer).
spec pipe-max2.json "{\"maxLayers\": 2, \"layeringPipeline\": $pipeline}"
"$STRATA" layered pipe-max2.json -o pipe-max2.tar -q
assert_eq 5 "$(skopeo inspect docker-archive:pipe-max2.tar | jq '.Layers | length')" "pipeline: maxLayers 2 does not cut it"
spec auto-max2.json '{"maxLayers": 2}'
"$STRATA" layered auto-max2.json -o auto-max2.tar --json -q >auto-max2.report
assert_eq 14 "$(jq '.store_layers[0] | length' auto-max2.report)" "auto, maxLayers 2: all 14 paths in the one store layer"
echo "$pipeline" >pipeline.json
spec pipe-file.json '{"layeringPipeline": "pipeline.json"}'
"$STRATA" layered pipe-file.json -o pipe-file.tar -q
cmp -s pipe.tar pipe-file.tar || fail "the pipeline from a file gives another image"
pass "a pipeline file (as a Nix derivation's output) gives the same image"
"$STRATA" layered auto.json --layering-pipeline "$pipeline" -o pipe-flag.tar -q
cmp -s pipe.tar pipe-flag.tar || fail "--layering-pipeline JSON gives another image than the spec key"
"$STRATA" layered auto.json --layering-pipeline popularity -o pop-flag.tar -q
cmp -s pop.tar pop-flag.tar || fail "--layering-pipeline popularity gives another image than the spec key"
pass "--layering-pipeline (a pipeline's JSON, or a shorthand) overrides the spec as the key does"

# --- two auto images sharing a big dependency share its layer ------------------------
# Image B: contents helper and libfoo (closure helper, libfoo, glibc, zlib), maxLayers 5.
#   glibc {glibc}; customisation (10.6 kB) -> helper, libfoo, zlib; libfoo {libfoo} takes
#   zlib from the customisation (a user of libfoo); zlib's step makes 5 keys: undone.
# Layers: [glibc], [libfoo, zlib], [helper]: glibc's layer is the one image A has.
jq -n --arg store "$STORE" --arg helper "${SP[helper]}" --arg libfoo "${SP[libfoo]}" \
  '{name: "layering/other", storeDir: $store, closureGraph: "sized.json", contents: [$helper, $libfoo], maxLayers: 5}' >other.json
"$STRATA" layered other.json -o other.tar --json -q >other.report
assert_eq "$( (names_json glibc; names_json libfoo zlib; names_json helper) | jq -sc .)" "$(jq -c .store_layers other.report)" \
  "image B: store_layers as derived by hand"
a=$(jq -c '.layers[1]' auto.report) b=$(jq -c '.layers[0]' other.report)
assert_eq "$(jq -r .digest <<<"$a")" "$(jq -r .digest <<<"$b")" "glibc's layer has the same digest in both images"
assert_eq "$(jq -r .diff_id <<<"$a")" "$(jq -r .diff_id <<<"$b")" "and the same diff_id"
shared=$(comm -12 <(skopeo inspect docker-archive:auto.tar | jq -r '.Layers[]' | sort) \
  <(skopeo inspect docker-archive:other.tar | jq -r '.Layers[]' | sort))
assert_eq "$(jq -r .diff_id <<<"$a")" "$shared" "skopeo (which lists a docker-archive's layers by diff_id): the one layer both images share is glibc's"

# --- the layer cache serves every layering --------------------------------------------
for name in auto pipe pop; do
  "$STRATA" layered $name.json -o $name-cold.tar --json -q --cache-dir cache >$name-cold.report
  "$STRATA" layered $name.json -o $name-warm.tar --json -q --cache-dir cache >$name-warm.report
  assert_eq "$(jq '.store_layers | length' $name-cold.report)" "$(jq .stats.layers_from_cache $name-warm.report)" \
    "$name: a rebuild takes every store layer from the cache"
  assert_eq 0 "$(jq .stats.file_bytes_read $name-warm.report)" "$name: and reads no file"
  cmp -s $name-cold.tar $name-warm.tar || fail "$name: the cached rebuild differs"
  cmp -s $name.tar $name-warm.tar || fail "$name: the cached rebuild differs from the uncached one"
  pass "$name: the cached rebuild is byte for byte the same image"
done

# --- without NAR sizes in the graph they are computed from the store ------------------
jq 'map(del(.narSize))' sized.json >unsized.json
jq '.closureGraph = "unsized.json"' pipe.json >pipe-unsized.json
"$STRATA" layered pipe-unsized.json -o pipe-unsized.tar --json -q >pipe-unsized.report
# curl's main layer comes in the NAR-size order `nix-store --dump | wc -c` gives.
by_nar_size=$(for n in zlib curl openssl glibc; do echo "$(nix-store --dump "${SP[$n]}" | wc -c) ${SP[$n]}"; done |
  sort -n -s | awk '{print $2}' | jq -R . | jq -sc .)
assert_eq "$by_nar_size" "$(jq -c '.store_layers[0]' pipe-unsized.report)" \
  "unsized graph: main's paths in the NAR-size order nix-store --dump gives"

# --- malformed pipelines: exit 2, the step named, nothing written ---------------------
bad() { # name pipeline-json message-regex
  spec "bad-$1.json" "{\"layeringPipeline\": $2}"
  expect_status 2 layered "bad-$1.json" -o "bad-$1.tar"
  grep -qE "$3" "$WORK/stderr" || fail "$1: message lacks /$3/: $(cat "$WORK/stderr")"
  [ ! -e "bad-$1.tar" ] || fail "$1: an output was written"
  pass "malformed pipeline ($1): exit 2, $(cat "$WORK/stderr")"
}
bad zero '[["popularity_contest"], ["limit_layers", 0]]' "layeringPipeline\[1\]\[1\]: \"limit_layers\" needs a whole number greater than 0"
bad unknown '[["popularity_contests"]]' "layeringPipeline\[0\]: unknown operator \"popularity_contests\""
bad nested '[["subcomponent_out", []], ["over", "rest", ["pipe", [["split_every"]]]]]' \
  "layeringPipeline\[1\]\[2\]\[1\]\[0\]: \"split_every\" takes one argument"
bad graph '[["remove_paths", []]]' "ends with one graph"
bad key '[["split_paths", ["/nowhere"]], ["over", "main", ["popularity_contest"]]]' "\"over\" \"main\": the record has no \"main\" \(it has: rest\)"
spec bad-shorthand.json '{"layeringPipeline": "autolayer"}'
expect_status 2 layered bad-shorthand.json -o bad-shorthand.tar
grep -q "not \"auto\", \"popularity\"" "$WORK/stderr" || fail "bad shorthand: $(cat "$WORK/stderr")"
pass "an unknown shorthand: exit 2"
finish
