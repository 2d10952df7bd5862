#!/usr/bin/env bash
# includeNixDB at the image level (issue 5): `strata build` and `strata layered` images
# built from a real Nix store, unpacked by skopeo + umoci, hold a Nix DB that Debian's
# nix-bin verifies (--verify --check-contents) and that answers --references and
# --requisites with exactly the graph the image was built from; two builds are
# byte-identical, the DB included, with SOURCE_DATE_EPOCH and without; bad input exits 2
# and writes nothing.
set -euo pipefail
: "${STRATA:?path of the strata binary}" "${STRATA_TESTS:?tests dir}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-e2e-nix-image.XXXXXX")
chmod 755 "$tmp"
source "$STRATA_TESTS/e2e/lib/nix-env.sh"
trap "${KEEP_TMP:+: }nix_env_cleanup" EXIT # KEEP_TMP=1 keeps $tmp to debug a failure

# The store. A spec's storeDir is both where strata reads store paths on this machine
# and the dir the image's paths and DB name, so the test needs a real store whose paths
# live where they are named. A store made with `--store local?root=R` names /nix/store but
# lives in R/nix/store (giving strata storeDir R/nix/store would record wrong paths), and
# the real /nix/store would touch the host. nix-bin 2.8 takes the logical store dir from
# NIX_STORE_DIR for every command (--add, builds, --load-db, --dump-db): the paths below
# are made by Nix for the store dir $tmp/store (their hashes depend on it), and the
# unpacked image is checked with `local?root=<rootfs>&real=<rootfs>$tmp/store` (see
# image_store in lib/nix-image.sh), which reads the paths from <rootfs>$tmp/store and the
# DB from <rootfs>/nix/var/nix/db, for that same logical dir.
export NIX_STORE_DIR=$tmp/store
store=$NIX_STORE_DIR
source "$STRATA_TESTS/e2e/lib/nix-image.sh"
mkdir -p "$store"
# Builds without a daemon, build users, sandbox or substituters.
printf 'build-users-group =\nsandbox = false\nsubstituters =\n' > "$NIX_CONF_DIR/nix.conf"

# Store paths with references, built by Nix itself (so it records references and
# derivers): a and b are text files (b names a), tool is a tree with an executable,
# a symlink into a, a self-reference, a name with spaces, an empty dir and a large file
# (no non-ASCII names: strata's tar writer cannot write them yet, see nix_db.sh for NARs); app links to tool and names a. c is named only by a file of a
# non-store copyToRoot dir; unrelated is in the closureInfo but in no closure.
cat > "$tmp/paths.nix" <<'EOF'
let
  a = builtins.toFile "a-leaf" "leaf data\n";
  b = builtins.toFile "b-uses-a" "uses ${a}\n";
  sh = script: [ "-c" ("set -e\n" + script) ];
  tool = derivation {
    name = "tool-1.0"; system = builtins.currentSystem; builder = "/bin/sh";
    args = sh ''
      /bin/mkdir -p $out/bin $out/lib $out/empty "$out/share/doc with space"
      /bin/printf '#!/bin/sh\nexec /bin/cat %s\n' ${b} > $out/bin/tool
      /bin/chmod 755 $out/bin/tool
      /bin/ln -s ${a} $out/lib/leaf
      /bin/ln -s ../bin/tool $out/share/tool-link
      /bin/printf 'self: %s\n' $out > "$out/share/doc with space/README"
      /usr/bin/head -c 3000001 /dev/urandom > $out/share/blob
    '';
  };
  app = derivation {
    name = "app-2.0"; system = builtins.currentSystem; builder = "/bin/sh";
    args = sh ''
      /bin/mkdir -p $out/bin $out/etc
      /bin/ln -s ${tool}/bin/tool $out/bin/app
      /bin/printf 'leaf=%s\n' ${a} > $out/etc/app.conf
    '';
  };
  c = builtins.toFile "c-motd" "welcome\n";
in { inherit a b tool app c; }
EOF
nix-build --no-out-link "$tmp/paths.nix" >/dev/null 2>"$tmp/nix-build.log" || fail "nix-build failed: $(cat "$tmp/nix-build.log")"
attr() { nix-instantiate --eval --read-write-mode "$tmp/paths.nix" -A "$1" 2>/dev/null | tr -d '"'; }
a=$(attr a) b=$(attr b) c=$(attr c)
tool=$(nix-build --no-out-link "$tmp/paths.nix" -A tool 2>/dev/null)
app=$(nix-build --no-out-link "$tmp/paths.nix" -A app 2>/dev/null)
unrelated=$(host_store --add "$(printf 'not in any closure\n' > "$tmp/z-unrelated"; echo "$tmp/z-unrelated")")
for p in "$a" "$b" "$c" "$tool" "$app" "$unrelated"; do
  case $p in "$store"/*) [ -e "$p" ] || fail "$p is not on disk" ;; *) fail "'$p' is not a path in $store" ;; esac
done
host_store --verify --check-contents >/dev/null 2>&1 || fail "the host store itself does not verify"
app_closure=$(host_store -q --requisites "$app" | sort)
[ "$app_closure" = "$(printf '%s\n' "$a" "$b" "$tool" "$app" | sort)" ] || fail "app's closure is not a, b, tool, app: $app_closure"
[ "$(host_store -q --references "$tool" | sort)" = "$(printf '%s\n' "$a" "$b" "$tool" | sort)" ] || fail "tool does not reference a, b and itself"
[ "$(host_store -q --deriver "$app")" != unknown-deriver ] || fail "Nix recorded no deriver for $app"
pass "a real store at $store made by nix-bin: app -> tool -> {b -> a, a, tool}, app -> a; derivers recorded"

# The closureInfo nixpkgs would pass: registration (as --dump-db writes it, with derivers)
# and store-paths, holding an extra path outside app's closure.
mkdir "$tmp/closure-info"
host_store --dump-db $app_closure "$unrelated" > "$tmp/closure-info/registration"
printf '%s\n' $app_closure "$unrelated" | sort > "$tmp/closure-info/store-paths"

# A non-store copyToRoot dir whose file names c (found by the scan in layered images).
mkdir -p "$tmp/extra-root/etc"
printf 'motd at %s\n' "$c" > "$tmp/extra-root/etc/motd"

cd "$tmp"
build_spec() { # build_spec FILE [EXTRA-JSON-MEMBERS]
  printf '{"name": "nixdb/build", "tag": "1", "copyToRoot": ["%s"], "storeDir": "%s",
    "closureGraph": "%s", "includeNixDB": true%s}\n' "$app" "$store" "$tmp/closure-info" "${2:+, $2}" > "$1"
}
layered_spec() { # layered_spec FILE [EXTRA-JSON-MEMBERS [COPY-TO-ROOT-JSON]]; without closureGraph the closure is scanned
  printf '{"name": "nixdb/layered", "tag": "1", "copyToRoot": %s, "storeDir": "%s",
    "config": {"Cmd": ["%s/bin/tool"]}, "maxLayers": 3, "includeNixDB": true%s}\n' \
    "${3:-[\"$app\", \"$tmp/extra-root\"]}" "$store" "$tool" "${2:+, $2}" > "$1"
}

# --- strata build -------------------------------------------------------------------
build_spec build.json
SOURCE_DATE_EPOCH=1700000000 "$STRATA" build -q build.json -o build-sde-1.tar
unpack_image build-sde-1.tar build-sde-1
rootfs=$tmp/build-sde-1/rootfs
check_image_store "$rootfs" "build" $app_closure
[ "$(graph_of_db "$rootfs/nix/var/nix/db/db.sqlite")" = "$("$STRATA" closure --json --store-dir "$store" --graph "$tmp/closure-info" "$app" | graph_of_json)" ] ||
  fail "build: the DB's Refs are not the closureGraph's edges"
pass "build: the DB's Refs are exactly the closureGraph's edges within app's closure"
for p in $app_closure; do
  [ "$(image_store "$rootfs" -q --deriver "$p")" = "$(host_store -q --deriver "$p")" ] || fail "build: deriver of $p differs from the closureInfo's"
done
pass "build: derivers from the closureInfo registration are recorded ($(image_store "$rootfs" -q --deriver "$app"))"
[ "$(sqlite3 "$rootfs/nix/var/nix/db/db.sqlite" 'select distinct registrationTime from ValidPaths')" = 1700000000 ] ||
  fail "build: registrationTime is not SOURCE_DATE_EPOCH"
[ "$(readlink "$rootfs/nix/var/nix/gcroots/docker/$(basename "$app")")" = "$app" ] || fail "build: no gcroots/docker link for $app"
[ "$(ls "$rootfs/nix/var/nix/gcroots/docker")" = "$(basename "$app")" ] || fail "build: gcroots/docker holds more than app: $(ls "$rootfs/nix/var/nix/gcroots/docker")"
dead=$(image_store "$rootfs" --gc --print-dead 2>/dev/null) || fail "build: nix-store --gc --print-dead failed in the image"
[ -z "$dead" ] || fail "build: Nix sees dead paths despite the gcroots: $dead"
# control: without the link, Nix would collect the whole closure
cp -a "$rootfs" "$tmp/no-roots"
rm "$tmp/no-roots/nix/var/nix/gcroots/docker/$(basename "$app")"
[ "$(image_store "$tmp/no-roots" --gc --print-dead 2>/dev/null | sort)" = "$app_closure" ] || fail "control: without gcroots, --print-dead is not the closure"
pass "build: registrationTime = SOURCE_DATE_EPOCH, gcroots/docker/<app> keeps the whole closure alive for nix-store --gc"
[ "$(readlink "$rootfs/bin/app")" = "$tool/bin/tool" ] || fail "build: copyToRoot's bin/app is not in the image root"

# The checks can fail: a modified file in the image is caught by --verify --check-contents.
cp -a "$rootfs" "$tmp/tampered"
chmod u+w "$tmp/tampered$b"; printf 'tampered\n' >> "$tmp/tampered$b"
out=$(image_store "$tmp/tampered" --verify --check-contents 2>&1) && fail "control: --verify --check-contents exits 0 with a modified $b: $out"
grep -q "'$b' was modified" <<<"$out" || fail "control: --verify --check-contents did not name the modified $b: $out"
pass "control: --verify --check-contents notices a modified store path in an unpacked image"

# Byte-identical builds: with SOURCE_DATE_EPOCH, and without (registrationTime from
# `created`), whatever the umask and temp dir.
mkdir "$tmp/other-tmp"
(umask 077; SOURCE_DATE_EPOCH=1700000000 TMPDIR=$tmp/other-tmp "$STRATA" build -q build.json -o build-sde-2.tar)
cmp build-sde-1.tar build-sde-2.tar || fail "two builds with SOURCE_DATE_EPOCH differ"
pass "build: two builds with SOURCE_DATE_EPOCH are byte-identical, DB included (umask 077 and another TMPDIR for the second)"
build_spec build-created.json '"created": "2021-02-03T04:05:06Z"'
"$STRATA" build -q build-created.json -o build-created-1.tar
(umask 002; TMPDIR=$tmp/other-tmp "$STRATA" build -q build-created.json -o build-created-2.tar)
cmp build-created-1.tar build-created-2.tar || fail "two builds without SOURCE_DATE_EPOCH differ"
unpack_image build-created-1.tar build-created
[ "$(sqlite3 "$tmp/build-created/rootfs/nix/var/nix/db/db.sqlite" 'select distinct registrationTime from ValidPaths')" = 1612325106 ] ||
  fail "build without SOURCE_DATE_EPOCH: registrationTime is not 'created' (2021-02-03T04:05:06Z)"
pass "build: two builds without SOURCE_DATE_EPOCH are byte-identical; registrationTime = created"
cmp -s "$rootfs/nix/var/nix/db/db.sqlite" "$tmp/build-created/rootfs/nix/var/nix/db/db.sqlite" &&
  fail "the DB does not depend on the registration time"
# created "now" changes the config only, never a layer (DESIGN: layers never depend on the clock).
build_spec build-now.json '"created": "now"'
"$STRATA" build -q build-now.json -o build-now-1.tar
sleep 1.1
"$STRATA" build -q build-now.json -o build-now-2.tar
[ "$(skopeo inspect --config docker-archive:build-now-1.tar | jq -c .rootfs.diff_ids)" = \
  "$(skopeo inspect --config docker-archive:build-now-2.tar | jq -c .rootfs.diff_ids)" ] ||
  fail "build with created \"now\": the layer (with the DB) depends on the clock"
pass "build with created \"now\": the layer, DB included, does not change from one second to the next"
[ ! -e "$tmp/other-tmp" ] || [ -z "$(ls -A "$tmp/other-tmp")" ] || fail "builds left temp files: $(ls -A "$tmp/other-tmp")"

# --- strata layered -----------------------------------------------------------------
layered_spec layered.json
layered_closure=$(host_store -q --requisites "$app" "$c" "$tool" | sort -u)
SOURCE_DATE_EPOCH=1700000000 "$STRATA" layered -q --no-cache layered.json -o layered-sde-1.tar
unpack_image layered-sde-1.tar layered-sde-1
rootfs=$tmp/layered-sde-1/rootfs
check_image_store "$rootfs" "layered" $layered_closure
[ "$(graph_of_db "$rootfs/nix/var/nix/db/db.sqlite")" = "$("$STRATA" closure --json --store-dir "$store" "$app" "$c" "$tool" | graph_of_json)" ] ||
  fail "layered: the DB's Refs are not the scanned closure's edges (strata closure)"
pass "layered: the DB's Refs are exactly the edges of strata closure (app, c from extra-root/etc/motd, tool from config.Cmd)"
[ "$(ls "$rootfs/nix/var/nix/gcroots/docker" | sort)" = "$(printf '%s\n' "$(basename "$app")" "$(basename "$c")" | sort)" ] ||
  fail "layered: gcroots/docker should link the contents' store paths app and c, holds: $(ls "$rootfs/nix/var/nix/gcroots/docker")"
[ "$(sqlite3 "$rootfs/nix/var/nix/db/db.sqlite" 'select distinct registrationTime from ValidPaths')" = 1700000000 ] ||
  fail "layered: registrationTime is not SOURCE_DATE_EPOCH"
pass "layered: gcroots/docker links app and c, registrationTime = SOURCE_DATE_EPOCH"
n=$(layer_count layered-sde-1.tar)
[ "$n" -ge 2 ] || fail "layered: expected store layers and a customisation layer, got $n layers"
for ((i = 0; i < n - 1; i++)); do
  files=$(layer_files layered-sde-1.tar "$i")
  grep -q "$(basename "$a")" <<<"$files" || grep -q "$(basename "$app")" <<<"$files" || grep -q "$(basename "$tool")" <<<"$files" ||
    grep -q "$(basename "$b")" <<<"$files" || grep -q "$(basename "$c")" <<<"$files" || fail "layered: layer $i holds no store path"
  ! grep -q '^\(\./\)\?nix/var/' <<<"$files" || fail "layered: store layer $i holds nix/var"
done
files=$(layer_files layered-sde-1.tar $((n - 1)))
grep -q '^\(\./\)\?nix/var/nix/db/db.sqlite$' <<<"$files" || fail "layered: the customisation layer has no DB: $files"
pass "layered: the DB is in the customisation layer (layer $n of $n), not in the $((n - 1)) store layers"

SOURCE_DATE_EPOCH=1700000000 "$STRATA" layered -q layered.json -o layered-sde-2.tar # through the layer cache
cmp layered-sde-1.tar layered-sde-2.tar || fail "two layered builds with SOURCE_DATE_EPOCH differ"
pass "layered: two builds with SOURCE_DATE_EPOCH are byte-identical, DB included (second through the layer cache)"
layered_spec layered-plain.json
"$STRATA" layered -q --no-cache layered-plain.json -o layered-1.tar
(TMPDIR=$tmp/other-tmp "$STRATA" layered -q --no-cache layered-plain.json -o layered-2.tar)
cmp layered-1.tar layered-2.tar || fail "two layered builds without SOURCE_DATE_EPOCH differ"
unpack_image layered-1.tar layered-plain
[ "$(sqlite3 "$tmp/layered-plain/rootfs/nix/var/nix/db/db.sqlite" 'select distinct registrationTime from ValidPaths')" = 1 ] ||
  fail "layered without SOURCE_DATE_EPOCH: registrationTime is not created (1970-01-01T00:00:01Z)"
pass "layered: two builds without SOURCE_DATE_EPOCH are byte-identical (another TMPDIR for the second); registrationTime = created (1)"
# Under umask 077 the whole image is not identical yet (customisation.cpp makes the
# copyToRoot dirs it merges with mkdir 0755 under the umask: bin/ becomes 0700), but the
# DB and the nix/var entries around it are.
(umask 077; "$STRATA" layered -q --no-cache layered-plain.json -o layered-umask.tar)
n=$(layer_count layered-1.tar)
[ "$(layer_files layered-1.tar $((n - 1)) -v | grep nix/var)" = "$(layer_files layered-umask.tar $((n - 1)) -v | grep nix/var)" ] ||
  fail "layered: the nix/var entries (modes, sizes) depend on the umask"
unpack_image layered-umask.tar layered-umask
cmp "$tmp/layered-plain/rootfs/nix/var/nix/db/db.sqlite" "$tmp/layered-umask/rootfs/nix/var/nix/db/db.sqlite" || fail "layered: the DB depends on the umask"
pass "layered: under umask 077 the DB and the nix/var entries are byte-identical"
layered_spec layered-now.json '"created": "now"'
"$STRATA" layered -q --no-cache layered-now.json -o layered-now-1.tar
sleep 1.1
"$STRATA" layered -q --no-cache layered-now.json -o layered-now-2.tar
[ "$(skopeo inspect --config docker-archive:layered-now-1.tar | jq -c .rootfs.diff_ids)" = \
  "$(skopeo inspect --config docker-archive:layered-now-2.tar | jq -c .rootfs.diff_ids)" ] ||
  fail "layered with created \"now\": the customisation layer (with the DB) depends on the clock"
[ "$(skopeo inspect --config docker-archive:layered-now-1.tar | jq -r .created)" != "$(skopeo inspect --config docker-archive:layered-now-2.tar | jq -r .created)" ] ||
  fail "layered with created \"now\": the config's created did not change (the check above proves nothing)"
pass "layered with created \"now\": the layers, DB included, do not change from one second to the next"

# The closureInfo for a layered image: derivers recorded, unrelated left out.
layered_spec layered-ci.json "\"closureGraph\": \"$tmp/closure-info\"" "[\"$app\"]"
"$STRATA" layered -q --no-cache layered-ci.json -o layered-ci.tar
unpack_image layered-ci.tar layered-ci
check_image_store "$tmp/layered-ci/rootfs" "layered with closureGraph" $app_closure
[ "$(image_store "$tmp/layered-ci/rootfs" -q --deriver "$tool")" = "$(host_store -q --deriver "$tool")" ] || fail "layered: deriver of $tool not recorded"
pass "layered with closureGraph: derivers recorded, the unrelated path left out"

# --- bad input: exit 2, one clear message, no image, no temp files left ---------------
mkdir "$tmp/bad-tmp"
expect_bad() { # expect_bad COMMAND SPEC WORDS...: each of WORDS must be in the message
  local cmd=$1 spec=$2 rc=0 msg words; shift 2
  msg=$(TMPDIR=$tmp/bad-tmp "$STRATA" "$cmd" $([ "$cmd" = layered ] && echo --no-cache) "$spec" -o "$tmp/bad-out.tar" 2>&1 >"$tmp/bad-stdout") || rc=$?
  [ $rc = 2 ] || fail "$cmd $spec: expected exit 2, got $rc: $msg"
  for words in "$@"; do grep -qF -- "$words" <<<"$msg" || fail "$cmd $spec: the message does not say '$words': $msg"; done
  [ ! -e "$tmp/bad-out.tar" ] || fail "$cmd $spec: wrote $tmp/bad-out.tar"
  [ ! -s "$tmp/bad-stdout" ] || fail "$cmd $spec: wrote to stdout"
  [ -z "$(ls -A "$tmp/bad-tmp")" ] || fail "$cmd $spec: left temp files: $(ls -A "$tmp/bad-tmp")"
  pass "$cmd exits 2 for $spec: $msg"
}
graph_json() { # graph_json PATH...: the host's graph of PATH... as JSON
  for p in "$@"; do jq -n --arg p "$p" --arg refs "$(host_store -q --references "$p")" \
    '{path: $p, references: ($refs | split("\n") | map(select(. != "")))}'; done | jq -s .
}
ghost=$store/$(basename "$(fake_store_path ghost-1.0)")
graph_json $app_closure | jq --arg app "$app" --arg g "$ghost" \
  'map(if .path == $app then .references += [$g] else . end) + [{path: $g, references: []}]' > ghost-graph.json
elsewhere=/nix/store/$(basename "$c")
graph_json $app_closure | jq --arg app "$app" --arg e "$elsewhere" \
  'map(if .path == $app then .references += [$e] else . end)' > outside-graph.json
{ sed -n 1,4p "$tmp/closure-info/registration"; } > truncated-registration
mkdir broken-info
sed '2s/.*/not-a-hash/' "$tmp/closure-info/registration" > broken-info/registration
cp "$tmp/closure-info/store-paths" broken-info/
# The same registration naming the leaf in /nix/store instead of storeDir.
sed "s|^$a\$|$elsewhere|" "$tmp/closure-info/registration" > outside-registration
grep -q "^$elsewhere\$" outside-registration || fail "outside-registration does not name $elsewhere"
# A registration whose narHash for a is not what a's contents hash to (what the seeding
# itself checks: the graph parses, the paths are on disk).
mkdir wrong-hash-info
awk -v a="$a" '{ line[NR] = $0 } END {
    for (i = 1; i <= NR; i++) {
      if (line[i - 1] == a && line[i] ~ /^[0-9a-f]+$/ && length(line[i]) == 64) line[i] = sprintf("%064d", 0)
      print line[i] } }' "$tmp/closure-info/registration" > wrong-hash-info/registration
cp "$tmp/closure-info/store-paths" wrong-hash-info/
[ "$(grep -c '^0\{64\}$' wrong-hash-info/registration)" = 1 ] || fail "wrong-hash-info/registration: $(cat wrong-hash-info/registration)"
for cmd in build layered; do
  mk() { if [ $cmd = build ]; then build_spec "$1" "\"closureGraph\": \"$2\""; else layered_spec "$1" "\"closureGraph\": \"$2\"" "[\"$app\"]"; fi; }
  mk bad-ghost-$cmd.json "$tmp/ghost-graph.json"
  expect_bad $cmd bad-ghost-$cmd.json "$ghost" "missing on disk"
  mk bad-outside-$cmd.json "$tmp/outside-graph.json"
  expect_bad $cmd bad-outside-$cmd.json "outside-graph.json" "$elsewhere" "not in the store dir $store"
  mk bad-outside-reg-$cmd.json "$tmp/outside-registration"
  expect_bad $cmd bad-outside-reg-$cmd.json "outside-registration:" "$elsewhere" "not in the store dir $store"
  mk bad-broken-$cmd.json "$tmp/broken-info"
  expect_bad $cmd bad-broken-$cmd.json "broken-info/registration:2" "not-a-hash"
  mk bad-truncated-$cmd.json "$tmp/truncated-registration"
  expect_bad $cmd bad-truncated-$cmd.json "truncated-registration:5" "the file ends"
  mk bad-hash-$cmd.json "$tmp/wrong-hash-info"
  expect_bad $cmd bad-hash-$cmd.json "$a"
  # control: the same spec without includeNixDB builds (the hash is only checked when seeding)
  jq '.includeNixDB = false' bad-hash-$cmd.json > no-db-$cmd.json
  "$STRATA" $cmd -q $([ $cmd = layered ] && echo --no-cache) no-db-$cmd.json -o no-db-$cmd.tar || fail "$cmd without includeNixDB rejects the wrong-hash graph"
  [ -z "$(layer_files no-db-$cmd.tar $(($(layer_count no-db-$cmd.tar) - 1)) | grep nix/var)" ] || fail "$cmd without includeNixDB wrote nix/var"
  pass "$cmd: without includeNixDB the same spec builds, with no nix/var in the image"
done
echo "PASS nix_image"
