# Shared helpers of the sandbox end-to-end tests (source it).
#   sandbox_need TOOL...     fails the test unless every TOOL is on PATH
#   sandbox_setup            world-readable $WORK with a copy of strata ($SB) and the
#                            test users; trap cleans up
#   make_rootfs DIR [USER]   a busybox-static rootfs owned by USER (default root)
#   as_user USER CMD...      runs CMD as USER (root: directly)
#   check NAME CMD...        runs CMD, prints ok/FAIL NAME, counts failures
#   sandbox_users            the users every sandbox test runs as
#   finish                   prints the summary and exits 0 only if nothing failed
set -euo pipefail

: "${STRATA:?set STRATA to the strata binary}"
: "${STRATA_SRC:?set STRATA_SRC to the repository}"

failures=0
passes=0

sandbox_need() { # TOOL...: each on PATH, else the test fails saying which
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (run scripts/setup)"; exit 1; }
  done
}

sandbox_setup() {
  sandbox_need busybox runuser getfattr newuidmap
  [ -x /bin/busybox ] || { echo "FAIL: /bin/busybox (busybox-static) is missing"; exit 1; }
  if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL: sandbox tests run as root (they switch to strata-sub and strata-nosub)"; exit 1
  fi
  "$STRATA_SRC/tests/e2e/lib/make-users"
  WORK=$(mktemp -d /tmp/strata-e2e.XXXXXX)
  chmod 755 "$WORK"
  trap 'sandbox_cleanup' EXIT
  # The test users must be able to run it wherever the build dir is.
  cp "$STRATA" "$WORK/strata"
  chmod 755 "$WORK/strata"
  SB="$WORK/strata"
}

sandbox_cleanup() {
  # Files the users made (owned by subordinate ids, possibly read-only dirs).
  chmod -R u+rwX "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}

sandbox_users() { echo root strata-sub strata-nosub; }

make_rootfs() {
  local dir=$1 owner=${2:-root}
  mkdir -p "$dir/bin" "$dir/etc" "$dir/mnt" "$dir/data"
  cp /bin/busybox "$dir/bin/busybox"
  (cd "$dir/bin" && for applet in $(./busybox --list); do [ -e "$applet" ] || ln -s busybox "$applet"; done)
  echo "root:x:0:0:root:/root:/bin/sh" > "$dir/etc/passwd"
  echo "root:x:0:" > "$dir/etc/group"
  chown -R "$owner:" "$dir"
}

as_user() {
  local user=$1
  shift
  if [ "$user" = root ]; then
    "$@"
  else
    runuser -u "$user" -- "$@"
  fi
}

check() {
  local name=$1
  shift
  if "$@"; then
    echo "ok   $name"
    passes=$((passes + 1))
  else
    echo "FAIL $name"
    failures=$((failures + 1))
  fi
}

# The host id that container id $2 maps to for user $1 in subuid mode.
subordinate_id() {
  local user=$1 id=$2 start
  start=$(awk -F: -v u="$user" '$1 == u { print $2; exit }' /etc/subuid)
  echo $((start + id - 1))
}

finish() {
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}
