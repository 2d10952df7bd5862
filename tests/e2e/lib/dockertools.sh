# Fixtures for the tests translated from nixpkgs' dockerTools tests (nixos/tests/docker-tools.nix
# and the images of pkgs/build-support/docker/examples.nix). Source after lib/sandbox.sh and
# call sandbox_setup first (it makes the world-readable $WORK).
#   make_store                 $STORE (a store dir every test user can read, under /var/tmp) holding
#                                $BUSYBOX  static busybox, bin/ with every applet linked
#                                $HELLO    bin/hello: a script run by $BUSYBOX/bin/sh
#                                $NGINX    bin/nginx: a static program that says hello
#                                          when /etc/passwd names the nginx user
#                                $ROOTENV  buildEnv { paths = [ busybox ]; pathsToLink = [ "/bin" ]; }:
#                                          bin/ of links to $BUSYBOX's applets
#   store_path NAME LETTER     prints $STORE/<32 × LETTER>-NAME (a valid store path name)
#   dash_root DIR              a tree with the host's dash as /bin/sh and its libraries,
#                              and no other tool
#   layer_of ARCHIVE INDEX     `tar tv` of the INDEXth layer of a docker-archive (-1: last),
#                              as "MODE UID/GID NAME[ -> TARGET]"
#   run_image USER ARCHIVE CMD...  runs CMD in the image as `docker run` would (strata run,
#                              nothing of the host bound), as USER, layers cached in
#                              $WORK/run-layers-USER
#   says TEXT CMD...           CMD's output is TEXT (for `check`)
set -euo pipefail

store_path() { printf '%s/%s-%s' "$STORE" "$(printf '%032d' 0 | tr 0 "$2")" "$1"; }

make_store() {
  # Not under /tmp: the sandbox of `strata run` has a tmpfs there, which would hide an
  # image's store.
  STORE_ROOT=$(mktemp -d /var/tmp/strata-e2e-store.XXXXXX)
  chmod 755 "$STORE_ROOT"
  trap 'sandbox_cleanup; chmod -R u+w "$STORE_ROOT"; rm -rf "$STORE_ROOT"' EXIT
  STORE=$STORE_ROOT/store
  mkdir -p "$STORE"
  BUSYBOX=$(store_path busybox b)
  mkdir -p "$BUSYBOX/bin"
  cp /bin/busybox "$BUSYBOX/bin/busybox"
  (cd "$BUSYBOX/bin" && for applet in $(./busybox --list); do [ -e "$applet" ] || ln -s busybox "$applet"; done)
  HELLO=$(store_path hello h)
  mkdir -p "$HELLO/bin"
  printf '#!%s/bin/sh\necho "Hello, world!"\n' "$BUSYBOX" >"$HELLO/bin/hello"
  chmod 555 "$HELLO/bin/hello"
  ROOTENV=$(store_path image-root r)
  mkdir -p "$ROOTENV/bin"
  for applet in sh cat echo ls mkdir chmod test stat readlink env; do ln -s "$BUSYBOX/bin/$applet" "$ROOTENV/bin/$applet"; done
  NGINX=$(store_path nginx n)
  mkdir -p "$NGINX/bin"
  cat >"$WORK/nginx.c" <<'C'
#include <stdio.h>
#include <string.h>
int main(void) {
  FILE *f = fopen("/etc/passwd", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "nginx:", 6) == 0) { puts("Hello from NGINX"); return 0; }
  fputs("nginx: no user nginx in /etc/passwd\n", stderr);
  return 1;
}
C
  gcc -static -O1 -o "$NGINX/bin/nginx" "$WORK/nginx.c" || { echo "FAIL: cannot build the nginx fixture (gcc -static)"; exit 1; }
  chmod -R a+rX,a-w "$STORE"
  chmod u+w "$STORE"
}

dash_root() {
  local dir=$1 lib
  mkdir -p "$dir/bin"
  cp /bin/dash "$dir/bin/sh"
  for lib in $(ldd /bin/dash | grep -o '/[^ ]*'); do
    mkdir -p "$dir$(dirname "$lib")"
    cp -L "$lib" "$dir$lib"
  done
}

layer_of() {
  local archive=$1 index=$2 layer
  layer=$(tar xOf "$archive" manifest.json | jq -r ".[0].Layers[$index]")
  tar xOf "$archive" "$layer" | gzip -dcf | tar tvf - --numeric-owner |
    awk '{ line = $1 " " $2; for (i = 6; i <= NF; i++) line = line " " $i; print line }'
}

run_image() {
  local user=$1 archive=$2
  shift 2
  mkdir -p "$WORK/tmp-$user" "$WORK/run-layers-$user"
  chown "$user:" "$WORK/tmp-$user" "$WORK/run-layers-$user"
  as_user "$user" env TMPDIR="$WORK/tmp-$user" "$SB" run -q --layer-store "$WORK/run-layers-$user" "$archive" -- "$@"
}

says() {
  local want=$1 got
  shift
  got=$("$@") || return 1
  [ "$got" = "$want" ] || { echo "expected '$want', got '$got'" >&2; return 1; }
}
