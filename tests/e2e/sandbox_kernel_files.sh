#!/usr/bin/env bash
# The host-wide files of /proc and /sys, as root, strata-sub and strata-nosub: /proc/sys
# and the other kernel switches are read-only (as root they were writable: a script
# changed the host's kernel.printk_ratelimit_burst and could open kernel.core_pattern,
# whose pipe form runs as host root), the kernel's keys, timers and firmware are masked,
# the command cannot unmount the masks, and the process's own files still work.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
sandbox_setup

knob=/proc/sys/kernel/printk_ratelimit_burst
host_value=$(cat "$knob")
restore_knob() {
  [ "$(cat "$knob")" = "$host_value" ] || echo "$host_value" >"$knob"
  sandbox_cleanup
}
trap restore_knob EXIT
new_value=$((host_value + 7))

for user in $(sandbox_users); do
  root="$WORK/$user/root"
  make_rootfs "$root" "$user"
  run() { as_user "$user" "$SB" sandbox-exec --rootfs "$root" "$@"; }

  out=$(run -- /bin/sh -c "echo $new_value > $knob && echo wrote-knob; cat $knob" 2>&1 || true)
  check "$user: writing $knob fails" bash -c '! grep -q wrote-knob <<<"$1"' _ "$out"
  check "$user: the host's $knob is unchanged" [ "$(cat "$knob")" = "$host_value" ]
  [ "$(cat "$knob")" = "$host_value" ] || echo "$host_value" >"$knob"
  out=$(run -- /bin/sh -c 'exec 3>>/proc/sys/kernel/core_pattern && echo opened' 2>&1 || true)
  check "$user: kernel.core_pattern cannot be opened for writing" bash -c '! grep -q opened <<<"$1"' _ "$out"
  check "$user: /proc/sys is a read-only mount" run -- /bin/sh -c \
    'grep -q " /proc/sys ro," /proc/self/mountinfo'
  for path in /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs; do
    [ -e "$path" ] || continue
    check "$user: $path is read-only" run -- /bin/sh -c "grep -q ' $path ro,' /proc/self/mountinfo"
  done
  for path in /proc/keys /proc/timer_list /proc/kcore /proc/sched_debug; do
    [ -e "$path" ] || continue
    check "$user: $path shows nothing" run -- /bin/sh -c "test ! -s $path && test -z \"\$(head -c1 $path)\""
  done
  for path in /proc/acpi /sys/firmware; do
    [ -d "$path" ] && [ -n "$(ls -A "$path")" ] || continue
    check "$user: $path is an empty directory" run -- /bin/sh -c "test -d $path && test -z \"\$(ls -A $path)\""
  done
  out=$(run -- /bin/sh -c 'umount /proc/keys 2>&1; umount /proc/sys 2>&1; cat /proc/keys | wc -c' || true)
  check "$user: the masks cannot be unmounted" bash -c '[ "$(tail -n1 <<<"$1")" = 0 ]' _ "$out"
  check "$user: the process's own /proc files still work" run -- /bin/sh -c \
    'echo 5 > /proc/self/oom_score_adj && test "$(cat /proc/self/oom_score_adj)" = 5 && test -r /proc/self/status'
done

# The same sandbox serves root scripts: a runAsRoot build as root cannot write the knob.
mkdir -p "$WORK/tree/bin"
cp /bin/busybox "$WORK/tree/bin/busybox"
ln -s busybox "$WORK/tree/bin/sh"
cat >"$WORK/spec.json" <<EOF
{"name": "knob", "tag": "v1", "copyToRoot": ["$WORK/tree"],
 "runAsRoot": "/bin/busybox sh -c 'echo $new_value > $knob' || true"}
EOF
"$SB" build "$WORK/spec.json" -o "$WORK/knob.tar" -q --layer-store "$WORK/store"
check "root: a runAsRoot script leaves the host's $knob unchanged" [ "$(cat "$knob")" = "$host_value" ]
finish
