# Shared helpers of the runAsRoot and `strata run` end-to-end tests (source it after
# lib/sandbox.sh).
#   make_base_tree DIR      a busybox rootfs to build a base image from: every applet
#                           linked, etc/passwd and etc/group, var/old/ (a dir a script
#                           replaces), opt/remove-me (a file it removes), opt/tool (a file
#                           it makes setuid), opt/keep
#   wait_for SECS CMD...    retries CMD every 0.1 s until it succeeds; fails after SECS
#   expected_mode USER      the id mode strata picks for USER: root, subuid or single
#   leftovers DIR           what a run left: files in DIR (the run's TMPDIR) and host
#                           mounts whose path names DIR; prints nothing when clean
#   layer_listing TAR       `tar tvf` of a layer (plain or gzip), one "MODE UID/GID NAME[ -> TARGET]"
#                           a line
set -euo pipefail

make_base_tree() {
  local dir=$1
  mkdir -p "$dir/bin" "$dir/etc" "$dir/var/old/sub" "$dir/opt" "$dir/root"
  cp /bin/busybox "$dir/bin/busybox"
  (cd "$dir/bin" && for applet in $(./busybox --list); do [ -e "$applet" ] || ln -s busybox "$applet"; done)
  if [ ! -e "$dir/bin/adduser" ]; then
    # Debian's busybox is built without adduser/addgroup (Debian ships its own adduser):
    # a shell stand-in that does what busybox's `adduser -D -u UID NAME` does.
    cat >"$dir/bin/adduser" <<'EOF'
#!/bin/sh
# busybox adduser -D [-u UID] NAME: a group NAME, a passwordless user NAME, its home
set -e
uid=1000
while getopts Du: opt; do
  case $opt in D) ;; u) uid=$OPTARG ;; *) echo "usage: adduser -D [-u UID] NAME" >&2; exit 1 ;; esac
done
shift $((OPTIND - 1))
name=$1
grep -q "^$name:" /etc/passwd && { echo "adduser: user '$name' in use" >&2; exit 1; }
echo "$name:x:$uid:" >>/etc/group
echo "$name:x:$uid:$uid:Linux User,,,:/home/$name:/bin/sh" >>/etc/passwd
mkdir -p "/home/$name"
chown "$uid:$uid" "/home/$name"
EOF
    chmod 755 "$dir/bin/adduser"
  fi
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
  printf 'root:x:0:\n' >"$dir/etc/group"
  echo old >"$dir/var/old/f"
  echo older >"$dir/var/old/sub/g"
  echo gone >"$dir/opt/remove-me"
  echo keep >"$dir/opt/keep"
  printf '#!/bin/sh\necho tool\n' >"$dir/opt/tool"
  chmod 755 "$dir/opt/tool"
  chmod 700 "$dir/root"
}

# $WORK/base.tar: the image of make_base_tree's tree ($WORK/base-tree, spec $WORK/base.json).
build_base_image() {
  make_base_tree "$WORK/base-tree"
  echo '{"name": "base", "tag": "v1", "copyToRoot": ["base-tree"]}' >"$WORK/base.json"
  "$SB" build "$WORK/base.json" -o "$WORK/base.tar" -q
}

wait_for() {
  local tries=$(($1 * 10))
  shift
  for _ in $(seq "$tries"); do "$@" && return 0; sleep 0.1; done
  return 1
}

expected_mode() {
  case $1 in
    root) echo root ;;
    strata-sub) echo subuid ;;
    *) echo single ;;
  esac
}

leftovers() {
  local dir=$1
  ls -A "$dir"
  grep -F "$dir" /proc/self/mountinfo || true
}

layer_listing() {
  tar tvf "$1" --numeric-owner | awk '{ line = $1 " " $2; for (i = 6; i <= NF; i++) line = line " " $i; print line }'
}
