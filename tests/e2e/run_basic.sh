#!/usr/bin/env bash
# strata run IMAGE-or-ROOTFS -- CMD…, as root, strata-sub (subuid range) and strata-nosub:
#  - the command's exit status is strata's (5, 0, 143 for SIGTERM, 127); its argv
#    arrives intact; it runs as uid 0 in the image's rootfs (docker-archive or OCI dir);
#    --json names the id mode; --timeout stops it (exit 1);
#  - an image is not changed by a run (each run gets a fresh upper dir);
#  - --layer-out DIR: layer.tar holds exactly the change (owners, setuid, .wh., opaque
#    dir, symlink), the same bytes for every user; json's checksum is the tarsum of
#    layer.tar (checked by an independent python tarsum) and its id the sha256 of the
#    json without id and Size; VERSION is 1.0; a failing command writes no layer dir;
#  - a rootfs dir is stacked as the lower dir (left unchanged, the diff in --layer-out),
#    or, with --overlay plain, changed in place;
#  - bad usage exits 2 with one message; nothing is left in the run's TMPDIR, no mount.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/root_script.sh"
ROOTFS_TOOLS="$STRATA_TESTS/e2e/lib/rootfs_tools.py"
sandbox_need jq python3 tar sha256sum
sandbox_setup
umask 022

build_base_image
"$SB" build "$WORK/base.json" --format oci-dir -o "$WORK/base.oci" -q
IMAGE="$WORK/base.tar"

CHANGE='adduser -D -u 1000 app
mkdir -p /srv/data
chown 1000:1000 /srv/data
chmod u+s /opt/tool
rm /opt/remove-me
rm -rf /var/old
mkdir /var/old
ln -s ../opt/tool /bin/tool'
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
EOF
cat >"$WORK/expected-dir-layer" <<'EOF'
drwxr-xr-x 0/0 etc/
-rw------- 0/0 etc/.wh.group
-rw-r--r-- 0/0 hello
EOF

reference_layer=""
for user in $(sandbox_users); do
  d="$WORK/$user"
  mkdir -p "$d/tmp" "$d/store" "$d/out"
  make_base_tree "$d/rootfs"
  chown -R "$user:" "$d"
  run_as() { as_user "$user" env TMPDIR="$d/tmp" "$SB" run --layer-store "$d/store" "$@"; }
  status_of() { # runs strata run ARGS..., prints its exit status; output in $d/out.{stdout,stderr}
    local rc=0
    run_as "$@" >"$d/out.stdout" 2>"$d/out.stderr" || rc=$?
    echo "$rc"
  }
  clean() { [ -z "$(leftovers "$d/tmp")" ]; }
  mode=$(expected_mode "$user")

  # Exit status, argv, identity, --json.
  check "$user: exit 5 is strata's exit status" [ "$(status_of "$IMAGE" -- /bin/sh -c 'exit 5')" = 5 ]
  check "$user: /bin/true gives 0" [ "$(status_of "$IMAGE" -- /bin/true)" = 0 ]
  check "$user: a command killed by SIGTERM gives 143" [ "$(status_of "$IMAGE" -- /bin/sh -c 'kill -TERM $$')" = 143 ]
  check "$user: a missing command gives 127" [ "$(status_of "$IMAGE" -- /no/such/command)" = 127 ]
  run_as "$IMAGE" -- /bin/sh -c 'printf "[%s]" "$@"' sh "a b" -x "" '$HOME' >"$d/argv.out"
  check "$user: argv arrives intact" [ "$(cat "$d/argv.out")" = '[a b][-x][][$HOME]' ]
  run_as "$IMAGE" -- /bin/sh -c 'echo "$(id -u):$(id -g) $(cat /opt/keep)"' >"$d/id.out"
  check "$user: the command runs as 0:0 in the image's rootfs" [ "$(cat "$d/id.out")" = "0:0 keep" ]
  run_as "$IMAGE" --json -- /bin/sh -c 'echo from-the-command; exit 4' >"$d/json.out" || true
  check "$user: the command's stdout comes first" [ "$(head -n1 "$d/json.out")" = from-the-command ]
  check "$user: --json reports exit status 4 and id mode $mode" \
    [ "$(tail -n1 "$d/json.out" | jq -r '"\(.exit_status) \(.id_mode)"')" = "4 $mode" ]
  check "$user: an OCI dir is run as an image (not as a rootfs dir)" \
    [ "$(status_of "$WORK/base.oci" -- /bin/sh -c 'test -e /opt/keep && test ! -e /oci-layout')" = 0 ]
  check "$user: --timeout 1 stops a command that sleeps: exit 1" \
    [ "$(status_of "$IMAGE" --timeout 1 -- /bin/sleep 30)" = 1 ]
  check "$user: ... saying so" grep -q "timed out after 1 s" "$d/out.stderr"
  run_as "$IMAGE" -- /bin/sh -c 'touch /marker; rm /opt/keep'
  check "$user: a run does not change the image (a fresh upper dir each run)" \
    [ "$(status_of "$IMAGE" -- /bin/sh -c 'test ! -e /marker && test -e /opt/keep')" = 0 ]
  check "$user: nothing left in TMPDIR, no mount" clean

  # --layer-out
  run_as "$IMAGE" --layer-out "$d/layer" --json -- /bin/sh -e -c "$CHANGE" >"$d/layer.json"
  check "$user: --layer-out wrote layer.tar, json and VERSION" \
    [ "$(cd "$d/layer" && ls | tr '\n' ' ')" = "VERSION json layer.tar " ]
  layer_listing "$d/layer/layer.tar" >"$d/layer.list"
  check "$user: layer.tar holds exactly the change" diff -u "$WORK/expected-layer" "$d/layer.list"
  sum=$(sha256sum <"$d/layer/layer.tar" | cut -d' ' -f1)
  check "$user: --json diff_id is layer.tar's sha256" [ "$(jq -r .layer_out.diff_id "$d/layer.json")" = "sha256:$sum" ]
  if [ -z "$reference_layer" ]; then
    reference_layer=$sum
  else
    check "$user: layer.tar is byte-identical to root's" [ "$sum" = "$reference_layer" ]
  fi
  check "$user: json's checksum is layer.tar's tarsum.v1" \
    [ "$(jq -r .checksum "$d/layer/json")" = "$(python3 "$ROOTFS_TOOLS" tarsum "$d/layer/layer.tar")" ]
  check "$user: json's id is the sha256 of the json without id and Size" \
    [ "$(jq -r .id "$d/layer/json")" = "$(jq -cjS 'del(.id, .Size)' "$d/layer/json" | sha256sum | cut -d' ' -f1)" ]
  check "$user: json's Size is layer.tar's size" [ "$(jq -r .Size "$d/layer/json")" = "$(stat -c %s "$d/layer/layer.tar")" ]
  check "$user: VERSION is 1.0" [ "$(cat "$d/layer/VERSION")" = 1.0 ]
  check "$user: nothing left after --layer-out" clean
  check "$user: a failing command exits 3 with --layer-out" \
    [ "$(status_of "$IMAGE" --layer-out "$d/failed" -- /bin/sh -c 'touch /x; exit 3')" = 3 ]
  check "$user: ... and writes no layer dir" [ ! -e "$d/failed" ]
  check "$user: ... and says so" grep -q "no layer written" "$d/out.stderr"

  # A rootfs dir: the lower dir, or with --overlay plain the root itself.
  before=$(python3 "$ROOTFS_TOOLS" tree-listing "$d/rootfs" "$(id -u "$user")" "$(id -g "$user")" | sha256sum)
  run_as "$d/rootfs" --layer-out "$d/dir-layer" -- /bin/sh -c 'echo hi >/hello; rm /etc/group'
  after=$(python3 "$ROOTFS_TOOLS" tree-listing "$d/rootfs" "$(id -u "$user")" "$(id -g "$user")" | sha256sum)
  check "$user: a rootfs dir is left unchanged by a run over it" [ "$before" = "$after" ]
  layer_listing "$d/dir-layer/layer.tar" >"$d/dir-layer.list"
  check "$user: ... and --layer-out holds the change" diff -u "$WORK/expected-dir-layer" "$d/dir-layer.list"
  run_as "$d/rootfs" --overlay plain -- /bin/sh -c 'echo in-place >/inplace'
  check "$user: --overlay plain changes the rootfs dir in place" [ "$(cat "$d/rootfs/inplace" 2>&1)" = in-place ]
  check "$user: nothing left after the rootfs dir runs" clean

  # Bad usage.
  bad() { # PATTERN WHAT ARGS...: exit 2 and one line naming the problem
    local pattern=$1 what=$2
    shift 2
    local rc
    rc=$(status_of "$@")
    if [ "$rc" = 2 ] && grep -Eq -- "$pattern" "$d/out.stderr"; then
      echo "ok   $user: $what -> exit 2: $(head -n1 "$d/out.stderr")"
      passes=$((passes + 1))
    else
      echo "FAIL $user: $what: exit $rc: $(cat "$d/out.stderr")"
      failures=$((failures + 1))
    fi
  }
  bad "$d/nothere does not exist" "a missing image" "$d/nothere" -- /bin/true
  bad "command is required|no command" "no command" "$IMAGE"
  bad "--layer-out needs an overlay" "--layer-out with --overlay plain" "$d/rootfs" --overlay plain --layer-out "$d/x" -- /bin/true
  bad "--overlay plain runs in a rootfs directory" "--overlay plain on an image" "$IMAGE" --overlay plain -- /bin/true
  bad "--layer-out $d/layer is not empty" "a non-empty --layer-out" "$IMAGE" --layer-out "$d/layer" -- /bin/true
  bad "--network 'bogus'" "a bad --network" "$IMAGE" --network bogus -- /bin/true
  check "$user: nothing left after the bad runs" clean
done
finish
