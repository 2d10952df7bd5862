#!/usr/bin/env bash
# -o onto what is not a regular file, as root: a character device (/dev/null), a FIFO and
# /dev/stdout-like paths are written through, never replaced (before, `-o /dev/null`
# turned /dev/null into a 0644 file and `-o /dev/stdout` replaced the /dev/stdout
# symlink); a symlink to a file keeps pointing there; formats that need a directory, a
# block device or a socket are refused (exit 2) and left alone; a failed build writes
# nothing into a stream. The /dev paths are those of a private /dev (a tmpfs in a mount
# namespace of the test's own), so the host's cannot be harmed whatever strata does.
source "$(dirname "$0")/lib/common.sh"
[ "$(id -u)" = 0 ] || fail "runs as root (mknod, a private /dev)"
need unshare python3 skopeo

mkdir -p "$WORK/tree/bin"
echo hello >"$WORK/tree/hello"
cp /bin/busybox "$WORK/tree/bin/busybox"
ln -s busybox "$WORK/tree/bin/sh"
printf '{"name": "out", "tag": "v1", "copyToRoot": ["%s"]}\n' "$WORK/tree" >"$WORK/spec.json"
printf '{"name": "bad", "tag": "v1", "copyToRoot": ["%s"], "runAsRoot": "exit 3"}\n' "$WORK/tree" >"$WORK/bad.json"
"$STRATA" build "$WORK/spec.json" -o "$WORK/file.tar" -q
"$STRATA" export "$WORK/file.tar" -o "$WORK/file-export.tar" -q

# The checks run in a private mount namespace with a tmpfs /dev holding a null device,
# the std* links, and a block device (loop 7:0; nothing is ever written to it).
cat >"$WORK/inside.sh" <<'EOF'
set -u
mount -t tmpfs -o mode=755 tmpfs /dev
mknod -m 666 /dev/null c 1 3
ln -s /proc/self/fd /dev/fd
for n in 0 1 2; do ln -s /proc/self/fd/$n "/dev/$(echo stdin stdout stderr | cut -d' ' -f$((n + 1)))"; done
mknod -m 600 /dev/blk b 7 0
S=$STRATA
say() { echo "$1=$2"; }
is_null() { [ -c /dev/null ] && [ "$(stat -c %t:%T /dev/null)" = 1:3 ] && echo yes || echo no; }

$S build "$WORK/spec.json" -o /dev/null -q; say build_null_rc $?
say build_null_kept "$(is_null)"
$S layered "$WORK/spec.json" -o /dev/null -q; say layered_null_rc $?
say layered_null_kept "$(is_null)"
$S export "$WORK/file.tar" -o /dev/null -q; say export_null_rc $?
say export_null_kept "$(is_null)"
for cmd in "build $WORK/spec.json --format oci-dir -o" "layer $WORK/spec.json -o" "manifest $WORK/spec.json -o" \
           "unpack $WORK/file.tar" "run $WORK/file.tar --layer-out /dev/null -- /bin/sh -c true #"; do
  name=$(echo "$cmd" | cut -d' ' -f1)
  eval "\$S $cmd /dev/null -q" 2>/dev/null; say "${name}_dir_null_rc" $?
  say "${name}_dir_null_kept" "$(is_null)"
done

$S build "$WORK/spec.json" -o /dev/stdout -q >"$WORK/stdout.tar"; say stdout_rc $?
cmp -s "$WORK/stdout.tar" "$WORK/file.tar" && say stdout_same yes || say stdout_same no
[ -L /dev/stdout ] && say stdout_link_kept yes || say stdout_link_kept no
$S build "$WORK/spec.json" -o /dev/fd/1 -q | cat >"$WORK/fd.tar"
cmp -s "$WORK/fd.tar" "$WORK/file.tar" && say fd_pipe_same yes || say fd_pipe_same no
$S build "$WORK/spec.json" -o /proc/self/fd/3 -q 3>"$WORK/fd3.tar"
cmp -s "$WORK/fd3.tar" "$WORK/file.tar" && say fd3_same yes || say fd3_same no
[ -L /dev/fd ] && say fd_link_kept yes || say fd_link_kept no
$S export "$WORK/file.tar" -o /dev/stdout -q >"$WORK/stdout-export.tar"
cmp -s "$WORK/stdout-export.tar" "$WORK/file-export.tar" && say export_stdout_same yes || say export_stdout_same no

$S build "$WORK/spec.json" -o /dev/blk -q 2>"$WORK/blk.err"; say blk_rc $?
[ -b /dev/blk ] && say blk_kept yes || say blk_kept no
grep -q "/dev/blk is a block device" "$WORK/blk.err" && say blk_named yes || say blk_named no
EOF
out=$(STRATA=$STRATA WORK=$WORK unshare -m --propagation private bash "$WORK/inside.sh" 2>&1)
got() { sed -n "s/^$1=//p" <<<"$out"; }
for cmd in build layered export; do
  assert_eq 0 "$(got ${cmd}_null_rc)" "$cmd -o /dev/null succeeds"
  assert_eq yes "$(got ${cmd}_null_kept)" "$cmd -o /dev/null leaves /dev/null the null device"
done
for cmd in build layer manifest unpack run; do
  assert_eq 2 "$(got ${cmd}_dir_null_rc)" "$cmd into a directory output refuses /dev/null (exit 2)"
  assert_eq yes "$(got ${cmd}_dir_null_kept)" "$cmd into a directory output leaves /dev/null alone"
done
assert_eq 0 "$(got stdout_rc)" "build -o /dev/stdout succeeds"
assert_eq yes "$(got stdout_same)" "build -o /dev/stdout writes the image to stdout"
assert_eq yes "$(got stdout_link_kept)" "/dev/stdout is still a symlink"
assert_eq yes "$(got fd_pipe_same)" "build -o /dev/fd/1 into a pipe writes the image"
assert_eq yes "$(got fd3_same)" "build -o /proc/self/fd/3 writes the image to fd 3"
assert_eq yes "$(got fd_link_kept)" "/dev/fd is still a symlink"
assert_eq yes "$(got export_stdout_same)" "export -o /dev/stdout writes the tar to stdout"
assert_eq 2 "$(got blk_rc)" "build -o a block device is refused (exit 2)"
assert_eq yes "$(got blk_kept)" "the block device is left alone"
assert_eq yes "$(got blk_named)" "the message names the block device"

# A FIFO with a reader gets the image; it stays a FIFO.
mkfifo "$WORK/fifo"
timeout 60 cat "$WORK/fifo" >"$WORK/from-fifo.tar" &
reader=$!
"$STRATA" build "$WORK/spec.json" -o "$WORK/fifo" -q
wait "$reader" || true
assert_eq yes "$([ -p "$WORK/fifo" ] && echo yes)" "build -o FIFO leaves the FIFO"
assert_eq yes "$(cmp -s "$WORK/from-fifo.tar" "$WORK/file.tar" && echo yes)" "the FIFO's reader gets the image"
skopeo inspect "docker-archive:$WORK/from-fifo.tar" >/dev/null || fail "skopeo cannot read what came through the FIFO"
pass "skopeo reads what came through the FIFO"

# A failed build writes nothing into the stream.
timeout 60 cat "$WORK/fifo" >"$WORK/from-fifo-bad.tar" &
reader=$!
expect_status 3 build "$WORK/bad.json" -o "$WORK/fifo" -q --layer-store "$WORK/store"
# Where strata never opened the FIFO its reader still waits: open and close it (O_RDWR
# does not block), so the reader sees the end.
exec 3<>"$WORK/fifo"
exec 3>&-
wait "$reader" || true
assert_eq 0 "$(stat -c %s "$WORK/from-fifo-bad.tar")" "a failed build sends nothing through the FIFO"

# A symlink to a file: the file is replaced, the link stays.
echo old >"$WORK/real.tar"
ln -s real.tar "$WORK/link.tar"
"$STRATA" build "$WORK/spec.json" -o "$WORK/link.tar" -q
assert_eq yes "$([ -L "$WORK/link.tar" ] && echo yes)" "build -o SYMLINK keeps the symlink"
assert_eq yes "$(cmp -s "$WORK/real.tar" "$WORK/file.tar" && echo yes)" "the file it points to holds the image"
# A dangling one is replaced by the image.
ln -s nowhere/gone.tar "$WORK/dangling.tar"
"$STRATA" build "$WORK/spec.json" -o "$WORK/dangling.tar" -q
assert_eq yes "$([ -f "$WORK/dangling.tar" ] && [ ! -L "$WORK/dangling.tar" ] && echo yes)" \
  "build -o DANGLING-SYMLINK writes the image in its place"
ls -a "$WORK" | grep '\.strata-' >/dev/null && fail "temp files left beside the outputs: $(ls -a "$WORK")"
pass "no temp file is left beside the outputs"
finish
