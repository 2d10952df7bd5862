#!/usr/bin/env bash
# The image's closure includes what the customisation refers to (issue 10 item 3): in
# dockerTools the customisation layer is a store path, so Nix finds the store paths its
# files name once extraCommands, fakeRootCommands and runAsRoot ran. strata scans the new
# layer after the scripts (contents, symlink targets) and adds those paths with their
# closure. As root, strata-sub and strata-nosub:
#  - layeredImageWithFakeRootCommands (examples.nix): contents busybox, fakeRootCommands
#    `mkdir -p ./home/alice; chown 1000 ./home/alice; ln -s <hello> ./hello`; as
#    docker-tools.nix asserts, `stat -c %u /home/alice` says 1000 (the layer's owner
#    for strata-nosub, whose `strata run` shows every file as 0) and
#    /hello/bin/layeredImageWithFakeRootCommands-hello runs;
#  - etc (examples.nix): streamLayeredImage, enableFakechroot, fakeRootCommands making
#    /etc/static -> <etc tree> and /etc/some-config-file -> /etc/static/some-config-file
#    (as NixOS' etcActivationCommands do), Cmd a script cat-ing it: its output names
#    localhost; the same inputs give the same bytes;
#  - imageViaFakeChroot (examples.nix): `mkdir /bin; ln -s <hello>/bin/hello /bin/hello`
#    under enableFakechroot: /bin/hello runs (hello's closure, busybox, came along);
#  - buildImage with extraCommands `ln -s <hello> hello`, with runAsRoot `ln -s <hello>
#    /hello` over a buildEnv, and buildLayeredImage with extraCommands: /hello/bin/hello
#    runs; a store path nothing names stays out.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/root_script.sh"
source "$STRATA_TESTS/e2e/lib/dockertools.sh"
sandbox_need jq tar gcc cmp
sandbox_setup
make_store

# Store paths only the scripts name.
chmod u+w "$STORE"
FRHELLO=$(store_path fakeroot-hello f)
mkdir -p "$FRHELLO/bin"
printf '#!%s/bin/sh\necho "Hello from layeredImageWithFakeRootCommands"\n' "$BUSYBOX" \
  >"$FRHELLO/bin/layeredImageWithFakeRootCommands-hello"
chmod 555 "$FRHELLO/bin/layeredImageWithFakeRootCommands-hello"
ETC=$(store_path etc q)
mkdir -p "$ETC"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$ETC/some-config-file"
ETCCMD=$(store_path etc-cmd c) # a store path that is a file, as writeScript makes it
printf '#!%s/bin/sh\n%s/bin/cat /etc/some-config-file\n' "$BUSYBOX" "$BUSYBOX" >"$ETCCMD"
chmod 555 "$ETCCMD"
UNNAMED=$(store_path unnamed z)
mkdir -p "$UNNAMED" && echo nobody names me >"$UNNAMED/file"
chmod -R a+rX,a-w "$STORE"
chmod u+w "$STORE"

# image_holds ARCHIVE PATH: some layer of the image holds PATH (a store path, absolute).
image_holds() {
  local archive=$1 path=${2#/} layer
  for layer in $(tar xOf "$archive" manifest.json | jq -r '.[0].Layers[]'); do
    tar xOf "$archive" "$layer" | gzip -dcf | tar tf - | grep -x -e "$path" -e "$path/" >/dev/null && return 0
  done
  return 1
}
image_lacks() { ! image_holds "$@"; }
output_names() { local want=$1 out; shift; out=$(run_image "$@") || { echo "run failed: $out" >&2; return 1; }; grep -q "$want" <<<"$out" || { echo "output: $out" >&2; return 1; }; }

for user in $(sandbox_users); do
  d=$WORK/$user
  mkdir -p "$d/tmp"
  chown "$user:" "$d" "$d/tmp"
  build() { as_user "$user" env TMPDIR="$d/tmp" "$SB" "$@" -q --layer-store "$d/layers"; }

  # layeredImageWithFakeRootCommands
  jq -n --arg bb "$BUSYBOX" --arg hello "$FRHELLO" --arg store "$STORE" '{name: "layered-image-with-fake-root-commands",
    tag: "latest", storeDir: $store, copyToRoot: [$bb],
    fakeRootCommands: "mkdir -p ./home/alice\nchown 1000 ./home/alice\nln -s \($hello) ./hello"}' >"$d/frc.json"
  check "$user: layeredImageWithFakeRootCommands builds" build layered "$d/frc.json" -o "$d/frc.tar" --no-cache
  check "$user: ... its layer has home/alice owned by 1000" grep -qE '^d[rwx-]+ 1000/0 home/alice/$' <(layer_of "$d/frc.tar" -1)
  # (strata run as a user without subordinate ids maps only that user: every file shows as 0)
  if [ "$user" != strata-nosub ]; then
    check "$user: ... stat -c %u /home/alice says 1000" says 1000 run_image "$user" "$d/frc.tar" sh -c 'stat -c %u /home/alice'
  fi
  check "$user: ... the store path the link names is in the image" image_holds "$d/frc.tar" "$FRHELLO"
  check "$user: ... and /hello/bin/layeredImageWithFakeRootCommands-hello runs" \
    says "Hello from layeredImageWithFakeRootCommands" run_image "$user" "$d/frc.tar" /hello/bin/layeredImageWithFakeRootCommands-hello

  # etc
  jq -n --arg etc "$ETC" --arg cmd "$ETCCMD" --arg store "$STORE" '{name: "etc", tag: "latest", storeDir: $store,
    enableFakechroot: true, config: {Cmd: [$cmd]},
    fakeRootCommands: "mkdir -p /etc\nln -s \($etc) /etc/static\nln -s /etc/static/some-config-file /etc/some-config-file"}' \
    >"$d/etc.json"
  check "$user: etc builds" build layered "$d/etc.json" -o "$d/etc.tar" --no-cache
  check "$user: ... the etc tree /etc/static names is in the image" image_holds "$d/etc.tar" "$ETC/some-config-file"
  check "$user: ... its Cmd's output names localhost" \
    output_names localhost "$user" "$d/etc.tar" "$ETCCMD"
  check "$user: ... the same inputs give the same bytes" build layered "$d/etc.json" -o "$d/etc2.tar" --no-cache
  check "$user: ... (byte for byte)" cmp -s "$d/etc.tar" "$d/etc2.tar"
  check "$user: ... a store path nothing names is not in it" image_lacks "$d/etc.tar" "$UNNAMED"

  # imageViaFakeChroot
  jq -n --arg hello "$HELLO" --arg store "$STORE" '{name: "image-via-fake-chroot", tag: "latest", storeDir: $store,
    enableFakechroot: true, config: {Cmd: ["hello"]},
    fakeRootCommands: "mkdir /bin\nln -s \($hello)/bin/hello /bin/hello"}' >"$d/fakechroot.json"
  check "$user: imageViaFakeChroot builds" build layered "$d/fakechroot.json" -o "$d/fakechroot.tar" --no-cache
  check "$user: ... /bin/hello runs (hello and busybox came along)" says "Hello, world!" run_image "$user" "$d/fakechroot.tar" /bin/hello

  # buildImage: extraCommands, runAsRoot; buildLayeredImage: extraCommands.
  jq -n --arg hello "$HELLO" --arg store "$STORE" '{name: "extra-link", tag: "latest", storeDir: $store,
    extraCommands: "ln -s \($hello) hello"}' >"$d/extra.json"
  jq -n --arg hello "$HELLO" --arg env "$ROOTENV" --arg store "$STORE" '{name: "root-link", tag: "latest",
    storeDir: $store, copyToRoot: $env, runAsRoot: "ln -s \($hello) /hello"}' >"$d/root.json"
  check "$user: buildImage with extraCommands linking hello builds" build build "$d/extra.json" -o "$d/extra.tar"
  check "$user: buildImage with runAsRoot linking hello builds" build build "$d/root.json" -o "$d/root.tar"
  check "$user: buildLayeredImage with extraCommands linking hello builds" \
    build layered "$d/extra.json" -o "$d/extra-layered.tar" --no-cache
  for image in extra root extra-layered; do
    check "$user: $image: /hello/bin/hello runs" says "Hello, world!" run_image "$user" "$d/$image.tar" /hello/bin/hello
    check "$user: $image: a store path nothing names is not in it" image_lacks "$d/$image.tar" "$UNNAMED"
  done
  check "$user: nothing left in TMPDIR" [ -z "$(leftovers "$d/tmp")" ]
done
finish
