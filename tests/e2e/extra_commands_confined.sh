#!/usr/bin/env bash
# extraCommands is confined (issue 13 item 5): it runs in the sandbox as the calling user,
# with the layer dir (its cwd) the only writable path, the store read-only, and nothing
# of the host: so `cd ..` and a copyToRoot symlink to a host dir reach nothing outside,
# and killing strata kills the script. As root, strata-sub and strata-nosub, for
# buildImage (build), buildLayeredImage (layered) and mkPureLayer (layer):
#  - `cd ..`, `cd /` and writes there fail; nothing is written beside the layer dir;
#  - copyToRoot's `etc -> <host dir>` then `echo > etc/passwd`: the host dir stays empty;
#  - the store is read-only; the script runs as the caller's uid, and chown to another
#    id fails for a user that is not root, as in a Nix build;
#  - what the script makes in the layer is there, `mkdir -p dev proc sys tmp` included
#    (the sandbox's own mounts are elsewhere), and written with the spec's owner;
#  - kill -9 of strata while the script sleeps: the script dies too.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/root_script.sh"
source "$STRATA_TESTS/e2e/lib/dockertools.sh"
sandbox_need jq tar gcc pgrep
sandbox_setup
make_store

ESCAPE=strata-e2e-escaped-$$ # a name no one else uses, at the host's / if the script could reach it
SCRIPT='! (cd .. && touch escaped-parent) 2>/dev/null
! (cd / && touch "/$ESCAPE") 2>/dev/null
! echo pwned >etc/passwd 2>/dev/null
! touch "$STORE_PATH/written" 2>/dev/null
id -u >uid
if [ "$(id -u)" != 0 ]; then ! chown 0:0 uid 2>/dev/null; fi
mkdir -p dev proc sys tmp var/log
echo made >var/log/made'

for user in $(sandbox_users); do
  d=$WORK/$user
  mkdir -p "$d/tmp" "$d/hostdir" "$d/tree"
  ln -s "$d/hostdir" "$d/tree/etc"
  jq -n --arg tree "$d/tree" --arg store "$STORE" --arg script "$SCRIPT" --arg sp "$BUSYBOX" --arg escape "$ESCAPE" '{name: "confined", tag: "1",
    copyToRoot: [$tree], storeDir: $store, uid: 7, gid: 8,
    extraCommands: ("STORE_PATH=\($sp)\nESCAPE=\($escape)\n" + $script)}' >"$d/spec.json"
  chown -R "$user:" "$d"
  in_dir() { as_user "$user" env TMPDIR="$d/tmp" "$@"; }
  uid=$(id -u "$user")

  for cmd in build layered layer; do
    out=$d/$cmd.out
    rc=0
    case $cmd in
      layer) in_dir "$SB" layer "$d/spec.json" -o "$out" -q 2>"$d/$cmd.err" || rc=$? ;;
      layered) in_dir "$SB" layered "$d/spec.json" -o "$out" -q --no-cache 2>"$d/$cmd.err" || rc=$? ;;
      *) in_dir "$SB" build "$d/spec.json" -o "$out" -q 2>"$d/$cmd.err" || rc=$? ;;
    esac
    [ "$rc" = 0 ] || cat "$d/$cmd.err"
    check "$user: $cmd: extraCommands ran to the end (every escape failed inside it)" [ "$rc" = 0 ]
    if [ "$cmd" = layer ]; then
      tar tvf "$out/layer.tar" --numeric-owner | awk '{ print $1, $2, $6 }' >"$d/$cmd.list"
      tar xOf "$out/layer.tar" uid >"$d/$cmd.uid" 2>/dev/null || tar xOf "$out/layer.tar" ./uid >"$d/$cmd.uid" || true
    else
      layer_of "$out" -1 | awk '{ print $1, $2, $3 }' >"$d/$cmd.list"
      layer=$(tar xOf "$out" manifest.json | jq -r '.[0].Layers[-1]')
      tar xOf "$out" "$layer" | tar xzOf - uid >"$d/$cmd.uid" || true
    fi
    check "$user: $cmd: nothing written beside the layer dir or at the host's root" \
      [ -z "$(find "$d" "$WORK" -maxdepth 3 -name 'escaped-*' 2>/dev/null)" -a ! -e "/$ESCAPE" ]
    rm -f "/$ESCAPE"
    check "$user: $cmd: the host dir behind etc -> $d/hostdir is untouched" [ -z "$(ls -A "$d/hostdir")" ]
    check "$user: $cmd: the store is untouched" [ ! -e "$BUSYBOX/written" ]
    check "$user: $cmd: the script ran as the calling user ($uid)" [ "$(cat "$d/$cmd.uid")" = "$uid" ]
    for dir in dev proc sys tmp var/log; do
      check "$user: $cmd: its $dir/ is in the layer, with the spec's owner" grep -qE "^d[rwx-]+ 7/8 \.?/?$dir/\$" "$d/$cmd.list"
    done
    check "$user: $cmd: nothing left in TMPDIR" [ -z "$(leftovers "$d/tmp")" ]
  done

  # kill -9 of strata while extraCommands sleeps.
  nap=$((600 + RANDOM % 1000))
  jq -n --arg nap "$nap" '{name: "sleepy", extraCommands: "touch started; sleep \($nap)"}' >"$d/sleep.json"
  chown "$user:" "$d/sleep.json"
  in_dir "$SB" build "$d/sleep.json" -o "$d/sleep.tar" 2>/dev/null &
  check "$user: the sleeping extraCommands started" wait_for 30 bash -c 'pgrep -f "^sleep $1\$" >/dev/null' _ "$nap"
  strata_pid=$(pgrep -u "$user" -o -f "^$SB build $d/sleep.json" || true)
  check "$user: found strata's pid" [ -n "$strata_pid" ]
  kill -9 "$strata_pid"
  wait || true
  check "$user: the script died with strata" wait_for 10 bash -c '! pgrep -f "^sleep $1\$" >/dev/null' _ "$nap"
  check "$user: ... and wrote no output" [ ! -e "$d/sleep.tar" ]
done
finish
