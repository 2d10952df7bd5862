#!/usr/bin/env bash
# Same inputs -> byte-identical images, whoever builds, from wherever, with any umask
# or thread count; `created` touches only the config, `mtime` the layer entries.
source "$(dirname "$0")/lib/common.sh"
need jq cmp

cd "$WORK"
make_busybox_root root
mkdir -p root/srv
seq 1 20000 >root/srv/numbers
cat >spec.json <<JSON
{"name": "repro", "tag": "t", "copyToRoot": "root", "config": {"Cmd": ["/bin/sh"]},
 "extraCommands": "mkdir -p made && echo made >made/file && touch made/empty"}
JSON
chmod -R a+rX "$WORK"

(cd / && umask 022 && "$STRATA" build "$WORK/spec.json" -o "$WORK/a.tar" -q)
mkdir elsewhere && chmod 777 elsewhere
(cd elsewhere && umask 077 && STRATA_THREADS=1 "$STRATA" build ../spec.json -o ../b.tar -q)
cmp a.tar b.tar || fail "builds from different dirs, umasks and thread counts differ"
pass "different working dir, umask (022 vs 077) and thread count (1 vs all): identical bytes"

if [ "$(id -u)" -eq 0 ]; then
  id strata-nosub >/dev/null 2>&1 || "$STRATA_SRC/tests/e2e/lib/make-users"
  su strata-nosub -s /bin/sh -c "cd /tmp && umask 027 && '$STRATA' build '$WORK/spec.json' -o '$WORK/elsewhere/c.tar' -q"
  cmp a.tar elsewhere/c.tar || fail "a build as another user differs"
  pass "a build as another user (strata-nosub) is identical"
else
  echo "note: not root, the other-user comparison runs in CI (as root)"
fi

for c in zstd none; do
  "$STRATA" build spec.json --compress $c -o $c-1.tar -q
  STRATA_THREADS=3 "$STRATA" build spec.json --compress $c -o $c-2.tar -q
  cmp $c-1.tar $c-2.tar || fail "$c output depends on the thread count"
  pass "$c: identical across thread counts"
done

layer_of() { tar xOf "$1" manifest.json | jq -r '.[0].Layers[0]'; }
config_of() { tar xOf "$1" manifest.json | jq -r '.[0].Config'; }

# created: config only.
jq '.created = "2024-05-06T07:08:09Z"' spec.json >created.json
"$STRATA" build created.json -o created.tar -q
assert_eq "$(layer_of a.tar)" "$(layer_of created.tar)" "'created' leaves the layer unchanged"
[ "$(config_of a.tar)" != "$(config_of created.tar)" ] || fail "'created' did not change the config"
assert_eq "2024-05-06T07:08:09Z" "$(tar xOf created.tar "$(config_of created.tar)" | jq -r .created)" "'created' is in the config"
jq '.created = "now"' spec.json >now.json
"$STRATA" build now.json -o now.tar -q
assert_eq "$(layer_of a.tar)" "$(layer_of now.tar)" "'created: now' leaves the layer unchanged"

# mtime: the layer entries carry it; SOURCE_DATE_EPOCH is the fallback.
jq '.mtime = "2001-02-03T04:05:06Z"' spec.json >mtime.json
"$STRATA" build mtime.json -o mtime.tar -q
tar xOf mtime.tar "$(layer_of mtime.tar)" | tar tvzf - --full-time | awk '{print $4"T"$5}' | sort -u >mtimes
assert_eq "2001-02-03T04:05:06" "$(cat mtimes)" "every entry has the spec's mtime"
SOURCE_DATE_EPOCH=981173106 "$STRATA" build spec.json -o sde.tar -q
assert_eq "$(layer_of mtime.tar)" "$(layer_of sde.tar)" "SOURCE_DATE_EPOCH gives the same layer as the same mtime"
tar xOf a.tar "$(layer_of a.tar)" | tar tvzf - --full-time | awk '{print $4"T"$5}' | sort -u >mtimes
assert_eq "1970-01-01T00:00:01" "$(cat mtimes)" "default mtime is 1970-01-01T00:00:01Z"
finish
