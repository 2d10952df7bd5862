#!/usr/bin/env bash
# A new layer over a base keeps what copyToRoot, extraCommands and runAsRoot put there
# (issue 10 item 2): dockerTools' buildImage leaves out only store files the base holds.
# As root, strata-sub and strata-nosub:
#  - layersOrder (examples.nix 14): l1 writes tmp/layer1..3, l2 on l1 rewrites tmp/layer2
#    and 3, l3 on l2 (copyToRoot a buildEnv of busybox) rewrites tmp/layer3; as
#    docker-tools.nix asserts, `cat /tmp/layerN` in l3 says layerN for N = 1, 2, 3;
#  - layersUnpackOrder (examples.nix 23): three runAsRoot images on each other, each
#    appending its letter to /layer-order: l3's /layer-order is "abc";
#  - nix/ and nix/store/ only in a layer holding store paths over a base without
#    /nix/store: not in l1 (no store paths), in l3, not in a layer over l3; and the
#    store files l3 already holds are left out of that layer, its own kept.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/root_script.sh"
source "$STRATA_TESTS/e2e/lib/dockertools.sh"
sandbox_need jq tar gcc
sandbox_setup
make_store

names() { layer_of "$1" "$2" | awk '{ print $3 }'; }
prefix=${STORE#/}
# has_store_dir ARCHIVE: the last layer has the store dir and its parent dir. (Names are
# read whole first: grep -q stopping early would fail the pipe.)
has_store_dir() { local n; n=$(names "$1" -1); grep -qx "$prefix/" <<<"$n" && grep -qx "${prefix%/*}/" <<<"$n"; }
lacks_store_dir() { local n; n=$(names "$1" -1); ! grep -qx -e "$prefix/" -e "${prefix%/*}/" <<<"$n"; }
holds() { local n; n=$(names "$1" -1); grep -qx "$2" <<<"$n"; }
holds_none_under() { local n; n=$(names "$1" -1); ! grep -q "^$2" <<<"$n"; }
l2_rewrote() { [ "$(names "$1" -1 | grep '^tmp/layer')" = "$(printf 'tmp/layer2\ntmp/layer3')" ]; }

for user in $(sandbox_users); do
  d=$WORK/$user
  mkdir -p "$d/tmp"
  chown "$user:" "$d" "$d/tmp"
  build() { as_user "$user" env TMPDIR="$d/tmp" "$SB" build "$@" -q --layer-store "$d/layers"; }

  # layersOrder
  jq -n --arg store "$STORE" '{name: "l1", tag: "latest", storeDir: $store, extraCommands: "mkdir -p tmp\necho layer1 > tmp/layer1\necho layer1 > tmp/layer2\necho layer1 > tmp/layer3"}' >"$d/l1.json"
  jq -n --arg base "$d/l1.tar" --arg store "$STORE" '{name: "l2", tag: "latest", storeDir: $store, fromImage: $base, extraCommands: "mkdir -p tmp\necho layer2 > tmp/layer2\necho layer2 > tmp/layer3"}' >"$d/l2.json"
  jq -n --arg base "$d/l2.tar" --arg env "$ROOTENV" --arg store "$STORE" '{name: "l3", tag: "latest", fromImage: $base,
    copyToRoot: $env, storeDir: $store, extraCommands: "mkdir -p tmp\necho layer3 > tmp/layer3"}' >"$d/l3.json"
  for i in 1 2 3; do
    check "$user: layersOrder: l$i builds" build "$d/l$i.json" -o "$d/l$i.tar"
  done
  # (read from the exported rootfs: `strata run` has a tmpfs on /tmp, as root scripts do)
  as_user "$user" "$SB" export "$d/l3.tar" -o "$d/l3-root.tar" -q
  mkdir -p "$d/l3-root" && tar xf "$d/l3-root.tar" -C "$d/l3-root"
  for i in 1 2 3; do
    check "$user: layersOrder: /tmp/layer$i of l3 says layer$i" says "layer$i" cat "$d/l3-root/tmp/layer$i"
  done
  check "$user: ... and l3's tools run" says "hi" run_image "$user" "$d/l3.tar" echo hi
  check "$user: l2's layer holds the files its extraCommands rewrote" l2_rewrote "$d/l2.tar"
  check "$user: l1's layer (no store paths) has no store dir" lacks_store_dir "$d/l1.tar"
  check "$user: l3's layer has the store dir and its parents" has_store_dir "$d/l3.tar"
  check "$user: ... and the closure of its copyToRoot" holds "$d/l3.tar" "${BUSYBOX#/}/bin/busybox"

  # A layer over l3: hello's closure is hello and busybox; l3 holds busybox already.
  jq -n --arg base "$d/l3.tar" --arg hello "$HELLO" --arg store "$STORE" '{name: "l4", tag: "latest", fromImage: $base,
    copyToRoot: [$hello], storeDir: $store}' >"$d/l4.json"
  check "$user: a layer over l3 builds" build "$d/l4.json" -o "$d/l4.tar"
  check "$user: ... without the store dir (the base has it)" lacks_store_dir "$d/l4.tar"
  check "$user: ... without the base's busybox files" holds_none_under "$d/l4.tar" "${BUSYBOX#/}"
  check "$user: ... with hello's" holds "$d/l4.tar" "${HELLO#/}/bin/hello"
  check "$user: ... and hello runs" says "Hello, world!" run_image "$user" "$d/l4.tar" "$HELLO/bin/hello"

  # layersUnpackOrder
  parent=""
  for letter in a b c; do
    jq -n --arg base "$parent" --arg env "$ROOTENV" --arg store "$STORE" --arg l "$letter" '{name: "layers-unpack-order-\($l)",
      tag: "latest", copyToRoot: $env, storeDir: $store,
      runAsRoot: "#!/bin/sh\necho -n \"\($l)\" >> /layer-order"} + (if $base == "" then {} else {fromImage: $base} end)' >"$d/u$letter.json"
    check "$user: layersUnpackOrder: the runAsRoot image $letter builds" build "$d/u$letter.json" -o "$d/u$letter.tar"
    parent=$d/u$letter.tar
  done
  check "$user: layersUnpackOrder: /layer-order says abc" says abc run_image "$user" "$d/uc.tar" cat /layer-order
  check "$user: nothing left in TMPDIR" [ -z "$(leftovers "$d/tmp")" ]
done
finish
