#!/usr/bin/env bash
# Temp files of a strata that is ended: SIGTERM, SIGINT or SIGHUP in the middle of build
# (the .NAME.strata-* file beside -o), export (the strata-export.* rootfs in $TMPDIR) and
# unpack (the .DIR.strata.* tree beside DIR) leave nothing behind and end with 128+N
# (before, every one stayed, up to the layer's size, never swept); after a SIGKILL the
# next run of the same kind removes what the killed one left, and leaves alone what a
# running strata is writing.
source "$(dirname "$0")/lib/common.sh"
need python3

mkdir -p "$WORK/tree" "$WORK/tmp" "$WORK/out"
head -c 48M /dev/urandom >"$WORK/tree/big"
"$STRATA" build --name big --tag v1 --copy-to-root "$WORK/tree" --compress none -o "$WORK/big.tar" -q
export TMPDIR="$WORK/tmp" STRATA_THREADS=1

# Starts strata in the background (job control on, so SIGINT is not ignored), waits until
# a path matching the glob appears, sends the signal, and prints strata's exit status.
run_and_signal() { # signal glob args...
  local sig=$1 glob=$2
  shift 2
  set -m
  "$STRATA" "$@" >/dev/null 2>&1 &
  local pid=$!
  set +m
  local waited=0
  until compgen -G "$glob" >/dev/null; do
    sleep 0.02
    waited=$((waited + 1))
    if [ "$waited" -gt 3000 ] || ! kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      echo "never-saw-$glob"
      return
    fi
  done
  kill "-$sig" "$pid"
  local rc=0
  wait "$pid" || rc=$?
  echo "$rc"
}
status_of() { case $1 in TERM) echo 143 ;; INT) echo 130 ;; HUP) echo 129 ;; KILL) echo 137 ;; esac; }

for sig in TERM INT HUP; do
  rc=$(run_and_signal "$sig" "$WORK/out/.img.tar.strata-*" \
    build --name x --tag v1 --copy-to-root "$WORK/tree" --compress gzip -o "$WORK/out/img.tar")
  assert_eq "$(status_of "$sig")" "$rc" "build ended by SIG$sig exits $(status_of "$sig")"
  assert_eq "" "$(ls -A "$WORK/out")" "build ended by SIG$sig leaves nothing beside -o"
done

rc=$(run_and_signal TERM "$WORK/tmp/strata-export.*" export "$WORK/big.tar" -o "$WORK/out/rootfs.tar")
assert_eq 143 "$rc" "export ended by SIGTERM exits 143"
assert_eq "" "$(ls -A "$WORK/tmp")$(ls -A "$WORK/out")" "export ended by SIGTERM leaves no rootfs in TMPDIR, no output"

rc=$(run_and_signal INT "$WORK/out/.unpacked.strata.*" unpack "$WORK/big.tar" "$WORK/out/unpacked")
assert_eq 130 "$rc" "unpack ended by SIGINT exits 130"
assert_eq "" "$(ls -A "$WORK/out")" "unpack ended by SIGINT leaves no partial tree"

# extraCommands runs in a staging copy of the contents (strata-layer.* in TMPDIR).
rc=$(run_and_signal HUP "$WORK/tmp/strata-layer.*" \
  build --name x --tag v1 --copy-to-root "$WORK/tree" --extra-commands 'sleep 30' -o "$WORK/out/img.tar")
assert_eq 129 "$rc" "build ended by SIGHUP during extraCommands exits 129"
assert_eq "" "$(ls -A "$WORK/tmp")$(ls -A "$WORK/out")" "... leaves no strata-layer.* staging dir, no output"
rc=$(run_and_signal KILL "$WORK/tmp/strata-layer.*" \
  build --name x --tag v1 --copy-to-root "$WORK/tree" --extra-commands 'sleep 1' -o "$WORK/out/img.tar")
assert_eq 137 "$rc" "build killed by SIGKILL during extraCommands"
[ -n "$(ls -A "$WORK/tmp")" ] || fail "SIGKILL left no staging dir to sweep (the test needs the leftover)"
sleep 1.5 # the orphaned extraCommands ends
"$STRATA" build --name x --tag v1 --copy-to-root "$WORK/tree" --extra-commands true -o "$WORK/out/img.tar" -q
assert_eq "" "$(ls -A "$WORK/tmp")" "the next build with extraCommands swept the killed one's staging dir"
rm -f "$WORK/out/img.tar"

# SIGKILL cannot be caught: what it leaves, the next run of the same kind sweeps.
rc=$(run_and_signal KILL "$WORK/out/.img.tar.strata-*" \
  build --name x --tag v1 --copy-to-root "$WORK/tree" --compress gzip -o "$WORK/out/img.tar")
assert_eq 137 "$rc" "build killed by SIGKILL"
left=$(ls -A "$WORK/out")
[ -n "$left" ] || fail "SIGKILL left nothing to sweep (the test needs the leftover)"
rc=$(run_and_signal KILL "$WORK/tmp/strata-export.*" export "$WORK/big.tar" -o "$WORK/out/rootfs.tar")
assert_eq 137 "$rc" "export killed by SIGKILL"
rc=$(run_and_signal KILL "$WORK/out/.unpacked.strata.*" unpack "$WORK/big.tar" "$WORK/out/unpacked")
assert_eq 137 "$rc" "unpack killed by SIGKILL"
# A temp file of a strata that is still running (this shell's pid) is not swept.
touch "$WORK/out/.img.tar.strata-$$-live01"

echo small >"$WORK/small"
"$STRATA" build --name x --tag v1 --copy-to-root "$WORK/small" -o "$WORK/out/img.tar" -q
"$STRATA" export "$WORK/out/img.tar" -o "$WORK/out/rootfs.tar" -q
"$STRATA" unpack "$WORK/out/img.tar" "$WORK/out/unpacked" -q
assert_eq ".img.tar.strata-$$-live01 img.tar rootfs.tar unpacked" "$(ls -A "$WORK/out" | tr '\n' ' ' | sed 's/ $//')" \
  "the next build and unpack swept what the killed ones left beside their outputs, and nothing else"
assert_eq "" "$(ls -A "$WORK/tmp")" "the next export swept the killed one's rootfs from TMPDIR"
finish
