#!/usr/bin/env bash
# strata merge (dockerTools.mergeImages, issue 10 item 6): three images in one
# docker-archive, as docker-tools.nix's merge test loads it: `podman load` loads every
# tag. A layer two images share is stored once; layer bytes are the inputs' own (owners,
# modes: the listings and diff_ids match); a .tar.zst input; a tag two inputs carry stays
# with the later; bad inputs exit 2 with nothing at -o; a rerun is byte-identical.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/layered.sh"
need jq tar podman skopeo zstd gzip

cd "$WORK"
make_busybox_root root
mkdir -p root/data && echo secret >root/data/f && chmod 640 root/data/f
# three images as examples.nix's merge uses them: a base, one on it, one more on it whose
# archive is compressed whole (a .tar.zst, as buildImage's compressor = "zstd" makes it)
jq -n '{name: "merge/base", tag: "1", copyToRoot: ["root"], uid: 1000, gid: 100}' >a.json
jq -n '{name: "merge/app", tag: "2", fromImage: "a.tar", extraCommands: "mkdir -p app; echo app >app/x; chmod 700 app"}' >b.json
jq -n '{name: "merge/zst", tag: "3", fromImage: "a.tar", extraCommands: "mkdir -p z; echo z >z/y"}' >c.json
"$STRATA" build a.json -o a.tar -q
"$STRATA" build b.json -o b.tar -q
"$STRATA" build c.json -o c.tar.zst --archive-compress zstd -q

"$STRATA" merge a.tar b.tar c.tar.zst -o merged.tar -q
manifest() { tar xOf "$1" manifest.json; }
assert_eq '[["merge/base:1"],["merge/app:2"],["merge/zst:3"]]' "$(manifest merged.tar | jq -c '[.[].RepoTags]')" \
  "manifest.json: one entry per input image, each with its RepoTags"
assert_eq 3 "$(tar tf merged.tar | grep -c '/layer.tar$')" "the base layer the three share is stored once (3 blobs for 5 layers)"
assert_eq 5 "$(manifest merged.tar | jq '[.[].Layers[]] | length')" "... and listed by each image"
assert_eq "$(manifest merged.tar | jq -r '.[0].Layers[0]')" "$(manifest merged.tar | jq -r '.[2].Layers[0]')" \
  "the zst image's base layer is the base image's blob"

# layer bytes copied: every layer's listing (owners, modes) and diff_id as in its input
zstd -dc c.tar.zst >c.tar
for i in 0 1 2; do
  input=$(echo a.tar b.tar c.tar | cut -d' ' -f$((i + 1)))
  n=$(tar xOf "$input" manifest.json | jq '.[0].Layers | length')
  for ((l = 0; l < n; l++)); do
    want=$(tar xOf "$input" "$(tar xOf "$input" manifest.json | jq -r ".[0].Layers[$l]")" | gzip -dcf | tar tvf - --numeric-owner)
    got=$(tar xOf merged.tar "$(manifest merged.tar | jq -r ".[$i].Layers[$l]")" | gzip -dcf | tar tvf - --numeric-owner)
    [ "$want" = "$got" ] || fail "image $i layer $l: listing differs from $input's"
  done
  want_ids=$(tar xOf "$input" "$(tar xOf "$input" manifest.json | jq -r '.[0].Config')" | jq -c .rootfs.diff_ids)
  got_ids=$(tar xOf merged.tar "$(manifest merged.tar | jq -r ".[$i].Config")" | jq -c .rootfs.diff_ids)
  assert_eq "$want_ids" "$got_ids" "image $((i + 1)): its config and diff_ids are its input's"
done
pass "every layer's entries (owners, modes) are its input's"
tar xOf merged.tar "$(manifest merged.tar | jq -r '.[0].Layers[0]')" | gzip -dcf | tar tvf - --numeric-owner | grep '^-rw-r----- 1000/100 .* data/f$' >/dev/null ||
  fail "the base layer lost data/f's owner 1000:100 or mode 0640"
pass "... data/f keeps 1000:100 and 0640"

# podman load of the merge loads every tag; skopeo reads each image out of it
podman_setup
podman_ load -i merged.tar >podman.out 2>&1 || fail "podman load failed: $(cat podman.out)"
for t in merge/base:1 merge/app:2 merge/zst:3; do
  grep -q "$t" podman.out || fail "podman load did not report $t: $(cat podman.out)"
  podman_ image inspect "$t" >/dev/null || fail "podman has no $t after the load"
done
pass "podman load loads the three tags"
assert_eq "$(manifest b.tar | jq -r '.[0].Config' | cut -d. -f1)" "$(podman_ image inspect merge/app:2 | jq -r '.[0].Id')" \
  "podman's merge/app:2 is b.tar's image (same config digest)"
podman_ rmi -a -f >/dev/null 2>&1 || true
skopeo inspect --raw docker-archive:merged.tar:merge/zst:3 >/dev/null || fail "skopeo cannot read merge/zst:3 from the merge"
pass "skopeo reads merge/zst:3 out of the merge"

# deterministic: the same inputs give the same bytes, whatever the umask
(umask 077 && "$STRATA" merge a.tar b.tar c.tar.zst -o again.tar -q)
cmp -s merged.tar again.tar || fail "a second merge differs"
pass "a rerun is byte-identical"

# every input format: an OCI layout and an OCI archive, a .tar.gz, a merge of a merge
"$STRATA" build b.json --format oci-dir -o b.oci -q
"$STRATA" build c.json --format oci-archive -o c.oci.tar -q
gzip -nc a.tar >a.tar.gz
"$STRATA" merge a.tar.gz b.oci c.oci.tar -o formats.tar -q
assert_eq '[["merge/base:1"],["merge/app:2"],["merge/zst:3"]]' "$(manifest formats.tar | jq -c '[.[].RepoTags]')" \
  "OCI layout, OCI archive and .tar.gz inputs are merged"
"$STRATA" merge merged.tar -o remerged.tar -q
assert_eq "$(manifest merged.tar | jq -c .)" "$(manifest remerged.tar | jq -c .)" "a merge of a merge keeps all its images"

# a tag on two inputs: the later keeps it (as docker load of dockerTools' merge ends)
jq -n '{name: "merge/base", tag: "1", fromImage: "a.tar", extraCommands: "echo later >later"}' >d.json
"$STRATA" build d.json -o d.tar -q
expect_status 0 merge a.tar d.tar -o dup.tar
grep -q "tag merge/base:1 .* the later (d.tar) keeps it" "$WORK/stderr" || fail "no warning of the moved tag: $(cat "$WORK/stderr")"
assert_eq '[[],["merge/base:1"]]' "$(manifest dup.tar | jq -c '[.[].RepoTags]')" "a duplicate tag stays with the later image"
expect_status 0 merge a.tar a.tar -o same.tar
assert_eq '[["merge/base:1"]]' "$(manifest same.tar | jq -c '[.[].RepoTags]')" "the same image twice is listed once"

# the output compressed as dockerTools does: `last` follows the last input
"$STRATA" merge a.tar c.tar.zst -o last.out --archive-compress last -q
zstd -t -q last.out || fail "--archive-compress last after a .tar.zst is no zstd file"
"$STRATA" merge c.tar.zst a.tar -o last2.out --archive-compress last -q
tar tf - <last2.out >/dev/null || fail "--archive-compress last after a plain tar is no plain tar" # stdin: no sniffing
"$STRATA" merge a.tar b.tar -o gz.tar.gz --archive-compress gzip -q
assert_eq "$(manifest merged.tar | jq -c '.[:2]')" "$(tar xzOf gz.tar.gz manifest.json | jq -c .)" "--archive-compress gzip"
pass "--archive-compress last compresses as the last input is"
"$STRATA" merge a.tar b.tar -o - -q | cmp -s - <("$STRATA" merge a.tar b.tar -o /dev/stdout -q) || fail "-o - and -o /dev/stdout differ"
"$STRATA" merge a.tar b.tar -o /dev/null -q || fail "-o /dev/null failed"
pass "-o - and devices are written as streams"

# bad inputs: exit 2, a message naming the input, nothing at -o
echo "not an image" >junk.tar
expect_status 2 merge a.tar missing.tar -o bad.tar
grep -q "missing.tar" "$WORK/stderr" || fail "no message naming missing.tar: $(cat "$WORK/stderr")"
expect_status 2 merge a.tar junk.tar -o bad.tar
grep -q "junk.tar" "$WORK/stderr" || fail "no message naming junk.tar: $(cat "$WORK/stderr")"
expect_status 2 merge -o bad.tar
# a config whose `created` is no string (the image spec's type): named, exit 2
python3 - a.tar typed.tar <<'PY'
import hashlib, io, json, sys, tarfile
src, dst = tarfile.open(sys.argv[1]), tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT)
manifest = json.load(src.extractfile("manifest.json"))
config = json.load(src.extractfile(manifest[0]["Config"]))
config["created"] = 5
blob = json.dumps(config).encode()
old_name, manifest[0]["Config"] = manifest[0]["Config"], hashlib.sha256(blob).hexdigest() + ".json"
for m in src.getmembers():
    data = src.extractfile(m).read() if m.isfile() else None
    if m.name == old_name: m.name, data = manifest[0]["Config"], blob
    if m.name == "manifest.json": data = json.dumps(manifest).encode()
    if data is not None: m.size = len(data)
    dst.addfile(m, io.BytesIO(data) if data is not None else None)
dst.close()
PY
expect_status 2 merge a.tar typed.tar -o bad.tar
grep "typed.tar.*'created' is not a string" "$WORK/stderr" >/dev/null || fail "no message naming typed.tar and created: $(cat "$WORK/stderr")"
jq -n '{name: "over-typed", tag: "1", fromImage: "typed.tar", runAsRoot: "true"}' >typed.json
expect_status 2 build typed.json -o bad.tar
grep "typed.tar.*'created' is not a string" "$WORK/stderr" >/dev/null || fail "build over it: no message naming typed.tar and created: $(cat "$WORK/stderr")"
# a layer whose bytes are not what its digest says: found only once copied
cp a.tar corrupt.tar
printf 'XXXXXXXX' | dd of=corrupt.tar bs=1 seek=4096 conv=notrunc status=none
expect_status 2 merge b.tar corrupt.tar -o bad.tar
grep -q "corrupt.tar" "$WORK/stderr" || fail "no message naming corrupt.tar: $(cat "$WORK/stderr")"
[ ! -e bad.tar ] || fail "a failed merge left bad.tar"
[ -z "$(ls -A | grep strata)" ] || fail "a failed merge left a temp file: $(ls -A)"
pass "missing file, not an image, no inputs, a config of wrong types, a corrupt layer: exit 2, nothing at -o"

finish
