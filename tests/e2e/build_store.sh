#!/usr/bin/env bash
# buildImage's store closure: store paths named by copyToRoot contents (scanned, or from
# a closureGraph) land under the store dir in the layer, with their own references.
source "$(dirname "$0")/lib/common.sh"
need jq

cd "$WORK"
store=$WORK/store
mkdir -p "$store"
h() { printf '%032d' 0 | tr 0 "$1"; } # a 32-character nix-base32 hash of one repeated letter
lib=$store/$(h a)-libfoo-1.0
app=$store/$(h b)-app-2.0
unused=$store/$(h c)-unused-1
mkdir -p "$lib/lib" "$app/bin" "$unused"
echo "libfoo" >"$lib/lib/libfoo.so"
printf '#!/bin/sh\nexec %s/lib/libfoo.so\n' "$lib" >"$app/bin/app"
chmod 555 "$app/bin/app"
echo "self: $unused" >"$unused/self"
mkdir -p contents/bin
ln -s "$app/bin/app" contents/bin/app

"$STRATA" build --name st --copy-to-root contents --store-dir "$store" -o img.tar -q --json >report.json
layer=$(tar xOf img.tar manifest.json | jq -r '.[0].Layers[0]')
tar xOf img.tar "$layer" | tar tzf - | sort >entries
rel=${store#/}
grep -qx "$rel/$(h a)-libfoo-1.0/lib/libfoo.so" entries || fail "libfoo (referenced by app) missing: $(cat entries)"
grep -qx "$rel/$(h b)-app-2.0/bin/app" entries || fail "app (referenced by contents) missing"
grep -q "unused" entries && fail "an unreferenced store path was added"
grep -qx "bin/app" entries || fail "the contents symlink is missing"
pass "scanned closure: contents -> app -> libfoo, nothing else"
assert_eq "[\"$lib\",\"$app\"]" "$(jq -c '.store_paths | sort' report.json)" "--json lists the store paths"

# The same from a closureGraph (JSON), no scanning.
cat >graph.json <<JSON
[{"path": "$app", "references": ["$lib", "$app"]}, {"path": "$lib", "references": []},
 {"path": "$unused", "references": []}]
JSON
"$STRATA" build --name st --copy-to-root contents --store-dir "$store" --closure-graph graph.json -o img2.tar -q
cmp img.tar img2.tar || fail "a closureGraph gives a different image than the scan"
pass "closureGraph gives the same image as scanning"

# A copyToRoot that is itself a store path brings its closure.
"$STRATA" build --name st --copy-to-root "$app" --store-dir "$store" -o img3.tar -q
layer=$(tar xOf img3.tar manifest.json | jq -r '.[0].Layers[0]')
tar xOf img3.tar "$layer" | tar tzf - | sort >entries3
grep -qx "bin/app" entries3 || fail "store path contents not merged into the root"
grep -qx "$rel/$(h a)-libfoo-1.0/lib/libfoo.so" entries3 || fail "closure of a store-path copyToRoot missing"
pass "a store path given as copyToRoot brings its closure"

# A graph that lacks a referenced path is an input error.
echo "[{\"path\": \"$app\", \"references\": [\"$lib\"]}]" >bad-graph.json
expect_status 2 build --name st --copy-to-root contents --store-dir "$store" --closure-graph bad-graph.json -o bad.tar
[ ! -e bad.tar ] || fail "output written for a bad graph"
pass "a graph missing a referenced path: exit 2 ($(head -1 "$WORK/stderr"))"
finish
