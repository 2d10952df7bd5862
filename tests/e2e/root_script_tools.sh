#!/usr/bin/env bash
# Root scripts get a shell and tools whatever the image holds (issue 10 item 1), as
# dockerTools gives runAsRoot the build's shell and coreutils and fakeRootCommands the
# build's tools. As root, strata-sub and strata-nosub:
#  - the nginx example (old examples.nix: buildImage, contents = nginx, runAsRoot adding
#    the nginx user): an image with no shell; the script runs (toolbox busybox), its
#    user and dirs are in the image, and the image's nginx then says hello;
#  - an image whose /bin/sh is dash and has no coreutils: the image's own shell runs the
#    script, mkdir comes from the toolbox; without the toolbox mkdir is not found;
#  - no shell in the image, no toolbox: the caller's PATH entries in the store give one;
#  - no shell anywhere: exit 127 and a message saying what was tried;
#  - imageViaFakeChroot (streamLayeredImage, enableFakechroot, `mkdir /bin` and a link to
#    hello): nothing of the host is at its own path, so mkdir /bin works; fakeRootCommands
#    run with the customisation layer as / and cwd; the toolbox never reaches a layer.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/root_script.sh"
source "$STRATA_TESTS/e2e/lib/dockertools.sh"
sandbox_need jq tar gcc ldd
sandbox_setup
make_store
dash_root "$WORK/dash-root"
chmod -R a+rX "$WORK/dash-root"

for user in $(sandbox_users); do
  d=$WORK/$user
  mkdir -p "$d/tmp" "$WORK/tmp-$user"
  chown "$user:" "$d" "$d/tmp" "$WORK/tmp-$user"
  in_dir() { as_user "$user" env TMPDIR="$d/tmp" "$@"; }
  build() { in_dir "$SB" "$@" --layer-store "$d/layers"; }

  # nginx: runAsRoot over an image that holds nginx and nothing else.
  jq -n --arg nginx "$NGINX" --arg store "$STORE" '{name: "nginx-container", tag: "latest", copyToRoot: [$nginx],
    storeDir: $store, config: {Cmd: ["/bin/nginx"]},
    runAsRoot: "mkdir -p /etc /var/log/nginx /var/cache/nginx\necho nginx:x:999:999::/var/empty:/noshell >>/etc/passwd\necho nginx:x:999: >>/etc/group\nchown 999:999 /var/cache/nginx"}' >"$d/nginx.json"
  check "$user: runAsRoot runs on an image without a shell" build build "$d/nginx.json" -o "$d/nginx.tar" -q
  layer_of "$d/nginx.tar" -1 >"$d/nginx.list"
  check "$user: ... its user and dirs are in the layer (var/cache/nginx 999/999)" \
    grep -qx 'drwxr-xr-x 999/999 var/cache/nginx/' "$d/nginx.list"
  check "$user: ... and nothing of the sandbox (no dev/, proc/, toolbox)" \
    bash -c '! grep -E " (dev|proc|sys)/$|strata-toolbox" "$1"' _ "$d/nginx.list"
  check "$user: ... and the image's nginx finds its user" says "Hello from NGINX" run_image "$user" "$d/nginx.tar" /bin/nginx

  # The image's own shell first; tools it lacks from the toolbox.
  jq -n --arg root "$WORK/dash-root" '{name: "dash", tag: "1", copyToRoot: [$root],
    runAsRoot: "echo \"$0\" >/shell-used\nmkdir -p /data/made"}' >"$d/dash.json"
  check "$user: over a tree with dash and no coreutils" build build "$d/dash.json" -o "$d/dash.tar" -q
  layer_of "$d/dash.tar" -1 >"$d/dash.list"
  check "$user: ... mkdir (from the toolbox) made its dir" grep -qx 'drwxr-xr-x 0/0 data/made/' "$d/dash.list"
  tar xOf "$d/dash.tar" "$(tar xOf "$d/dash.tar" manifest.json | jq -r '.[0].Layers[-1]')" | tar xzOf - shell-used >"$d/shell-used"
  check "$user: ... and the image's own /bin/sh ran the script" [ "$(cat "$d/shell-used")" = /bin/sh ]
  set +e
  build build "$d/dash.json" -o "$d/dash-none.tar" --toolbox none >"$d/none.out" 2>&1
  rc=$?
  set -e
  check "$user: without the toolbox, mkdir is not found (exit 127)" [ "$rc" = 127 ]
  check "$user: ... and nothing is written" [ ! -e "$d/dash-none.tar" ]

  # No shell in the image, no toolbox: a shell from the caller's PATH entries in the store.
  jq -n --arg nginx "$NGINX" --arg store "$STORE" '{name: "path", tag: "1", copyToRoot: [$nginx], storeDir: $store,
    runAsRoot: "echo \"$0\" >/shell-used\nmkdir /from-path"}' >"$d/path.json"
  check "$user: no shell in the image or a toolbox: PATH's store entries give one" \
    in_dir env PATH="/usr/bin:/bin:$BUSYBOX/bin" "$SB" build "$d/path.json" -o "$d/path.tar" -q --toolbox none \
      --layer-store "$d/layers"
  tar xOf "$d/path.tar" "$(tar xOf "$d/path.tar" manifest.json | jq -r '.[0].Layers[-1]')" | tar xzOf - shell-used >"$d/shell-used"
  check "$user: ... the store's sh ran it" [ "$(cat "$d/shell-used")" = "$BUSYBOX/bin/sh" ]

  # No shell anywhere.
  set +e
  in_dir env PATH=/usr/bin:/bin "$SB" build "$d/path.json" -o "$d/noshell.tar" --toolbox none \
    --layer-store "$d/layers" >"$d/noshell.out" 2>&1
  rc=$?
  set -e
  check "$user: no shell anywhere: exit 127" [ "$rc" = 127 ]
  check "$user: ... a message naming what was tried" grep -q "shells tried in order: /bin/sh" "$d/noshell.out"
  check "$user: ... and no output" [ ! -e "$d/noshell.tar" ]

  # imageViaFakeChroot: mkdir /bin in an empty customisation layer, a link to hello.
  jq -n --arg hello "$HELLO" --arg store "$STORE" '{name: "image-via-fake-chroot", tag: "latest", storeDir: $store,
    enableFakechroot: true, config: {Cmd: ["hello"]},
    fakeRootCommands: "mkdir /bin\nln -s \($hello)/bin/hello /bin/hello\npwd >/cwd\n! test -e /usr && ! test -e /lib"}' \
    >"$d/fakechroot.json"
  check "$user: fakeRootCommands: mkdir /bin works (nothing of the host at /bin)" \
    build layered "$d/fakechroot.json" -o "$d/fakechroot.tar" --no-cache -q
  layer_of "$d/fakechroot.tar" -1 >"$d/fakechroot.list"
  check "$user: ... the link is in the customisation layer" \
    grep -qxF "lrwxrwxrwx 0/0 bin/hello -> $HELLO/bin/hello" "$d/fakechroot.list"
  check "$user: ... cwd was the layer root" grep -qx -- '-rw-r--r-- 0/0 cwd' "$d/fakechroot.list"
  check "$user: ... and nothing of the sandbox reached the layer" \
    bash -c '! grep -E " (dev|proc|sys)/$|strata-toolbox" "$1"' _ "$d/fakechroot.list"
  check "$user: nothing left in TMPDIR" [ -z "$(leftovers "$d/tmp")" ]
done
finish
