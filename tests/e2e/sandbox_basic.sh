#!/usr/bin/env bash
# The sandbox runs a script as uid 0 in a busybox rootfs, returns its exit status, and
# chown inside reaches the disk (root, subuid) or the override_stat xattr (single id);
# the mode is reported in --json. As root, strata-sub (subuid range) and strata-nosub.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
sandbox_setup

json_field() { tail -n1 | grep -o "\"$1\":\"[^\"]*\"" | cut -d'"' -f4; }

for user in $(sandbox_users); do
  root="$WORK/$user/root"
  make_rootfs "$root" "$user"
  case $user in
    root) expected_mode=root owner="1000:1000" ;;
    strata-sub) expected_mode=subuid owner="$(subordinate_id strata-sub 1000):$(subordinate_id strata-sub 1000)" ;;
    strata-nosub) expected_mode=single owner="$(id -u strata-nosub):$(id -g strata-nosub)" ;;
  esac

  set +e
  out=$(as_user "$user" "$SB" sandbox-exec --rootfs "$root" --json -- /bin/sh -c \
    'test "$(id -u)" = 0 && echo data > /data/f && chown 1000:1000 /data/f && exit 3' 2>&1)
  rc=$?
  set -e
  check "$user: the script's exit status (3) is strata's" [ "$rc" -eq 3 ]
  check "$user: --json reports id mode $expected_mode" [ "$(echo "$out" | json_field id_mode)" = "$expected_mode" ]
  check "$user: chown 1000:1000 gives $owner on disk" [ "$(stat -c %u:%g "$root/data/f")" = "$owner" ]
  if [ "$expected_mode" = single ]; then
    check "$user: the xattr records 1000:1000" \
      [ "$(getfattr --absolute-names --only-values -n user.containers.override_stat "$root/data/f")" = "1000:1000:0644" ]
  fi

  # Single-id mode can be forced, whatever the caller has.
  as_user "$user" "$SB" sandbox-exec --rootfs "$root" --id-mode single -- /bin/sh -c \
    'echo x > /data/g && mkdir /data/d && chown 1000:1000 /data/g && chown -R 5:7 /data/d'
  check "$user: forced single mode records chown of a file" \
    [ "$(getfattr --absolute-names --only-values -n user.containers.override_stat "$root/data/g")" = "1000:1000:0644" ]
  check "$user: forced single mode records chown of a dir" \
    [ "$(getfattr --absolute-names --only-values -n user.containers.override_stat "$root/data/d")" = "5:7:0755" ]
  check "$user: forced single mode leaves the real owner" [ "$(stat -c %u "$root/data/g")" = "$(id -u "$user")" ]

  set +e
  as_user "$user" "$SB" sandbox-exec --rootfs "$root" -- /bin/sh -c 'kill -TERM $$'
  rc=$?
  msg=$(as_user "$user" "$SB" sandbox-exec --rootfs "$root" --timeout 1 -- /bin/sleep 30 2>&1)
  trc=$?
  set -e
  check "$user: a script killed by SIGTERM gives 143" [ "$rc" -eq 143 ]
  check "$user: --timeout kills the sandbox and exits 1" [ "$trc" -eq 1 ]
  check "$user: --timeout says so" grep -q "timed out after 1 s" <<<"$msg"

  check "$user: pid 1 is strata's init, hostname strata, /dev /proc /sys /tmp mounted" \
    as_user "$user" "$SB" sandbox-exec --rootfs "$root" -- /bin/sh -c \
    'test "$(cat /proc/1/comm)" = strata-init && test "$(hostname)" = strata && test -c /dev/null &&
     echo > /dev/null && test -r /dev/urandom && test -d /proc/self && test -w /tmp && test -d /sys/kernel &&
     ! touch /sys/kernel/x 2>/dev/null'
done

# Bad input: exit 2 with a message naming it.
set +e
msg=$("$SB" sandbox-exec --rootfs "$WORK/none" -- /bin/true 2>&1)
rc=$?
set -e
check "a missing rootfs is bad input (exit 2) named in the message" \
  bash -c '[ '"$rc"' -eq 2 ] && grep -q "'"$WORK"'/none" <<<"$1"' _ "$msg"
finish
