#!/usr/bin/env bash
# fakeRootCommands: run as root over the customisation layer (the store and the host's
# tools visible); its chown reaches the layer, identically as root, with subordinate ids
# and with a single id.
source "$(dirname "$0")/lib/common.sh"
need jq su

cd "$WORK"
id strata-sub >/dev/null 2>&1 || "$STRATA_SRC/tests/e2e/lib/make-users"
store=$WORK/store
h() { printf '%032d' 0 | tr 0 "$1"; }
app=$store/$(h d)-app
mkdir -p "$app/bin" && printf '#!/bin/sh\necho app\n' >"$app/bin/app" && chmod 555 "$app/bin/app"
cat >spec.json <<JSON
{"name": "fakeroot", "tag": "1", "contents": ["$app"], "storeDir": "$store",
 "fakeRootCommands": "mkdir -p ./home/app ./var/empty && chown 1000:1000 ./home/app && echo hi >./home/app/f && chown 1000:100 ./home/app/f && chmod 4755 ./home/app/f && test -x $app/bin/app"}
JSON
mkdir out && chmod 777 out
chmod -R a+rX "$WORK"

last_layer() { tar xOf "$1" "$(tar xOf "$1" manifest.json | jq -r '.[0].Layers[-1]')" | tar tvzf - --numeric-owner; }
expected="drwxr-xr-x 0/0 bin/
lrwxrwxrwx 0/0 bin/app -> $app/bin/app
drwxr-xr-x 0/0 home/
drwxr-xr-x 1000/1000 home/app/
-rwsr-xr-x 1000/100 home/app/f
drwxr-xr-x 0/0 var/
drwxr-xr-x 0/0 var/empty/"
declare -A mode_of=([root]=root [strata-sub]=subuid [strata-nosub]=single)
first=""
for user in root strata-sub strata-nosub; do
  su "$user" -s /bin/sh -c "cd / && TMPDIR=$WORK/out '$STRATA' layered '$WORK/spec.json' -o '$WORK/out/$user.tar' --no-cache --json" >"out/$user.json" 2>"out/$user.err" ||
    fail "$user: strata layered failed: $(cat "out/$user.err")"
  assert_eq "${mode_of[$user]}" "$(jq -r .root_script.id_mode "out/$user.json")" "$user: the id mode in --json"
  listing=$(last_layer "out/$user.tar" | awk '{print $1, $2, $6, $7, $8}' | sed 's/ *$//')
  assert_eq "$expected" "$listing" "$user: the customisation layer has the owners and modes the script set"
  layer=$(tar xOf "out/$user.tar" manifest.json | jq -r '.[0].Layers[-1]')
  sum=$(tar xOf "out/$user.tar" "$layer" | sha256sum)
  [ -z "$first" ] && first=$sum
  assert_eq "$first" "$sum" "$user: the layer's bytes are the same as root's"
  leftovers=$(ls -A out | grep -v '\.tar$\|\.json$\|\.err$' || true)
  assert_eq "" "$leftovers" "$user: no temp dir left"
done

echo '{"name": "f", "contents": [], "fakeRootCommands": "exit 9"}' >fail.json
chmod a+r fail.json
expect_status 9 layered fail.json -o out/fail.tar --no-cache
grep -q "fakeRootCommands failed with exit status 9" "$WORK/stderr" || fail "no clear message: $(cat "$WORK/stderr")"
[ ! -e out/fail.tar ] || fail "output written for a failed script"
pass "a failing fakeRootCommands: its exit status, a clear message, no output"
finish
