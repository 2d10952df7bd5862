#!/usr/bin/env bash
# Overlay roots in the sandbox's user namespace: lower dirs (newest first) + an upper
# dir, as root, strata-sub and strata-nosub. A new file lands in upper, a deleted lower
# file becomes a 0:0 character-device whiteout, a replaced dir is opaque
# (user.overlay.opaque=y with userxattr); lower dirs are untouched. As root, fuse mode:
# fuse-overlayfs records chown in user.containers.override_stat.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
sandbox_setup
command -v fuse-overlayfs >/dev/null || { echo "FAIL: fuse-overlayfs is not installed"; exit 1; }

xattr() { getfattr --absolute-names --only-values -n "$1" "$2" 2>/dev/null; }

make_layers() {  # $1 dir, $2 owner
  local d=$1
  make_rootfs "$d/base" "$2"
  mkdir -p "$d/base/etc" "$d/base/dir" "$d/top/etc" "$d/upper" "$d/work"
  echo old > "$d/base/etc/old.conf"
  echo a > "$d/base/dir/a"
  echo new > "$d/top/etc/new.conf"
  chown -R "$2:" "$d"
}

script='test "$(cat /etc/new.conf)" = new && test "$(cat /etc/old.conf)" = old &&
        echo hi > /newfile && rm /etc/old.conf && rm -rf /dir && mkdir /dir && echo b > /dir/b &&
        chown 1000:1000 /newfile'

for user in $(sandbox_users); do
  d="$WORK/$user"
  make_layers "$d" "$user"
  mkdir -p "$d/tmp" && chown "$user:" "$d/tmp"
  out=$(as_user "$user" env TMPDIR="$d/tmp" "$SB" sandbox-exec --lower "$d/top" --lower "$d/base" --upper "$d/upper" --work "$d/work" \
    --json -- /bin/sh -c "$script")
  check "$user: the script ran over the kernel overlay" grep -q '"root":"overlay:kernel"' <<<"$out"
  check "$user: a new file lands in upper" [ "$(cat "$d/upper/newfile")" = hi ]
  check "$user: a deleted lower file is a 0:0 char device in upper" \
    [ "$(stat -c '%F %t:%T' "$d/upper/etc/old.conf")" = "character special file 0:0" ]
  check "$user: the replaced dir is opaque (user.overlay.opaque=y)" [ "$(xattr user.overlay.opaque "$d/upper/dir")" = y ]
  check "$user: the replaced dir holds only the new file in upper" [ "$(ls "$d/upper/dir")" = b ]
  check "$user: lower dirs are untouched" bash -c '[ -f "$1/base/etc/old.conf" ] && [ -f "$1/base/dir/a" ] && [ ! -e "$1/base/newfile" ]' _ "$d"
  check "$user: no run dir (the overlay's mount point) is left in \$TMPDIR" [ -z "$(ls -A "$d/tmp")" ]
done

# fuse-overlayfs: /dev/fuse is root-only here, so only root can use it.
d="$WORK/fuse"
make_layers "$d" root
out=$("$SB" sandbox-exec --id-mode fuse --lower "$d/top" --lower "$d/base" --upper "$d/upper" --work "$d/work" \
  --json -- /bin/sh -c "$script")
check "root: fuse mode mounts with fuse-overlayfs" grep -q '"root":"overlay:fuse"' <<<"$out"
check "root: fuse mode reports id mode fuse" grep -q '"id_mode":"fuse"' <<<"$out"
# fuse-overlayfs 1.10 names it user.fuseoverlayfs.override_stat (later ones also read
# user.containers.override_stat); MODE may carry the file type bits.
check "root: fuse-overlayfs records chown 1000:1000 in its override_stat xattr" \
  bash -c '{ getfattr --absolute-names --only-values -n user.containers.override_stat "$1" ||
             getfattr --absolute-names --only-values -n user.fuseoverlayfs.override_stat "$1"; } 2>/dev/null |
           grep -q "^1000:1000:"' _ "$d/upper/newfile"
check "root: fuse mode leaves the file owned by root on disk" [ "$(stat -c %u "$d/upper/newfile")" = 0 ]
check "root: fuse mode: the deleted lower file is whited out in upper" \
  bash -c '[ "$(stat -c %F "$1/etc/old.conf" 2>/dev/null)" = "character special file" ] || [ -e "$1/etc/.wh.old.conf" ]' _ "$d/upper"

d="$WORK/strata-nosub-fuse"
make_layers "$d" strata-nosub
set +e
msg=$(as_user strata-nosub "$SB" sandbox-exec --id-mode fuse --lower "$d/top" --lower "$d/base" --upper "$d/upper" \
  --work "$d/work" -- /bin/true 2>&1)
rc=$?
set -e
check "strata-nosub: fuse mode without a subordinate range fails clearly (exit 1)" \
  bash -c '[ "$1" -eq 1 ] && grep -q "fuse needs real root or a subordinate id range" <<<"$2"' _ "$rc" "$msg"
finish
