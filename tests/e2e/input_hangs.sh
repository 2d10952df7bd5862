#!/usr/bin/env bash
# Inputs that crashed or hung strata (issue 13, items 10 and 11's inspect part): deep JSON,
# FIFOs and devices where a file belongs, a closed or full stdout, and inspect of a
# compressed archive streaming instead of staging it in $TMPDIR. Every strata run here is
# under `timeout`: a hang is a failure (exit 124), not a stuck test.
source "$(dirname "$0")/lib/common.sh"
need jq python3 gzip zstd

cd "$WORK"
mkdir root out
echo hi >root/file

run() { # status, pattern, description, strata args...
  local want=$1 pattern=$2 what=$3 got=0
  shift 3
  timeout 20 "$STRATA" "$@" >"$WORK/stdout" 2>"$WORK/stderr" </dev/null || got=$?
  [ "$got" = "$want" ] || fail "$what: exited $got, expected $want; stderr: $(head -c 500 "$WORK/stderr")"
  grep -Eq -- "$pattern" "$WORK/stderr" || fail "$what: message lacks /$pattern/: $(head -c 500 "$WORK/stderr")"
  [ -z "$(ls -A out)" ] || fail "$what: something was left in the output dir: $(ls -A out)"
  pass "$what -> exit $want: $(sed -n 1p "$WORK/stderr" | cut -c 1-200)"
}
deep() { # levels: a JSON value nested that deep
  python3 -c "import sys; n=int(sys.argv[1]); sys.stdout.write('{\"a\":' * n + '1' + '}' * n)" "$1"
}

"$STRATA" build --name base --copy-to-root root -o base.tar -q
"$STRATA" build --name base --copy-to-root root --format oci-dir -o base.oci -q

# Deep JSON: refused before parsing, never a stack overflow.
echo "{\"name\": \"x\", \"config\": $(deep 100000)}" >deep.json
run 2 "spec deep.json is not valid JSON: it is nested more than 128 levels deep" "a config 100,000 levels deep" build deep.json -o out/i.tar
run 2 "--config-json is not valid JSON: it is nested more than 128" "--config-json 20,000 levels deep" \
  build --name x --config-json "$(deep 20000)" -o out/i.tar
echo "{\"name\": \"x\", \"config\": {\"Labels\": {\"a\": \"$(printf '[%.0s' $(seq 300))\"}}}" >brackets.json
"$STRATA" build brackets.json -o brackets.tar -q && pass "brackets inside a string are no nesting"
deep 100000 >graph.json
run 2 "graph.json is not valid JSON: it is nested more than 128" "a closure graph 100,000 levels deep" closure --graph graph.json
# a layeringPipeline 50,000 steps deep, from a file, the flag and `closure --layers`
deep_pipeline() { python3 -c "import sys; n=int(sys.argv[1]); sys.stdout.write('[' + '[\"pipe\",[' * n + '[\"popularity_contest\"]' + ']]' * n + ']')" "$1"; }
deep_pipeline 50000 >deep-pipe.json
echo '{"name": "x", "layeringPipeline": "deep-pipe.json"}' >deep-pipe-spec.json
run 2 "layeringPipeline file .*deep-pipe.json is not valid JSON: it is nested more than 128" "a layeringPipeline file 50,000 steps deep" \
  layered deep-pipe-spec.json -o out/l.tar
run 2 "--layering-pipeline is not valid JSON: it is nested more than 128" "--layering-pipeline 5,000 steps deep" \
  layered --name x --layering-pipeline "$(deep_pipeline 5000)" -o out/l.tar
echo '[{"path": "/nix/store/00000000000000000000000000000000-a", "references": [], "narSize": 10}]' >one-path.json
run 2 "--layers file deep-pipe.json is not valid JSON: it is nested more than 128" "closure --layers @FILE 50,000 steps deep" \
  closure --graph one-path.json --layers @deep-pipe.json
run 2 '--layers: not "auto", "popularity" or a JSON pipeline' "closure --layers with a word" closure --graph one-path.json --layers popular
# a pipeline file that never ends: a device is refused, as an image or spec would be
echo '{"name": "x", "layeringPipeline": "/dev/zero"}' >zero-pipe-spec.json
run 2 "layeringPipeline file /dev/zero is a character device, not a regular file" "a layeringPipeline file /dev/zero" \
  layered zero-pipe-spec.json -o out/l.tar
run 2 "--layers file /dev/zero is a character device, not a regular file" "closure --layers @/dev/zero" \
  closure --graph one-path.json --layers @/dev/zero
# a base image whose config is 100,000 levels deep (docker-archive and OCI dir)
python3 - base.tar deepconfig.tar <<'PY'
import io, json, sys, tarfile
src, out = sys.argv[1:]
n = 100000
with tarfile.open(src) as t, tarfile.open(out, "w") as o:
    name = json.load(t.extractfile("manifest.json"))[0]["Config"]
    for m in t.getmembers():
        f = t.extractfile(m) if m.isfile() else None
        if m.name == name:
            data = ('{"rootfs": {"diff_ids": []}, "x": ' + '[' * n + ']' * n + '}').encode()
            m.size = len(data)
            f = io.BytesIO(data)
        o.addfile(m, f)
PY
run 2 "deepconfig.tar: config is not valid JSON: it is nested more than 128" "inspect of a base with a deep config" inspect deepconfig.tar
run 2 "deepconfig.tar: config is not valid JSON" "build --from-image with a deep config" build --name x --from-image deepconfig.tar -o out/i.tar

# FIFOs and devices where an image, a blob or a file belongs: refused at once.
mkfifo fifo
run 2 "image fifo is a FIFO, not a regular file" "inspect of a FIFO" inspect fifo
run 2 "image .*fifo is a FIFO" "build --from-image a FIFO" build --name x --from-image fifo -o out/i.tar
run 2 "image fifo is a FIFO" "unpack of a FIFO" unpack fifo out/u
run 2 "image fifo is a FIFO" "export of a FIFO" export fifo -o out/e.tar
run 2 "image /dev/zero is a character device" "inspect of /dev/zero" inspect /dev/zero
cp -r base.oci fifoblob.oci
layer=$(jq -r '.manifests[0].digest' base.oci/index.json | cut -d: -f2)
layer=$(jq -r '.layers[0].digest' "base.oci/blobs/sha256/$layer" | cut -d: -f2)
rm "fifoblob.oci/blobs/sha256/$layer" && mkfifo "fifoblob.oci/blobs/sha256/$layer"
run 2 "blob .*$layer is a FIFO, not a regular file" "unpack of an OCI dir whose layer blob is a FIFO" unpack fifoblob.oci out/u
run 2 "blob .*$layer is a FIFO" "build --from-image an OCI dir whose layer blob is a FIFO" \
  build --name x --from-image fifoblob.oci -o out/i.tar
cp -r base.oci fifoindex.oci
rm fifoindex.oci/index.json && mkfifo fifoindex.oci/index.json
run 2 "fifoindex.oci/index.json is a FIFO" "inspect of an OCI dir whose index.json is a FIFO" inspect fifoindex.oci
cp -r base.oci dirindex.oci
rm dirindex.oci/index.json && mkdir dirindex.oci/index.json
run 2 "dirindex.oci/index.json is a directory, not a regular file" "index.json that is a directory" inspect dirindex.oci
run 2 "not valid JSON" "a FIFO spec no one writes to ends" build fifo -o out/i.tar
# a pipe that is written is fine: process substitution
"$STRATA" build <(echo '{"name": "piped"}') -o piped.tar -q && pass "a spec from <(…) is read"
"$STRATA" closure --graph <(echo '[]') >/dev/null && pass "a graph from <(…) is read"

# A closed or full stdout: exit 1 naming stdout, never success.
for args in "build --name x -o -" "stream --name x" "export base.tar" "inspect base.tar" "shadow-setup --script"; do
  got=0
  timeout 20 "$STRATA" $args >&- 2>"$WORK/stderr" || got=$?
  [ "$got" = 1 ] || fail "strata $args with stdout closed exited $got: $(cat "$WORK/stderr")"
  grep -q "stdout" "$WORK/stderr" || fail "strata $args with stdout closed: $(cat "$WORK/stderr")"
  got=0
  timeout 20 "$STRATA" $args >/dev/full 2>"$WORK/stderr.full" || got=$?
  [ "$got" = 1 ] || fail "strata $args with stdout /dev/full exited $got: $(cat "$WORK/stderr.full")"
  grep -q "stdout\|image stream" "$WORK/stderr.full" || fail "strata $args to /dev/full: $(cat "$WORK/stderr.full")"
  pass "strata $args: closed stdout and /dev/full -> exit 1: $(head -1 "$WORK/stderr")"
done

got=0
timeout 20 "$STRATA" build --name x -o /dev/stdout >&- 2>"$WORK/stderr" || got=$?
[ "$got" != 0 ] || fail "build -o /dev/stdout with stdout closed succeeded"
pass "build -o /dev/stdout with stdout closed -> exit $got: $(head -1 "$WORK/stderr")"

# inspect streams a compressed archive: $TMPDIR is never needed, the answer is the same.
"$STRATA" inspect base.tar | jq -S 'del(.image)' >plain.json
gzip -k base.tar
mkdir -m 500 no-tmp
TMPDIR="$WORK/no-tmp/missing" "$STRATA" inspect base.tar.gz >gz.raw 2>"$WORK/stderr" ||
  fail "inspect base.tar.gz without a usable TMPDIR: $(cat "$WORK/stderr")"
assert_eq "$(cat plain.json)" "$(jq -S 'del(.image)' gz.raw)" "inspect of a .tar.gz (no TMPDIR) = inspect of the .tar"
"$STRATA" build --name base --copy-to-root root --format oci-archive -o base.oci.tar -q
"$STRATA" inspect base.oci.tar | jq -S 'del(.image)' >oci-plain.json
zstd -q base.oci.tar
TMPDIR="$WORK/no-tmp/missing" "$STRATA" inspect base.oci.tar.zst | jq -S 'del(.image)' >oci-zst.json
assert_eq "$(cat oci-plain.json)" "$(cat oci-zst.json)" "inspect of an OCI .tar.zst (no TMPDIR) = inspect of the .tar"
finish
