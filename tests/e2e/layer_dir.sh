#!/usr/bin/env bash
# strata layer (mkPureLayer): a dir holding exactly layer.tar, json and VERSION; layer.tar
# is the tree the spec describes, byte-identical to the new layer `strata build` makes
# of the same spec; json's checksum is Docker's tarsum.v1 of layer.tar as computed
# independently in python (itself checked against moby's published vectors); bad specs
# exit 2 and leave no output.
source "$(dirname "$0")/lib/common.sh"
need python3 jq tar sha256sum
TOOLS="$(cd "$(dirname "$0")/lib" && pwd)/rootfs_tools.py"

cd "$WORK"
python3 "$TOOLS" tarsum-selftest
pass "python tarsum reproduces moby pkg/tarsum's test vectors"

# Contents: a long path (PAX), a symlink, a hard link, a private dir, an executable.
long="usr/share/$(printf 'a%.0s' {1..60})/$(printf 'b%.0s' {1..60})"
mkdir -p root/bin root/etc root/private "root/$long"
cp /bin/busybox root/bin/busybox
ln -s busybox root/bin/sh
echo "hello" >root/etc/motd
ln root/etc/motd root/etc/motd.hard
chmod 700 root/private
echo deep >"root/$long/file"
cat >spec.json <<JSON
{"name": "demo", "tag": "v1", "copyToRoot": "root", "uid": 1000, "gid": 100, "uname": "alice", "gname": "users",
 "extraCommands": "mkdir -p var/log && echo made >var/log/made && chmod 640 var/log/made",
 "config": {"Cmd": ["/bin/sh"]}}
JSON

"$STRATA" layer spec.json -o out --json >layer.json
assert_eq "VERSION json layer.tar" "$(ls out | tr '\n' ' ' | sed 's/ $//')" "the dir holds exactly layer.tar, json, VERSION"
[ "$(cat out/VERSION)" = "1.0" ] && [ "$(wc -c <out/VERSION)" = 3 ] || fail "VERSION is not 1.0"
pass "VERSION is 1.0 (no newline)"

# layer.tar: the expected tree, owned as the spec says.
tar -tvf out/layer.tar >tv.list
names=$(tar -tf out/layer.tar | sed 's|/$||' | LC_ALL=C sort | tr '\n' ' ')
want="bin bin/busybox bin/sh etc etc/motd etc/motd.hard private usr usr/share usr/share/$(printf 'a%.0s' {1..60}) $long $long/file var var/log var/log/made "
assert_eq "$want" "$names" "layer.tar lists the copyToRoot tree and extraCommands' files (no store dir: no store paths)"
[ "$(awk '{print $2}' tv.list | sort -u)" = "alice/users" ] || fail "owners are not alice/users: $(awk '{print $2}' tv.list | sort -u)"
grep -q '^drwx------ .* private/$' tv.list || fail "private/ lost its mode: $(grep private tv.list)"
grep -q '^-rw-r----- .* var/log/made$' tv.list || fail "extraCommands' chmod lost"
grep -q '^hrw-r--r-- .* etc/motd.hard link to etc/motd$' tv.list || fail "hard link not kept: $(grep motd tv.list)"
grep -q '^lrwxrwxrwx .* bin/sh -> busybox$' tv.list || fail "symlink not kept"
pass "layer.tar: owners from uid/gid/uname/gname, modes, hard link, symlink, long PAX name"

# json: the base JSON with the tarsum checksum, an id and the size.
tarsum=$(python3 "$TOOLS" tarsum out/layer.tar)
assert_eq "$tarsum" "$(jq -r .checksum out/json)" "json checksum = independent tarsum.v1 of layer.tar"
assert_eq "$tarsum" "$(jq -r .checksum layer.json)" "--json reports the same checksum"
assert_eq "$(wc -c <out/layer.tar)" "$(jq .Size out/json)" "json Size = size of layer.tar"
assert_eq '["/bin/sh"]' "$(jq -c .config.Cmd out/json)" "json carries the spec's config"
assert_eq "1970-01-01T00:00:01Z linux" "$(jq -r '"\(.created) \(.os)"' out/json)" "json created and os"
id=$(jq -c 'del(.id, .Size)' out/json | tr -d '\n' | sha256sum | cut -d' ' -f1)
assert_eq "$id" "$(jq -r .id out/json)" "json id = sha256 of the JSON without id and Size"
assert_eq "sha256:$(sha256sum out/layer.tar | cut -d' ' -f1)" "$(jq -r .diff_id layer.json)" "--json diff_id = sha256 of layer.tar"

# The same spec through strata build: its new layer is layer.tar, byte for byte.
"$STRATA" build spec.json --compress none -o image.tar -q
config=$(tar -xOf image.tar manifest.json | jq -r '.[0].Config')
assert_eq "$(jq -r .diff_id layer.json)" "$(tar -xOf image.tar "$config" | jq -r '.rootfs.diff_ids[-1]')" \
  "strata build's new layer of the same spec is the same tar"

# Reproducible; a different spec changes the checksum.
"$STRATA" layer spec.json -o again -q
cmp out/layer.tar again/layer.tar && cmp out/json again/json || fail "a second run gives different bytes"
pass "a second run gives byte-identical layer.tar and json"
jq '.uid = 0 | .gid = 0 | .uname = "root" | .gname = "root"' spec.json >root-spec.json
"$STRATA" layer root-spec.json -o rootowned -q
[ "$(jq -r .checksum rootowned/json)" != "$tarsum" ] || fail "owners do not change the tarsum"
assert_eq "$(python3 "$TOOLS" tarsum rootowned/layer.tar)" "$(jq -r .checksum rootowned/json)" "tarsum of a root-owned layer matches python too"

# shadowSetup adds the seed's files to the layer.
jq '.shadowSetup = true' spec.json >shadow-spec.json
"$STRATA" layer shadow-spec.json -o shadow -q
for f in etc/passwd etc/shadow etc/group etc/gshadow etc/pam.d/other etc/login.defs; do
  tar -tf shadow/layer.tar | grep -x "$f" >/dev/null || fail "shadowSetup: $f missing from layer.tar"
done
assert_eq "root:x:0:0::/root:/bin/sh" "$(tar -xOf shadow/layer.tar etc/passwd)" "shadowSetup: etc/passwd in the layer"
assert_eq "$(python3 "$TOOLS" tarsum shadow/layer.tar)" "$(jq -r .checksum shadow/json)" "shadowSetup layer: tarsum matches"

# Bad input: exit 2 (a failing script: 1), one message, no output dir, no temp dir beside it.
check_bad() { # [status] pattern what args...
  local status=2
  if [[ "$1" =~ ^[0-9]+$ ]]; then status=$1 && shift; fi
  local pattern=$1 what=$2
  shift 2
  expect_status "$status" "$@"
  grep -Eq -- "$pattern" "$WORK/stderr" || fail "$what: message lacks /$pattern/: $(cat "$WORK/stderr")"
  [ ! -e bad ] || fail "$what: the output dir was created"
  ! ls -A | grep '\.strata\.' >/dev/null || fail "$what: a temp dir was left: $(ls -A)"
  pass "$what -> exit $status: $(head -1 "$WORK/stderr")"
}
check_bad 7 "runAsRoot failed with exit status 7" "a failing runAsRoot (its exit status)" \
  layer --name x --copy-to-root root --run-as-root 'exit 7' -o bad
check_bad "fromImage is only used by a runAsRoot layer" "fromImage without runAsRoot" \
  layer --name x --from-image spec.json -o bad

# mkRootLayer: runAsRoot over a base image's layers; the layer is what the script changed.
mkdir -p rbase/bin rbase/etc && cp /bin/busybox rbase/bin/ && ln -s busybox rbase/bin/sh && echo x >rbase/etc/gone
"$STRATA" build --name rbase --copy-to-root rbase -o rbase.tar -q
"$STRATA" layer --name rl --from-image rbase.tar --run-as-root 'mkdir /data && chown 1000:1000 /data && rm /etc/gone' -o rootlayer -q
assert_eq "$(printf '1000/1000 data/\n0/0 etc/\n0/0 etc/.wh.gone')" \
  "$(tar -tvf rootlayer/layer.tar --numeric-owner | awk '{print $2, $6}')" "mkRootLayer: the layer holds the script's change, owners and whiteout"
assert_eq "$(python3 "$TOOLS" tarsum rootlayer/layer.tar)" "$(jq -r .checksum rootlayer/json)" "mkRootLayer: tarsum matches"
check_bad "'compressor' must be none" "compressor" layer --name x --copy-to-root root --compress gzip -o bad
check_bad 1 "extraCommands failed with exit status 3" "a failing extraCommands (failed work)" layer --name x --copy-to-root root --extra-commands 'exit 3' -o bad
check_bad "output directory .*/out is not empty" "non-empty output dir" layer spec.json -o out
check_bad "--output is required" "no -o" layer spec.json
check_bad "unknown key 'colour'" "unknown spec key" layer <(echo '{"name": "x", "colour": 1}') -o bad

finish
