# Sourced by end-to-end tests: a temp dir removed at exit, assertions, fixtures.
set -euo pipefail

: "${STRATA:?STRATA must name the strata binary}"
: "${STRATA_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"

TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/strata-e2e-$TEST_NAME.XXXXXX")
chmod 755 "$WORK"
cleanup() {
  chmod -R u+rwX "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

checks=0
fail() {
  echo "FAIL [$TEST_NAME]: $*" >&2
  exit 1
}
pass() {
  checks=$((checks + 1))
  echo "ok - $*"
}
need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || fail "required tool '$tool' is not installed (scripts/setup installs it)"
  done
}
assert_eq() { # expected actual message
  [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
  pass "$3"
}
finish() {
  echo "$TEST_NAME: $checks checks passed"
}

# A rootfs with busybox-static and its applet links.
make_busybox_root() { # dir
  mkdir -p "$1/bin" "$1/etc" "$1/tmp"
  cp /bin/busybox "$1/bin/busybox"
  for applet in sh ls cat echo true false id mkdir rm ln chmod chown touch stat; do
    ln -sf busybox "$1/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/etc/passwd"
  printf 'root:x:0:\n' >"$1/etc/group"
}

# Runs strata expecting exit status $1; its stderr is kept in $WORK/stderr.
expect_status() { # status args...
  local want=$1
  shift
  local got=0
  "$STRATA" "$@" >"$WORK/stdout" 2>"$WORK/stderr" || got=$?
  [ "$got" = "$want" ] || fail "strata $* exited $got, expected $want; stderr: $(cat "$WORK/stderr")"
}
