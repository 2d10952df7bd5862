#!/usr/bin/env bash
# Bad input to strata layered / stream / manifest: one clear message naming the input,
# exit 2, and nothing at the output path (nor a temp file beside it); stream writes
# nothing to stdout.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/layered.sh"
need jq

cd "$WORK"
make_fake_store
mkdir out
app=${SP[app]} glibc=${SP[glibc]} zlib=${SP[zlib]}

spec() { # file, extra JSON merged in: a good spec of app's closure
  jq -n --arg store "$STORE" --arg app "$app" --argjson extra "${2:-{\}}" \
    '{name: "bad", tag: "v1", storeDir: $store, closureGraph: "graph.json", contents: [$app]} + $extra' >"$1"
}
spec good.json
"$STRATA" layered good.json -o good.tar -q
pass "the spec the cases below break builds"

# check STATUS PATTERN WHAT SPEC: the same bad spec through layered (archive and oci-dir),
# stream and manifest.
check() {
  local status=$1 pattern=$2 what=$3 specfile=$4 cmd
  for cmd in "layered -o out/img.tar" "layered --format oci-dir -o out/img" "manifest -o out/reg" "stream"; do
    # shellcheck disable=SC2086
    expect_status "$status" $cmd "$specfile" --cache-dir "$WORK/cache"
    grep -Eq "$pattern" "$WORK/stderr" || fail "$what ($cmd): message lacks /$pattern/: $(cat "$WORK/stderr")"
    [ "$(wc -l <"$WORK/stderr")" -le 2 ] || fail "$what ($cmd): more than one message: $(cat "$WORK/stderr")"
    [ -z "$(ls -A out)" ] || fail "$what ($cmd): something was left in the output dir: $(ls -A out)"
    [ ! -s "$WORK/stdout" ] || fail "$what ($cmd): wrote to stdout"
  done
  pass "$what -> exit $status from layered, layered --format oci-dir, manifest and stream: $(head -1 "$WORK/stderr")"
}

# A reference cycle (not a self-reference) in a JSON closureGraph.
jq -n --arg app "$app" --arg glibc "$glibc" --arg zlib "$zlib" \
  '[{path: $app, references: [$zlib]}, {path: $zlib, references: [$glibc]}, {path: $glibc, references: [$glibc, $app]}]' >cycle.json
spec cycle-spec.json '{"closureGraph": "cycle.json"}'
check 2 "cycle.*(zlib|glibc|app)" "a reference cycle in the closureGraph" cycle-spec.json

# A store path the graph lists but that is not on disk.
ghost=$STORE/$(h 0)-ghost-1
jq -n --arg app "$app" --arg ghost "$ghost" '[{path: $app, references: [$ghost]}, {path: $ghost, references: []}]' >ghost.json
spec ghost-spec.json '{"closureGraph": "ghost.json"}'
check 2 "$ghost.* missing" "a store path missing on disk" ghost-spec.json
# (A path named in config.Cmd that is not in the store is no reference when scanning, as
# for Nix's scanner, which only looks for the hashes of existing paths: that builds.)
spec ghost-cmd.json "$(jq -n --arg g "$ghost" '{config: {Cmd: [($g + "/bin/x")]}}')"
jq 'del(.closureGraph)' ghost-cmd.json >ghost-scan.json
"$STRATA" layered ghost-scan.json -o ghost-ok.tar -q
pass "scanning: a config naming a path absent from the store builds (no reference)"
# ... or referenced, but absent from the graph
jq -n --arg app "$app" --arg glibc "$glibc" '[{path: $app, references: [$glibc]}]' >partial.json
spec partial-spec.json '{"closureGraph": "partial.json"}'
check 2 "$glibc" "a reference the graph does not list" partial-spec.json
# ... or a contents path that does not exist
spec nocontents.json "$(jq -n --arg p "$STORE/$(h 1)-nothere" '{contents: [$p]}')"
check 2 "$(h 1)-nothere" "a contents store path that does not exist" nocontents.json

# A path outside storeDir.
outside=$WORK/elsewhere/$(h 2)-outside-1
mkdir -p "$outside"
jq -n --arg app "$app" --arg o "$outside" '[{path: $app, references: [$o]}, {path: $o, references: []}]' >outside.json
spec outside-spec.json '{"closureGraph": "outside.json"}'
check 2 "$outside.*(outside|not in|store)" "a graph path outside storeDir" outside-spec.json

# maxLayers <= 1.
for n in 1 0 -3; do
  spec "max$n.json" "{\"maxLayers\": $n}"
  check 2 "maxLayers.*greater than 1" "maxLayers $n" "max$n.json"
done

# maxLayers too small for the base's layers: 2 base layers + customisation = 3.
mkdir -p b1 b2
echo 1 >b1/one
echo 2 >b2/two
"$STRATA" build --name base --copy-to-root b1 -o base1.tar -q
"$STRATA" build --name base --from-image base1.tar --copy-to-root b2 -o base2.tar -q
spec base3.json '{"fromImage": "base2.tar", "maxLayers": 3}'
check 2 "maxLayers is 3.*2 layers" "maxLayers 3 with a 2-layer base" base3.json
spec base4.json '{"fromImage": "base2.tar", "maxLayers": 4}'
"$STRATA" layered base4.json -o base4.tar -q
assert_eq 4 "$(archive_layers base4.tar | wc -l)" "maxLayers 4 with a 2-layer base: 4 layers (the whole closure shares one)"

# An unreadable graph file: a directory in its place, a missing one, and (as a user who
# cannot read it) mode 000.
mkdir graphdir
spec dir-spec.json '{"closureGraph": "graphdir"}'
check 2 "graphdir" "a directory (no closureInfo) as the graph file" dir-spec.json
spec missing-spec.json '{"closureGraph": "nothere.json"}'
check 2 "nothere.json" "a missing graph file" missing-spec.json
cp graph.json locked.json
chmod 000 locked.json
spec locked-spec.json '{"closureGraph": "locked.json"}'
if [ "$(id -u)" -eq 0 ]; then
  id strata-nosub >/dev/null 2>&1 || "$STRATA_SRC/tests/e2e/lib/make-users"
  mkdir -m 777 out-nosub
  got=0
  su strata-nosub -s /bin/sh -c "cd '$WORK' && '$STRATA' layered locked-spec.json -o out-nosub/img.tar --no-cache" \
    >stdout 2>stderr || got=$?
else
  mkdir out-nosub
  got=0
  "$STRATA" layered locked-spec.json -o out-nosub/img.tar --no-cache >stdout 2>stderr || got=$?
fi
assert_eq 2 "$got" "an unreadable (mode 000) graph file: exit 2"
grep -q "locked.json" stderr || fail "the message does not name the graph file: $(cat stderr)"
[ -z "$(ls -A out-nosub)" ] || fail "output left for an unreadable graph: $(ls -A out-nosub)"
pass "an unreadable graph file: $(head -1 stderr)"

# A malformed JSON graph.
printf '[{"path": ' >broken.json
spec broken-spec.json '{"closureGraph": "broken.json"}'
check 2 "broken.json" "a malformed JSON graph" broken-spec.json
finish
