#!/usr/bin/env bash
# strata export (exportImage): the merged rootfs as one tar, whiteouts applied. Its
# entries equal umoci's unpack of the same image (paths, types, modes, owners, contents);
# the export is the same bytes whoever runs it: strata-nosub, who can only record owners
# in xattrs, gets 1000:1000 in the tar exactly as root does; stdout, gzip, --mtime; bad
# input exits 2 and leaves no output.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/whiteout_image.sh"
need umoci python3 jq tar gzip su sha256sum

cd "$WORK"
make_whiteout_image img.oci v1
sum() { sha256sum "$1" | cut -d' ' -f1; }

"$STRATA" export img.oci --tag v1 -o root.tar --json >export.json
umoci unpack --rootless --image img.oci:v1 bundle >/dev/null
python3 "$ROOTFS_TOOLS" tar-listing root.tar >export.list
python3 "$ROOTFS_TOOLS" tree-listing bundle/rootfs 0 0 >umoci.list
diff -u umoci.list export.list >&2 || fail "the export differs from umoci's unpack"
pass "export = umoci's merged tree: $(wc -l <export.list) entries (paths, types, modes, owners, contents)"
! grep -q '\.wh\.' export.list || fail "the export holds whiteout entries"
grep -Eq '^home/alice/plan f 0600 1000:1000 ' export.list || fail "owner 1000:1000 missing: $(grep plan export.list)"
grep -Eq '^bin/su-like f 4755 0:0 ' export.list || fail "setuid bit missing"
pass "no whiteouts in the export; 1000:1000 and setuid kept"
tar -tvf root.tar >gnu.list || fail "GNU tar cannot read the export"
grep -q 'home/alice/plan' gnu.list || fail "GNU tar listing lacks home/alice/plan"
[ "$(awk '{print $4" "$5}' gnu.list | sort -u)" = "1970-01-01 00:00" ] || fail "entries do not all have mtime 1"
pass "GNU tar reads it; every entry has the layer mtime (1970-01-01T00:00:01Z)"
assert_eq "sha256:$(sum root.tar)" "$(jq -r .diff_id export.json)" "--json diff_id is the sha256 of the tar"
assert_eq "$(($(grep -c . export.list) + 1))" "$(jq .entries export.json)" "--json entries (the tree's and ./)"
# Named as dockerTools' exportImage names them (`tar -C root -cf $out .`).
assert_eq "./" "$(tar -tf root.tar | sed -n 1p)" "the first entry is ./"
! tar -tf root.tar | grep -v '^\./' >/dev/null || fail "a name not under ./: $(tar -tf root.tar | grep -v '^\./' | sed -n 1,3p)"
grep -qx './home/alice/plan' <(tar -tf root.tar) || fail "no ./home/alice/plan"
pass "entries named ./, ./home/, ./home/alice/plan (dockerTools' names)"

"$STRATA" export img.oci --tag v1 -o again.tar -q
assert_eq "$(sum root.tar)" "$(sum again.tar)" "a second export gives the same bytes"
"$STRATA" export img.oci --tag v1 -q >stdout.tar
assert_eq "$(sum root.tar)" "$(sum stdout.tar)" "-o - (stdout) gives the same bytes"
"$STRATA" export img.oci --tag v1 --compress gzip -o root.tar.gz -q
assert_eq "$(sum root.tar)" "$(gzip -dc root.tar.gz | sha256sum | cut -d' ' -f1)" "--compress gzip wraps the same tar"
"$STRATA" export img.oci --tag v1 --mtime 1700000000 -o mtime.tar -q
[ "$(tar -tvf mtime.tar --full-time | awk '{print $4}' | sort -u)" = "2023-11-14" ] || fail "--mtime not applied"
pass "--mtime sets every entry's mtime"

# Unprivileged, without subuids: owners only in xattrs while unpacked, same tar bytes.
id strata-nosub >/dev/null 2>&1 || "$STRATA_SRC/tests/e2e/lib/make-users"
mkdir nosub nosub/tmp
cp -a img.oci nosub/img.oci
chown -R strata-nosub: nosub
su strata-nosub -s /bin/sh -c "cd '$WORK/nosub' && TMPDIR='$WORK/nosub/tmp' '$STRATA' export img.oci --tag v1 -o export.tar -q" ||
  fail "unprivileged export failed"
python3 "$ROOTFS_TOOLS" tar-listing nosub/export.tar >nosub.list
grep -Eq '^home/alice/plan f 0600 1000:1000 ' nosub.list ||
  fail "strata-nosub's export lost the 1000:1000 owner"
assert_eq "$(sum root.tar)" "$(sum nosub/export.tar)" "strata-nosub's export is byte-identical to root's (owners from xattrs)"
[ -z "$(ls -A nosub/tmp)" ] || fail "the unprivileged export left temp data: $(ls -A nosub/tmp)"

# Bad input: exit 2, one message, no output file nor temp file beside it.
mkdir out
check_bad() { # pattern what args...
  local pattern=$1 what=$2
  shift 2
  expect_status 2 "$@"
  grep -Eq -- "$pattern" "$WORK/stderr" || fail "$what: message lacks /$pattern/: $(cat "$WORK/stderr")"
  [ "$(wc -l <"$WORK/stderr")" -eq 1 ] || fail "$what: more than one message: $(cat "$WORK/stderr")"
  [ -z "$(ls -A out)" ] || fail "$what: output left: $(ls -A out)"
  pass "$what -> exit 2: $(cat "$WORK/stderr")"
}
check_bad "nothere.oci does not exist" "missing image" export nothere.oci -o out/x.tar
check_bad "output directory no/such does not exist" "missing output dir" export img.oci --tag v1 -o no/such/x.tar
check_bad "--json prints to stdout" "--json with stdout" export img.oci --tag v1 --json
check_bad "unknown compression 'lzma'" "bad --compress" export img.oci --tag v1 --compress lzma -o out/x.tar
cp -a img.oci bad.oci
manifest=$(jq -r '.manifests[0].digest' bad.oci/index.json | cut -d: -f2)
blob=$(jq -r '.layers[2].digest' "bad.oci/blobs/sha256/$manifest" | cut -d: -f2)
chmod u+w "bad.oci/blobs/sha256/$blob"
printf 'garbage!' | dd of="bad.oci/blobs/sha256/$blob" bs=1 seek=600 conv=notrunc status=none
check_bad "layer 3 .*(corrupt|not a valid)" "damaged layer blob" export bad.oci --tag v1 -o out/x.tar

finish
