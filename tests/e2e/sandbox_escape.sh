#!/usr/bin/env bash
# Attempts from inside the sandbox that must fail, as root, strata-sub and strata-nosub:
# see host processes, write a host path, reach the network, mount over or unmount the
# root, load a module, set the host's hostname or clock, gain privileges via setuid.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
sandbox_setup
command -v gcc >/dev/null || { echo "FAIL: gcc is needed to build the setuid probe"; exit 1; }

# A static program printing its effective uid: setuid-root, it would print 0.
printf '#include <stdio.h>\n#include <unistd.h>\nint main(void){printf("%%d\\n",(int)geteuid());return 0;}\n' > "$WORK/euid.c"
gcc -static -O1 -o "$WORK/euid" "$WORK/euid.c"

marker=$((424242 + RANDOM))
sleep "$marker" &
host_sleeper=$!
listener=
cleanup_escape() {
  kill "$host_sleeper" 2>/dev/null || true
  [ -n "$listener" ] && kill "$listener" 2>/dev/null || true
  sandbox_cleanup
}
trap cleanup_escape EXIT
host_name=$(hostname)

listen() {  # a TCP listener on 127.0.0.1:$1 on the host, for at most 60 s
  /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    try: s.accept()[0].close()
    except socket.timeout: pass
' "$1" &
  listener=$!
  for _ in $(seq 50); do
    grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp && return 0
    sleep 0.1
  done
  echo "listener on port $1 did not start"; return 1
}

for user in $(sandbox_users); do
  root="$WORK/$user/root"
  make_rootfs "$root" "$user"
  echo "u:x:1000:1000::/:/bin/sh" >> "$root/etc/passwd"
  echo "u:x:1000:" >> "$root/etc/group"
  install -m 4755 -o "$user" "$WORK/euid" "$root/bin/suid-euid"
  hostdir="$WORK/$user/host-only"
  mkdir -p "$hostdir"
  chown "$user:" "$hostdir"
  run() { as_user "$user" "$SB" sandbox-exec --rootfs "$root" "$@"; }

  out=$(run -- /bin/sh -c "ps -o pid,comm,args")
  check "$user: ps inside shows no host process" bash -c '! grep -q "'"$marker"'" <<<"$1"' _ "$out"
  check "$user: ps inside shows only the sandbox (pid 1 = strata-init)" \
    bash -c 'grep -q "^ *1 strata-init" <<<"$1" && [ $(wc -l <<<"$1") -le 5 ]' _ "$out"

  run -- /bin/sh -c "echo pwned > $hostdir/f; cd /; cd ../../..; echo pwned > escaped; echo pwned > /proc/1/root/$hostdir/g" \
    >/dev/null 2>&1 || true
  check "$user: a host path outside the mounts cannot be written" \
    bash -c '[ ! -e "$1/f" ] && [ ! -e "$1/g" ] && [ ! -e /escaped ] && [ ! -e "$(dirname "$2")/escaped" ]' _ "$hostdir" "$root"

  port=$((20000 + RANDOM % 20000))
  listen "$port"
  set +e
  run -- /bin/sh -c "nc -w 2 127.0.0.1 $port </dev/null"
  rc=$?
  set -e
  check "$user: connecting to a host port fails by default" [ "$rc" -ne 0 ]
  out=$(run -- /bin/sh -c "ip -o link")
  check "$user: ip link shows only lo, down" bash -c '[ "$(wc -l <<<"$1")" -eq 1 ] && grep -q "^1: lo: <LOOPBACK>" <<<"$1" && ! grep -q "UP" <<<"$1"' _ "$out"
  check "$user: with --network host the same connect works (control)" \
    run --network host -- /bin/sh -c "nc -w 2 127.0.0.1 $port </dev/null"
  kill "$listener" 2>/dev/null || true
  listener=

  before=$(grep -c "$WORK" /proc/self/mountinfo || true)
  out=$(run -- /bin/sh -c 'mount -t tmpfs none / 2>&1; echo "rc=$?"; umount -l / 2>&1; echo "rc=$?";
                          mount --bind /bin /mnt 2>&1; echo "rc=$?"; test -x /bin/busybox && echo root-intact')
  check "$user: mount over the root fails" grep -q "^rc=[1-9]" <<<"$(sed -n 2p <<<"$out")"
  check "$user: unmount of the root fails" bash -c '[ "$(grep -c "^rc=0" <<<"$1")" -eq 0 ] && grep -q root-intact <<<"$1"' _ "$out"
  check "$user: nothing appeared in the host mount table" [ "$(grep -c "$WORK" /proc/self/mountinfo || true)" = "$before" ]

  head -c 4096 /dev/urandom > "$root/data/evil.ko"
  chown "$user:" "$root/data/evil.ko"
  out=$(run -- /bin/sh -c 'insmod /data/evil.ko 2>&1; echo "rc=$?"')
  check "$user: loading a module is refused (EPERM, not a format error)" \
    bash -c 'grep -q "not permitted" <<<"$1" && ! grep -q "^rc=0" <<<"$1"' _ "$out"

  run -- /bin/sh -c 'hostname evil-host; date -s "2001-01-01 00:00:00"' >/dev/null 2>&1 || true
  check "$user: the host's hostname is unchanged" [ "$(hostname)" = "$host_name" ]
  check "$user: the host's clock is unchanged" [ "$(date +%Y)" -gt 2001 ]
  out=$(run -- /bin/sh -c 'date -s "2001-01-01 00:00:00" 2>&1')
  check "$user: setting the clock is refused" grep -q "not permitted" <<<"$out"

  check "$user: no_new_privs is set" \
    run -- /bin/sh -c 'grep -q "^NoNewPrivs:[[:space:]]*1" /proc/self/status'
  if [ "$user" != strata-nosub ]; then  # single id: uid 1000 does not exist to drop to
    out=$(run -- /bin/sh -c 'su -s /bin/sh u -c /bin/suid-euid' 2>&1)
    check "$user: a setuid-root binary run by uid 1000 stays uid 1000" [ "$out" = 1000 ]
  fi
done
finish
