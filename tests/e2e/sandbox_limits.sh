#!/usr/bin/env bash
# The sandbox's resource limits, as root, strata-sub and strata-nosub (before: /tmp was a
# tmpfs of half the RAM, and 3,000 processes started):
#  - by default /tmp is a 1 GiB tmpfs and a script that starts 3,000 processes gets
#    fewer than 2,048 + 300 (RLIMIT_NPROC 2048 per uid; pid_max 2348 of the pid namespace
#    on Linux 6.14+, which holds real root, whom the kernel exempts from RLIMIT_NPROC);
#  - --tmp-size 8m: a 20 MB write to /tmp fails at 8 MiB;
#  - --pids-limit 50: at most 50 processes of a uid (349 in all for real root), the
#    command's failing fork its own error, not strata's;
#  - bad values are exit 2 naming the flag.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
sandbox_setup

per_namespace_pid_max=0
IFS=. read -r major minor _ <<<"$(uname -r)"
if [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "${minor%%[^0-9]*}" -ge 14 ]; }; then per_namespace_pid_max=1; fi

# Starts up to $1 sleeping processes (the subshell stops at the first refused fork) and
# prints how many processes the sandbox then holds (a glob: counting needs no fork).
SPAWN='( n=0; while [ $n -lt $1 ]; do sleep 30 & n=$((n+1)); done ) 2>/dev/null; set -- /proc/[0-9]*; echo $#'

for user in $(sandbox_users); do
  d="$WORK/$user"
  mkdir -p "$d/tmp"
  make_rootfs "$d/rootfs" "$user"
  chown -R "$user:" "$d/tmp"
  sandbox() { as_user "$user" env TMPDIR="$d/tmp" "$SB" run "$d/rootfs" "$@"; }

  check "$user: /tmp is a 1 GiB tmpfs by default" \
    [ "$(sandbox -- /bin/sh -c 'df -k /tmp | tail -n1' | awk '{print $2}')" = 1048576 ]
  check "$user: RLIMIT_NPROC is 2048 by default" [ "$(sandbox -- /bin/sh -c 'ulimit -u')" = 2048 ]
  if [ "$per_namespace_pid_max" = 1 ]; then
    check "$user: the pid namespace's pid_max is 2348 by default" \
      [ "$(sandbox -- /bin/cat /proc/sys/kernel/pid_max)" = 2348 ]
  fi
  count=$(sandbox -- /bin/sh -c "$SPAWN" sh 3000)
  if [ "$user" = root ] && [ "$per_namespace_pid_max" = 0 ]; then
    echo "note: Linux $(uname -r) has no pid_max per pid namespace: real root is not held ($count processes)"
  else
    check "$user: 3,000 processes asked for, $count started (at most 2,347)" [ "$count" -le 2347 ]
  fi

  rc=0
  sandbox --tmp-size 8m -- /bin/sh -c 'head -c 20000000 /dev/zero >/tmp/big' 2>"$d/err" || rc=$?
  size=$(sandbox --tmp-size 8m -- /bin/sh -c 'head -c 20000000 /dev/zero >/tmp/big 2>/dev/null; wc -c </tmp/big')
  check "$user: --tmp-size 8m: a 20 MB write to /tmp stops at 8 MiB ($size bytes)" [ "$size" -le 8388608 ]
  check "$user: ... and the write fails (exit $rc: $(head -c 100 "$d/err"))" [ "$rc" != 0 ]

  count=$(sandbox --pids-limit 50 -- /bin/sh -c "$SPAWN" sh 500)
  if [ "$user" = root ]; then
    if [ "$per_namespace_pid_max" = 1 ]; then
      check "$user: --pids-limit 50: 500 asked for, $count started (at most 349)" [ "$count" -le 349 ]
    fi
  else
    check "$user: --pids-limit 50: 500 asked for, $count started (at most 50)" [ "$count" -le 50 ]
  fi
  check "$user: --pids-limit 0: the caller's RLIMIT_NPROC" \
    [ "$(sandbox --pids-limit 0 -- /bin/sh -c 'ulimit -u')" = "$(as_user "$user" /bin/busybox sh -c 'ulimit -u')" ]
done

exit_2_naming() { [ "$1" = 2 ] && grep -q -- "$2" "$WORK/err"; }
for bad in "--tmp-size 0" "--tmp-size 12q" "--tmp-size -5" "--pids-limit -1" "--pids-limit 99999999"; do
  rc=0
  # shellcheck disable=SC2086
  "$SB" run "$WORK/root/rootfs" $bad -- /bin/true 2>"$WORK/err" || rc=$?
  check "$bad: exit 2 naming the flag ($(head -c 200 "$WORK/err"))" exit_2_naming "$rc" "${bad%% *}"
done
finish
