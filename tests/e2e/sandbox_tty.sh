#!/usr/bin/env bash
# The caller's terminal, as root, strata-sub and strata-nosub: with a real pty as the
# caller's controlling tty and the command's stdin, the command's TIOCSTI fails and
# nothing reaches the caller's input (before, `echo INJECTED` landed in the caller's
# shell); the command has a session of its own and no controlling tty; TIOCSTI (also
# with high bits set in the request) and TIOCLINUX are denied by seccomp even on a pty
# the command makes its own; Ctrl-C on the caller's terminal still stops the command.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
sandbox_setup
command -v gcc >/dev/null || { echo "FAIL: gcc is needed to build the tty probe"; exit 1; }
gcc -static -O1 -o "$WORK/tty_probe" "$STRATA_TESTS/e2e/lib/tty_probe.c"

# Runs "$@" as the only process of a new session whose controlling tty is a fresh pty
# (stdin, stdout and stderr), then reads what is left in the pty's input for 1 s, as the
# caller's shell would once strata exits; prints everything the pty showed, then
# "LEFT[...]" with that input. With INTERRUPT_AFTER=N, types Ctrl-C after N seconds.
in_pty() {
  python3 - "$@" <<'PY'
import os, pty, select, sys, time
argv = sys.argv[1:]
interrupt_after = float(os.environ.get("INTERRUPT_AFTER", "0"))
pid, master = pty.fork()
if pid == 0:
    import termios
    attrs = termios.tcgetattr(0)
    attrs[3] &= ~termios.ECHO  # what a command pushes shows only where it is read
    termios.tcsetattr(0, termios.TCSANOW, attrs)
    child = os.fork()
    if child == 0:
        os.execvp(argv[0], argv)
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for strata
    _, status = os.waitpid(child, 0)
    print(f"STATUS[{os.waitstatus_to_exitcode(status)}]", flush=True)
    os.set_blocking(0, False)
    left = b""
    end = time.time() + 1
    while time.time() < end:
        try:
            left += os.read(0, 4096)
        except BlockingIOError:
            time.sleep(0.05)
    print("LEFT[" + left.decode(errors="replace").replace("\n", "\\n") + "]", flush=True)
    os._exit(0)
out = b""
start = time.time()
interrupted = False
while True:
    if interrupt_after and not interrupted and time.time() - start > interrupt_after:
        os.write(master, b"\x03")
        interrupted = True
    r, _, _ = select.select([master], [], [], 0.1)
    if r:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    elif time.time() - start > 60:
        break
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
PY
}

marker="INJ""ECTED-$RANDOM"
for user in $(sandbox_users); do
  root="$WORK/$user/root"
  make_rootfs "$root" "$user"
  install -m 755 -o "$user" "$WORK/tty_probe" "$root/bin/tty_probe"
  run() { as_user "$user" "$SB" sandbox-exec --rootfs "$root" "$@"; }
  caller=("$SB")
  [ "$user" = root ] || caller=(runuser -u "$user" -- "$SB")

  out=$(in_pty "${caller[@]}" sandbox-exec --rootfs "$root" -- /bin/tty_probe caller "echo $marker
")
  check "$user: TIOCSTI on the caller's terminal fails" grep -q "^caller_tiocsti=E" <<<"$out"
  check "$user: nothing reaches the caller's input" grep -q "^LEFT\[\]$" <<<"$out"
  out=$(in_pty "${caller[@]}" sandbox-exec --rootfs "$root" -- /bin/sh -c \
    'if (: </dev/tty) 2>/dev/null; then echo has-ctty; else echo no-ctty; fi
     test "$(cut -d" " -f6 /proc/self/stat)" = "$$" && echo leader')
  check "$user: the command has no controlling tty" grep -q "^no-ctty$" <<<"$out"
  check "$user: the command leads a session of its own" grep -q "^leader$" <<<"$out"

  out=$(run -- /bin/tty_probe own)
  check "$user: TIOCSTI on a pty of the command's own is denied (EPERM)" grep -q "^own_tiocsti=EPERM$" <<<"$out"
  check "$user: TIOCSTI with high bits in the request is denied (EPERM)" \
    grep -q "^own_tiocsti_high_bits=EPERM$" <<<"$out"
  check "$user: TIOCLINUX is denied (EPERM, not ENOTTY)" grep -q "^own_tioclinux=EPERM$" <<<"$out"

  start=$(date +%s)
  out=$(INTERRUPT_AFTER=1 in_pty "${caller[@]}" sandbox-exec --rootfs "$root" -- /bin/sleep 30)
  check "$user: Ctrl-C on the caller's terminal stops the command (130)" \
    bash -c 'grep -q "^STATUS\[130\]$" <<<"$1" && [ $(( $(date +%s) - $2 )) -lt 20 ]' _ "$out" "$start"
done
finish
