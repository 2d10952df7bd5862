#!/usr/bin/env bash
# strata unpack against umoci unpack --rootless of the same image (layers with
# whiteouts, an opaque dir, owners, setuid, links, a fifo): as root and as an
# unprivileged user (owners kept in xattrs), the same paths, types, modes, owners and
# contents; the merged tree is the one the layers describe; bad targets exit 2 and
# nothing half-unpacked is ever left.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/whiteout_image.sh"
need umoci skopeo python3 jq su

cd "$WORK"
make_whiteout_image img.oci v1

listing() { python3 "$ROOTFS_TOOLS" tree-listing "$@"; }
compare_with_umoci() { # label strata-tree umoci-rootfs host-uid host-gid
  listing "$2" "$4" "$5" >"$WORK/strata.list"
  listing "$3" "$4" "$5" >"$WORK/umoci.list"
  diff -u "$WORK/umoci.list" "$WORK/strata.list" >&2 || fail "$1: strata's tree differs from umoci's"
  pass "$1: $(wc -l <"$WORK/strata.list") entries, same paths, types, modes, owners and contents as umoci"
}
has_line() { # listing-file regex what
  grep -Eq "$2" "$1" || fail "$3: no line /$2/ in $(cat "$1")"
}

# --- as root ------------------------------------------------------------------
"$STRATA" unpack img.oci --tag v1 tree-root --json >unpack.json
umoci unpack --rootless --image img.oci:v1 bundle-root >/dev/null
compare_with_umoci "as root" tree-root bundle-root/rootfs 0 0

listing tree-root 0 0 >root.list
has_line root.list '^etc/group f 0644 0:0 ' "etc/group re-added by layer 3"
grep -q alice tree-root/etc/group || fail "etc/group does not have layer 3's content"
has_line root.list '^usr/share/doc/new f ' "opaque dir keeps the new file"
! grep -Eq '^usr/share/doc/(a|b) ' root.list || fail "opaque dir still shows the base's files"
! grep -Eq '^(var/lib/gone|home/alice/notes|opt/link)' root.list || fail "whited-out paths remain"
! grep -q '\.wh\.' root.list || fail "whiteout markers were left in the tree"
has_line root.list '^home/alice d 0700 1000:1000 ' "owner of home/alice"
has_line root.list '^home/alice/plan f 0600 1000:1000 ' "owner of home/alice/plan"
has_line root.list '^bin/su-like f 4755 0:0 ' "setuid mode kept (on disk or recorded)"
has_line root.list '^srv/fifo p 0600 ' "fifo"
has_line root.list '^var/tmp d 1777 ' "sticky dir"
[ "$(stat -c %i tree-root/opt/hard)" = "$(stat -c %i tree-root/opt/keep)" ] || fail "opt/hard is not a hard link of opt/keep"
pass "merged tree: whiteouts, opaque dir, re-added file, owners, setuid, fifo, sticky dir, hard link"
assert_eq 4 "$(jq .stats.whiteouts unpack.json)" "--json: 4 whiteouts applied"
assert_eq 1 "$(jq .stats.opaque_dirs unpack.json)" "--json: 1 opaque dir applied"
assert_eq 3 "$(jq .layers unpack.json)" "--json: 3 layers"

# The same image as a docker-archive (skopeo) unpacks to the same tree.
skopeo copy -q oci:img.oci:v1 docker-archive:img.tar:whiteouts:v1
"$STRATA" unpack img.tar tree-docker -q
listing tree-docker 0 0 >docker.list
diff -u root.list docker.list >&2 || fail "docker-archive and OCI unpack differ"
pass "docker-archive copy (skopeo) unpacks to the same tree"

# --- as an unprivileged user without subuids: owners go to xattrs ---------------
id strata-nosub >/dev/null 2>&1 || "$STRATA_SRC/tests/e2e/lib/make-users"
mkdir nosub
cp -a img.oci nosub/img.oci
chown -R strata-nosub: nosub
uid=$(id -u strata-nosub) gid=$(id -g strata-nosub)
su strata-nosub -s /bin/sh -c "cd '$WORK/nosub' && '$STRATA' unpack img.oci --tag v1 tree -q &&
  umoci unpack --rootless --image img.oci:v1 bundle >/dev/null" || fail "unprivileged unpack failed"
[ "$(stat -c %u nosub/tree/home/alice/plan)" = "$uid" ] || fail "unprivileged unpack did not own its files"
compare_with_umoci "as strata-nosub" nosub/tree nosub/bundle/rootfs "$uid" "$gid"
listing nosub/tree "$uid" "$gid" >nosub.list
diff -u root.list nosub.list >&2 || fail "unprivileged unpack differs from root's once xattrs are read"
pass "as strata-nosub: owners 1000:1000 and setuid kept in user.containers.override_stat, same tree as root's"

# --- bad input and targets: exit 2, one message, nothing left -------------------
check_bad() { # pattern what args...
  local pattern=$1 what=$2
  shift 2
  expect_status 2 "$@"
  grep -Eq -- "$pattern" "$WORK/stderr" || fail "$what: message lacks /$pattern/: $(cat "$WORK/stderr")"
  [ "$(wc -l <"$WORK/stderr")" -eq 1 ] || fail "$what: more than one message: $(cat "$WORK/stderr")"
  ! ls -A "$WORK" | grep '\.strata\.' >/dev/null || fail "$what: a temp dir was left: $(ls -A "$WORK")"
  pass "$what -> exit 2: $(cat "$WORK/stderr")"
}
mkdir full && echo x >full/keep
check_bad "target directory .*full is not empty" "non-empty target" unpack img.oci --tag v1 full
[ "$(ls full)" = keep ] || fail "the non-empty target was changed"
echo x >afile
check_bad "afile exists and is not a directory" "target is a file" unpack img.oci --tag v1 afile
check_bad "parent directory .*/no/such of" "target's parent missing" unpack img.oci --tag v1 no/such/dir
check_bad "nothere" "missing image" unpack nothere.oci out1
check_bad "has no image .*nope" "unknown tag" unpack img.oci --tag nope out2
[ ! -e out1 ] && [ ! -e out2 ] || fail "a failed unpack left its target"
# A layer blob damaged inside the image: detected, target never appears.
cp -a img.oci bad.oci
blob=$(jq -r '.layers[1].digest' "bad.oci/blobs/sha256/$(jq -r '.manifests[0].digest' bad.oci/index.json | cut -d: -f2)" | cut -d: -f2)
chmod u+w "bad.oci/blobs/sha256/$blob"
printf 'garbage!' | dd of="bad.oci/blobs/sha256/$blob" bs=1 seek=700 conv=notrunc status=none
check_bad "layer 2 .*(corrupt|not a valid)" "damaged layer blob" unpack bad.oci --tag v1 out3
[ ! -e out3 ] || fail "a failed unpack left its target"
mkdir empty
"$STRATA" unpack img.oci --tag v1 empty -q
[ -f empty/etc/group ] || fail "an existing empty target was not filled"
pass "an existing empty directory is a valid target"

finish
