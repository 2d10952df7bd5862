#!/usr/bin/env bash
# Bad input: one clear message naming the input, exit 2 (1 for failed work), and
# nothing at the output path (not even a temp file beside it).
source "$(dirname "$0")/lib/common.sh"
need jq

cd "$WORK"
make_busybox_root root
mkdir out
"$STRATA" build --name good --copy-to-root root -o good.tar -q

check() { # status, pattern, description, strata args...
  local status=$1 pattern=$2 what=$3
  shift 3
  expect_status "$status" "$@"
  grep -Eq "$pattern" "$WORK/stderr" || fail "$what: message lacks /$pattern/: $(cat "$WORK/stderr")"
  [ "$(wc -l <"$WORK/stderr")" -le 2 ] || fail "$what: more than one message: $(cat "$WORK/stderr")"
  [ -z "$(ls -A out)" ] || fail "$what: something was left in the output dir: $(ls -A out)"
  pass "$what -> exit $status: $(head -1 "$WORK/stderr")"
}

printf '{"name": "x",' >malformed.json
check 2 'malformed.json is not valid JSON' "malformed JSON" build malformed.json -o out/img.tar
echo '{"name": "x", "copyToRoot": "root", "colour": 1}' >unknown.json
check 2 "unknown key 'colour'" "unknown key" build unknown.json -o out/img.tar
echo '{"name": "x", "copyToRoot": 5}' >type.json
check 2 "'copyToRoot' must be a path or a list of paths, not a number" "wrong type" build type.json -o out/img.tar
echo '{"name": 1}' >type2.json
check 2 "'name' must be a string" "wrong type (name)" build type2.json -o out/img.tar
echo '{"copyToRoot": "root"}' >noname.json
check 2 "'name' is missing" "missing name" build noname.json -o out/img.tar
echo '{"name": "x", "copyToRoot": "nope"}' >missing.json
check 2 "copyToRoot path .*/nope does not exist" "missing copyToRoot path" build missing.json -o out/img.tar
echo '{"name": "x", "maxLayers": 1}' >layers.json
check 2 "'maxLayers' must be greater than 1" "maxLayers 1" build layers.json -o out/img.tar
echo '{"name": "x", "created": "yesterday"}' >created.json
check 2 "'created' is 'yesterday'" "bad created" build created.json -o out/img.tar
check 2 "unknown compression 'lzma'" "bad --compress" build --name x --compress lzma -o out/img.tar
check 2 "unknown image format 'qcow'" "bad --format" build --name x --format qcow -o out/img.tar
check 2 "spec nothere.json does not exist" "missing spec" build nothere.json -o out/img.tar

# Bad base images.
head -c 3000 good.tar >truncated.tar
check 2 "truncated.tar is truncated" "truncated base archive" build --name x --from-image truncated.tar -o out/img.tar
cp good.tar corrupt.tar
printf 'garbage!' | dd of=corrupt.tar bs=1 seek=100 conv=notrunc status=none
check 2 "corrupt.tar is not a valid tar archive" "corrupt base archive" build --name x --from-image corrupt.tar -o out/img.tar
echo 'not an image' >text.img
check 2 "text.img" "a base that is no image" build --name x --from-image text.img -o out/img.tar
check 2 "has no image \*:nope" "base without the requested tag" build --name x --from-image good.tar --from-image-tag nope -o out/img.tar
# a layer blob damaged inside an otherwise valid archive
python3 - good.tar badlayer.tar <<'PY'
import sys, tarfile, io, json
src, out = sys.argv[1:]
with tarfile.open(src) as t, tarfile.open(out, "w") as o:
    layer = json.load(t.extractfile("manifest.json"))[0]["Layers"][0]
    for m in t.getmembers():
        f = t.extractfile(m) if m.isfile() else None
        if m.name == layer:
            data = bytearray(f.read()); data[len(data)//2:len(data)//2+64] = b"\xff"*64
            f = io.BytesIO(bytes(data))
        o.addfile(m, f)
PY
check 2 "badlayer.tar: layer 1 .* is corrupt" "a corrupt layer in the base" build --name x --from-image badlayer.tar --copy-to-root root -o out/img.tar

# Output paths.
mkdir out/adir
expect_status 2 build --name x --copy-to-root root -o out/adir
grep -q "out/adir is a directory" "$WORK/stderr" || fail "output directory: $(cat "$WORK/stderr")"
rmdir out/adir
pass "output path that is a directory -> exit 2"
check 2 "output directory .*/no/such does not exist" "missing output dir" build --name x --copy-to-root root -o "$WORK/no/such/img.tar"
mkdir ro && chmod 555 ro
if [ "$(id -u)" -eq 0 ]; then
  id strata-nosub >/dev/null 2>&1 || "$STRATA_SRC/tests/e2e/lib/make-users"
  su strata-nosub -s /bin/sh -c "'$STRATA' build --name x --copy-to-root '$WORK/root' -o '$WORK/ro/img.tar'" >/dev/null 2>"$WORK/stderr" && fail "unwritable dir accepted"
else
  "$STRATA" build --name x --copy-to-root root -o ro/img.tar 2>"$WORK/stderr" && fail "unwritable dir accepted"
fi
grep -q "output directory .*/ro is not writable" "$WORK/stderr" || fail "unwritable output dir: $(cat "$WORK/stderr")"
[ -z "$(ls -A ro)" ] || fail "something was written into the unwritable dir"
pass "unwritable output dir -> clear message, nothing written"

# Failed work: exit 1, nothing at the output path.
check 1 "extraCommands failed with exit status 3" "failing extraCommands" build --name x --copy-to-root root --extra-commands 'exit 3' -o out/img.tar
finish
