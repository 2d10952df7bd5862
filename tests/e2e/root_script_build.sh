#!/usr/bin/env bash
# runAsRoot (`strata build` with fromImage) on a busybox base, as root, strata-sub (subuid
# range) and strata-nosub (none). The script adds a user, chowns a new dir 1000:1000,
# makes a base file setuid, removes a base file, replaces a base dir and makes a symlink:
#  - the new layer (tar tvzf) is exactly those changes: owners, modes, a .wh. entry, an
#    opaque dir, the symlink; it is byte-identical whoever builds it (whatever the id mode);
#  - skopeo inspects and copies the image to OCI, umoci unpacks that rootless, and both
#    umoci's tree and `strata export` equal the merged tree the same script makes when
#    run with a real chroot as real root on a copy of the base;
#  - --json names the id mode (root, subuid, single) and, on a second build over the same
#    layer store, layers_unpacked 0;
#  - `exit 7` in the script: strata exits 7, says so, writes no output;
#  - after every run, and after kill -9 of strata mid-script once the next run is done,
#    nothing is left in the run's TMPDIR and no mount naming it is in the host's table.
# Each user's runs get a TMPDIR of their own, so concurrent tests cannot blur the checks.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/root_script.sh"
ROOTFS_TOOLS="$STRATA_TESTS/e2e/lib/rootfs_tools.py"
sandbox_need skopeo umoci jq python3 tar chroot
sandbox_setup

SCRIPT='adduser -D -u 1000 app
mkdir /srv /srv/data
chown 1000:1000 /srv/data
chmod u+s /opt/tool
rm /opt/remove-me
rm -rf /var/old
mkdir /var/old
echo new >/var/old/new
ln -s ../opt/tool /bin/tool
test "$(id -u)" = 0'

# What the new layer must hold, as tar tvzf shows it (the stand-in adduser appends to
# passwd and group and makes the home dir).
cat >"$WORK/expected-layer" <<'EOF'
drwxr-xr-x 0/0 bin/
lrwxrwxrwx 0/0 bin/tool -> ../opt/tool
drwxr-xr-x 0/0 etc/
-rw-r--r-- 0/0 etc/group
-rw-r--r-- 0/0 etc/passwd
drwxr-xr-x 0/0 home/
drwxr-xr-x 1000/1000 home/app/
drwxr-xr-x 0/0 opt/
-rw------- 0/0 opt/.wh.remove-me
-rwsr-xr-x 0/0 opt/tool
drwxr-xr-x 0/0 srv/
drwxr-xr-x 1000/1000 srv/data/
drwxr-xr-x 0/0 var/
drwxr-xr-x 0/0 var/old/
-rwxr-xr-x 0/0 var/old/.wh..wh..opq
-rw-r--r-- 0/0 var/old/new
EOF

# The base image, and the merged tree expected after the script: the same script run on
# a copy of the base tree with a real chroot, as real root.
umask 022
build_base_image
cp -a "$WORK/base-tree" "$WORK/expected-root"
chroot "$WORK/expected-root" /bin/sh -e -c "$SCRIPT"
python3 "$ROOTFS_TOOLS" tree-listing "$WORK/expected-root" 0 0 >"$WORK/expected-merged"
check "the expected merged tree was made ($(wc -l <"$WORK/expected-merged") entries)" \
  grep -q '^srv/data d 0755 1000:1000' "$WORK/expected-merged"

spec() { # FILE SCRIPT
  jq -n --arg base "$WORK/base.tar" --arg script "$2" \
    '{name: "rs", tag: "v1", fromImage: $base, runAsRoot: $script}' >"$1"
}
new_layer() { # IMAGE OUT: the image's last layer blob
  tar -xOf "$1" "$(tar -xOf "$1" manifest.json | jq -r '.[0].Layers[-1]')" >"$2"
}

reference_layer=""
for user in $(sandbox_users); do
  d="$WORK/$user"
  mkdir -p "$d/tmp" "$d/store" "$d/out"
  spec "$d/rs.json" "$SCRIPT"
  spec "$d/fail.json" 'echo about to fail; exit 7'
  nap=$((600 + RANDOM % 1000)) # a duration no other process sleeps
  spec "$d/sleep.json" "touch /started; sleep $nap"
  chown -R "$user:" "$d"
  in_dir() { as_user "$user" env TMPDIR="$d/tmp" "$@"; }
  mode=$(expected_mode "$user")

  # The build, its layer, and the mode that ran.
  in_dir "$SB" build "$d/rs.json" -o "$d/rs.tar" --layer-store "$d/store" --json >"$d/build.json"
  check "$user: --json reports id mode $mode" [ "$(jq -r .root_script.id_mode "$d/build.json")" = "$mode" ]
  check "$user: --json reports exit status 0 and an overlay root" \
    [ "$(jq -r '.root_script | "\(.exit_status) \(.root)"' "$d/build.json")" = "0 overlay:kernel" ]
  check "$user: the first build over a fresh layer store unpacked the base layer" \
    [ "$(jq -r .root_script.layers_unpacked "$d/build.json")" = 1 ]
  check "$user: nothing left after the build" [ -z "$(leftovers "$d/tmp")" ]
  new_layer "$d/rs.tar" "$d/layer.tgz"
  layer_listing "$d/layer.tgz" >"$d/layer.list"
  check "$user: the new layer holds exactly the script's changes (owners, modes, .wh., opaque dir, symlink)" \
    diff -u "$WORK/expected-layer" "$d/layer.list"
  sum=$(sha256sum <"$d/layer.tgz" | cut -d' ' -f1)
  if [ -z "$reference_layer" ]; then
    reference_layer=$sum
  else
    check "$user: the new layer is byte-identical to root's" [ "$sum" = "$reference_layer" ]
  fi

  # Real clients read the image; strata export equals the merged tree.
  in_dir skopeo inspect "docker-archive:$d/rs.tar" >"$d/inspect.json"
  check "$user: skopeo inspects it (2 layers)" [ "$(jq '.Layers | length' "$d/inspect.json")" = 2 ]
  check "$user: skopeo copies it to OCI" \
    in_dir skopeo copy -q "docker-archive:$d/rs.tar" "oci:$d/rs.oci:v1"
  check "$user: umoci unpacks that rootless" \
    in_dir umoci unpack --rootless --image "$d/rs.oci:v1" "$d/bundle"
  python3 "$ROOTFS_TOOLS" tree-listing "$d/bundle/rootfs" "$(id -u "$user")" "$(id -g "$user")" >"$d/umoci.list"
  check "$user: umoci's tree = the expected merged tree" diff -u "$WORK/expected-merged" "$d/umoci.list"
  in_dir "$SB" export "$d/rs.tar" -o "$d/export.tar" -q
  python3 "$ROOTFS_TOOLS" tar-listing "$d/export.tar" >"$d/export.list"
  check "$user: strata export = the expected merged tree (names, types, modes, owners, contents)" \
    diff -u "$WORK/expected-merged" "$d/export.list"

  # The layer cache: a second build on the same base unpacks nothing, builds the same.
  in_dir "$SB" build "$d/rs.json" -o "$d/rs2.tar" --layer-store "$d/store" --json >"$d/build2.json"
  check "$user: a second build over the same base reports layers_unpacked 0" \
    [ "$(jq -r .root_script.layers_unpacked "$d/build2.json")" = 0 ]
  check "$user: ... and builds the same image" cmp -s "$d/rs.tar" "$d/rs2.tar"
  check "$user: nothing left after it" [ -z "$(leftovers "$d/tmp")" ]

  # A failing script.
  set +e
  in_dir "$SB" build "$d/fail.json" -o "$d/out/fail.tar" --layer-store "$d/store" >"$d/fail.out" 2>"$d/fail.err"
  rc=$?
  set -e
  check "$user: a script's exit 7 is strata's exit status" [ "$rc" = 7 ]
  check "$user: ... with a message saying so" grep -q "^strata: runAsRoot failed with exit status 7$" "$d/fail.err"
  check "$user: ... and the script's own output" grep -q "about to fail" "$d/fail.out" "$d/fail.err"
  check "$user: ... and no output file" [ -z "$(ls -A "$d/out")" ]
  check "$user: nothing left after the failed build" [ -z "$(leftovers "$d/tmp")" ]

  # kill -9 of strata while the script sleeps.
  in_dir "$SB" build "$d/sleep.json" -o "$d/out/sleep.tar" --layer-store "$d/store" 2>/dev/null &
  check "$user: the sleeping script started" wait_for 30 bash -c 'ls "$1"/strata-rootscript-*/upper/started >/dev/null 2>&1' _ "$d/tmp"
  strata_pid=$(pgrep -u "$user" -o -f "^$SB build $d/sleep.json" || true)
  check "$user: found strata's pid" [ -n "$strata_pid" ]
  kill -9 "$strata_pid"
  wait || true
  check "$user: its script died with it" \
    wait_for 10 bash -c '! pgrep -f "^sleep $1\$" >/dev/null' _ "$nap"
  check "$user: no mount of the killed run is in the host mount table" \
    bash -c '! grep -qF "$1" /proc/self/mountinfo' _ "$d/tmp"
  check "$user: the killed run left its dirs (nothing could remove them)" [ -n "$(ls -A "$d/tmp")" ]
  check "$user: ... and no output file" [ -z "$(ls -A "$d/out")" ]
  in_dir "$SB" build "$d/rs.json" -o "$d/rs3.tar" --layer-store "$d/store" -q
  check "$user: the next run removed them, and its own" [ -z "$(leftovers "$d/tmp")" ]
  check "$user: ... and built the same image" cmp -s "$d/rs.tar" "$d/rs3.tar"
done
finish
