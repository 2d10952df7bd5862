#!/usr/bin/env bash
# Every sandbox, real root's (id mode root) too, runs in a user namespace of its own, so
# the capabilities the script holds act only on what that namespace owns, never on the
# host's: as root, strata-sub and strata-nosub the script's user namespace is not the
# host's, its CapEff holds CAP_NET_BIND_SERVICE, and yet with --network host it cannot
# bind port 80 in the host's network namespace (owned by the initial user namespace,
# where the script has no capability), while in its own network namespace it can.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
sandbox_setup

if [ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" -le 80 ]; then
  echo "note: net.ipv4.ip_unprivileged_port_start lets anyone bind port 80 here: the bind checks are left out"
  bind_checks=0
else
  bind_checks=1
fi
host_userns=$(readlink /proc/self/ns/user)
# Exit status of binding port 80 for a second (143: bound and timed out; 1: refused).
BIND='busybox timeout 1 busybox nc -l -p 80 2>/tmp/err; echo "$? $(cat /tmp/err)"'

for user in $(sandbox_users); do
  d="$WORK/$user"
  make_rootfs "$d/rootfs" "$user"
  sandbox() { as_user "$user" "$SB" run "$d/rootfs" "$@"; }
  check "$user: the script's user namespace is not the host's ($host_userns)" \
    [ "$(sandbox -- /bin/readlink /proc/self/ns/user)" != "$host_userns" ]
  capeff=$(sandbox -- /bin/sh -c 'grep CapEff /proc/self/status' | awk '{print $2}')
  check "$user: the script holds CAP_NET_BIND_SERVICE (CapEff $capeff)" [ $((0x$capeff & (1 << 10))) -ne 0 ]
  if [ "$bind_checks" = 1 ]; then
    own=$(sandbox -- /bin/sh -c "$BIND")
    check "$user: it binds port 80 in its own network namespace ($own)" [ "${own%% *}" = 143 ]
    host=$(sandbox --network host -- /bin/sh -c "$BIND")
    check "$user: ... not in the host's, owned by the initial user namespace ($host)" \
      [ "$host" = "1 nc: bind: Permission denied" ]
  fi
done
finish
