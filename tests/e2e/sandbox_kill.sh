#!/usr/bin/env bash
# kill -9 of strata mid-script, as root, strata-sub and strata-nosub: the sandbox's
# processes die with it, none of its mounts is in the host mount table (they lived in
# the sandbox's mount namespace, shown to exist before the kill), and its temp dir (the
# overlay mount point) is swept by the next run.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
sandbox_setup

wait_for() {  # wait_for SECONDS CMD...
  local tries=$(($1 * 10))
  shift
  for _ in $(seq "$tries"); do "$@" && return 0; sleep 0.1; done
  return 1
}

for user in $(sandbox_users); do
  d="$WORK/$user"
  make_rootfs "$d/base" "$user"
  mkdir -p "$d/upper" "$d/work" "$d/tmp"
  chown -R "$user:" "$d"
  nap=$((600 + RANDOM % 1000))  # a sleep duration no other process uses
  as_user "$user" env TMPDIR="$d/tmp" "$SB" sandbox-exec --lower "$d/base" --upper "$d/upper" --work "$d/work" \
    -- /bin/sh -c "touch /started; sleep $nap" &
  check "$user: the script started" wait_for 20 test -e "$d/upper/started"
  strata_pid=$(pgrep -o -f "^$SB sandbox-exec --lower $d/base" || true)
  init_pid=$(pgrep -n -f "^$SB sandbox-exec --lower $d/base" || true)
  check "$user: strata and its init are running" bash -c '[ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]' _ "$strata_pid" "$init_pid"
  run_dir=$(ls -d "$d"/tmp/strata-run-"$strata_pid"-* 2>/dev/null || true)
  check "$user: its run dir carries its pid" [ -n "$run_dir" ]
  check "$user: the overlay is the root of the sandbox's mount namespace" \
    grep -q " / / .* - overlay .*upperdir=$d/upper" "/proc/$init_pid/mountinfo"
  check "$user: ... and is not in the host's" bash -c '! grep -q "$1" /proc/self/mountinfo' _ "$d"

  kill -9 "$strata_pid"
  wait 2>/dev/null || true
  check "$user: the script died with strata" wait_for 10 bash -c '! pgrep -f "^sleep $1\$" >/dev/null' _ "$nap"
  check "$user: the init died with strata" wait_for 10 bash -c '! kill -0 "$1" 2>/dev/null' _ "$init_pid"
  check "$user: no mount of the sandbox is in the host mount table" \
    bash -c '! grep -q -e "$1" -e strata-run /proc/self/mountinfo' _ "$d"
  check "$user: the killed run's dir is still there (nothing could remove it)" [ -d "$run_dir" ]
  as_user "$user" env TMPDIR="$d/tmp" "$SB" sandbox-exec --lower "$d/base" --upper "$d/upper" --work "$d/work" \
    -- /bin/true
  check "$user: the next run swept it, and cleaned up its own" [ -z "$(ls -A "$d/tmp")" ]
done
finish
