#!/usr/bin/env bash
# The strata flags nix/default.nix calls (outside Nix here; tests/e2e/nix_lib.sh runs them
# inside):
#  - build/layered --archive-compress gzip|zstd: the output is the plain archive (the same
#    bytes as without the flag) compressed whole, as dockerTools' `compressor` makes
#    buildImage's output; skopeo reads the zstd one and the decompressed gzip one (Debian's
#    skopeo/podman refuse gzip'd docker-archives, "loading tar component manifest.json");
#    bad values, a dir format, a registry output are input errors (2); a failed build
#    leaves nothing at the output path;
#  - stream-script SPEC -o OUT: an executable (0755) that writes the same docker-archive as
#    `strata stream SPEC` (its arguments passed on), naming strata and the spec by absolute
#    path, quoted; a missing spec or a relative --shell is an input error and writes nothing.
source "$(dirname "$0")/lib/common.sh"
need skopeo jq gzip zstd cmp

cd "$WORK"
make_busybox_root root
echo hello >root/etc/motd
cat >spec.json <<JSON
{"name": "flags", "tag": "1", "copyToRoot": "root", "config": {"Cmd": ["/bin/sh"]}}
JSON

layers_of() { skopeo inspect "docker-archive:$1" | jq -c .Layers; }

for cmd in build layered; do
  "$STRATA" "$cmd" spec.json --compress none -o plain-$cmd.tar -q
  "$STRATA" "$cmd" spec.json --compress none --archive-compress gzip -o $cmd.tar.gz -q
  "$STRATA" "$cmd" spec.json --compress none --archive-compress zstd -o $cmd.tar.zst -q
  "$STRATA" "$cmd" spec.json --compress none --archive-compress none -o none-$cmd.tar -q
  [ "$(od -An -tx1 -N2 $cmd.tar.gz | tr -d ' ')" = 1f8b ] || fail "$cmd: --archive-compress gzip wrote no gzip file"
  [ "$(od -An -tx1 -N4 $cmd.tar.zst | tr -d ' ')" = 28b52ffd ] || fail "$cmd: --archive-compress zstd wrote no zstd file"
  gzip -dc $cmd.tar.gz >gunzipped-$cmd.tar
  cmp -s gunzipped-$cmd.tar plain-$cmd.tar || fail "$cmd: the gzip'd archive is not the plain one compressed"
  zstd -q -dc $cmd.tar.zst | cmp -s - plain-$cmd.tar || fail "$cmd: the zstd archive is not the plain one compressed"
  cmp -s none-$cmd.tar plain-$cmd.tar || fail "$cmd: --archive-compress none changed the archive"
  pass "$cmd --archive-compress gzip/zstd: the plain archive compressed whole, byte for byte; none: unchanged"
  want=$(layers_of plain-$cmd.tar)
  assert_eq "$want" "$(layers_of $cmd.tar.zst)" "$cmd: skopeo reads the zstd archive"
  assert_eq "$want" "$(layers_of gunzipped-$cmd.tar)" "$cmd: skopeo reads the gunzipped archive"
  assert_eq "$(jq -c '.layers | map(.diff_id)' < <("$STRATA" inspect plain-$cmd.tar))" \
    "$(jq -c '.layers | map(.diff_id)' < <("$STRATA" inspect $cmd.tar.gz))" "$cmd: strata inspect reads the gzip'd archive"
done

# Stdout: the compressed archive goes there.
"$STRATA" build spec.json --compress none --archive-compress gzip -o - -q >stdout.tar.gz
cmp -s stdout.tar.gz build.tar.gz || fail "build -o - --archive-compress gzip differs from the file output"
pass "build -o - --archive-compress gzip writes the same bytes to stdout"

# Input errors: exit 2, one message naming the flag, nothing at the output path.
expect_status 2 build spec.json --archive-compress bzip2 -o bad.tar
grep -q -- "--archive-compress.*bzip2" "$WORK/stderr" || fail "no message naming --archive-compress: $(cat "$WORK/stderr")"
expect_status 2 build spec.json --archive-compress gzip --format oci-dir -o bad.oci
grep -q "oci-dir" "$WORK/stderr" || fail "no message naming oci-dir: $(cat "$WORK/stderr")"
expect_status 2 layered spec.json --archive-compress gzip --format oci-dir -o bad.oci
expect_status 2 build spec.json --archive-compress gzip -o docker://localhost:1/x:y
grep -q "registry" "$WORK/stderr" || fail "no message about the registry output: $(cat "$WORK/stderr")"
[ ! -e bad.tar ] && [ ! -e bad.oci ] || fail "an input error left an output behind"
pass "bad --archive-compress values, a dir format, a registry output: exit 2, named, nothing written"

# Failed work: a root script failing leaves nothing at the compressed output.
cat >fails.json <<JSON
{"name": "fails", "copyToRoot": "root", "runAsRoot": "exit 3"}
JSON
got=0
"$STRATA" build fails.json --archive-compress gzip -o fails.tar.gz -q 2>fails.err || got=$?
[ "$got" != 0 ] || fail "a failing runAsRoot exited 0"
[ ! -e fails.tar.gz ] || fail "a failed build left fails.tar.gz"
[ -z "$(ls -A "${TMPDIR:-/tmp}" | grep '^strata-archive' || true)" ] || fail "a temp dir strata-archive* is left in TMPDIR"
pass "a failed build with --archive-compress: fails, no output, no temp dir left"

# stream-script: a program streaming the image.
mkdir "dir with 'quote"
sed "s|\"root\"|\"$WORK/root\"|" spec.json >"dir with 'quote/spec.json"
(cd "dir with 'quote" && "$STRATA" stream-script spec.json -o ../stream.sh -q)
[ "$(stat -c %a stream.sh)" = 755 ] || fail "the stream script's mode is $(stat -c %a stream.sh), not 755"
head -n1 stream.sh | grep -x '#!/bin/sh' >/dev/null || fail "the stream script does not start with #!/bin/sh: $(head -n1 stream.sh)"
grep -qF "$WORK/dir with" stream.sh || fail "the stream script does not name the spec by absolute path: $(cat stream.sh)"
./stream.sh >streamed.tar 2>/dev/null
"$STRATA" stream spec.json 2>/dev/null >direct.tar
cmp -s streamed.tar direct.tar || fail "the stream script's output differs from strata stream's"
assert_eq "$(layers_of direct.tar)" "$(layers_of streamed.tar)" "skopeo reads the streamed archive"
./stream.sh --tag other 2>/dev/null >tagged.tar
assert_eq '["flags:other"]' "$(tar -xOf tagged.tar manifest.json | jq -c '.[0].RepoTags')" "the script passes its arguments on to strata stream"
"$STRATA" stream-script spec.json --shell /bin/busybox-sh -o other-shell.sh -q
head -n1 other-shell.sh | grep -x '#!/bin/busybox-sh' >/dev/null || fail "--shell is not the interpreter"
pass "stream-script: 0755, #!--shell, absolute quoted paths, streams what strata stream does"

expect_status 2 stream-script missing.json -o missing.sh
grep -q "missing.json" "$WORK/stderr" || fail "no message naming missing.json: $(cat "$WORK/stderr")"
expect_status 2 stream-script spec.json --shell sh -o rel.sh
grep -q -- "--shell" "$WORK/stderr" || fail "no message naming --shell: $(cat "$WORK/stderr")"
echo '{"name": "x", "maxLayers": "many"}' >badspec.json
expect_status 2 stream-script badspec.json -o badspec.sh
[ ! -e missing.sh ] && [ ! -e rel.sh ] && [ ! -e badspec.sh ] || fail "an input error left a script behind"
pass "stream-script: a missing or bad spec, a relative --shell: exit 2, named, no script"
finish
