#!/usr/bin/env bash
# The layer cache: a rebuild after one store path changed reads only that path (the
# --json statistic, confirmed by the read(2) calls strace sees), a rebuild without change
# reads nothing and gives the same image, --no-cache reads everything, and a changed path
# is never served stale, even when its size and mtime are kept.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/layered.sh"
need jq strace tar

cd "$WORK"
make_fake_store
rel=${STORE#/}
# The image's 15 paths, each in its own layer (maxLayers 100, popularity: a path per layer
# at a fixed place, so a changed path changes only its own layer). contents are store paths
# only, so the customisation layer is links and directories: it reads no file content.
jq -n --arg store "$STORE" --arg app "${SP[app]}" --arg tool "${SP[tool]}" --arg data "${SP[data]}" --arg helper "${SP[helper]}" \
  --arg cacert "${SP[cacert]}" '{name: "layered/cache", tag: "v1", storeDir: $store, closureGraph: "graph.json",
    contents: [$tool, $data, $helper], layeringPipeline: "popularity", config: {Cmd: [($app + "/bin/app")], Env: [("CA=" + $cacert)]}}' >spec.json

closure=(app cacert data helper tool tzdata libfoo curl chain1 openssl chain2 glibc zlib bash chain3)
file_bytes() { # paths...: bytes of the regular files under them
  find "$@" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'
}
total=$(file_bytes $(for n in "${closure[@]}"; do echo "${SP[$n]}"; done))

# build NAME [strata args]: strata layered under strace; sets STAT (file_bytes_read),
# CACHED (layers_from_cache) and READ (bytes read(2) from files under the store).
build() {
  local name=$1
  shift
  strace -f -qq -e trace=read,pread64,readv,preadv,preadv2 -e signal=none -y -o "$name.strace" \
    "$STRATA" layered spec.json -o "$name.tar" --json -q "$@" >"$name.json"
  STAT=$(jq .stats.file_bytes_read "$name.json")
  CACHED=$(jq .stats.layers_from_cache "$name.json")
  READ=$(store_reads "$name.strace")
}
store_reads() { # strace log: bytes returned by reads of fds open on files under $STORE
  { grep -F "<$STORE/" "$1" || true; } | sed -nE 's/.*= ([0-9]+)$/\1/p' | awk '{s += $1} END {print s + 0}'
}

build cold --cache-dir cache
assert_eq "$total" "$STAT" "cold build: file_bytes_read is every closure file ($total bytes)"
assert_eq 0 "$CACHED" "cold build: no layer from the cache"
[ "$READ" -ge "$total" ] || fail "cold build: strace saw $READ bytes read, fewer than $total"
pass "cold build: strace sees $READ bytes read from the store"
assert_eq 16 "$(jq '.layers | length' cold.json)" "15 store layers and the customisation layer"

build warm --cache-dir cache
assert_eq 0 "$STAT" "no-change rebuild: file_bytes_read 0"
assert_eq 15 "$CACHED" "no-change rebuild: all 15 store layers from the cache"
assert_eq 0 "$READ" "no-change rebuild: strace sees no read of a store file"
cmp -s cold.tar warm.tar || fail "the no-change rebuild differs from the cold build"
pass "no-change rebuild is byte for byte the cold build"

build nocache --no-cache
assert_eq "$total" "$STAT" "--no-cache: reads every closure file again"
assert_eq 0 "$CACHED" "--no-cache: no layer from the cache"
cmp -s cold.tar nocache.tar || fail "--no-cache gives a different image"
pass "--no-cache gives the same image"

# Change libfoo-1.0: a new file and a bigger library.
libfoo=${SP[libfoo]}
chmod -R u+w "$libfoo"
mkdir -p "$libfoo/lib"
head -c 40000 /dev/zero | tr '\0' 'x' >"$libfoo/lib/libfoo.so"
chmod -R a-w "$libfoo"
changed=$(file_bytes "$libfoo")
build changed --cache-dir cache
assert_eq "$changed" "$STAT" "after libfoo changed: file_bytes_read is libfoo's $changed bytes"
assert_eq 14 "$CACHED" "after libfoo changed: the 14 other layers from the cache"
# strace: libfoo's files, plus nothing else from the store
assert_eq "$READ" "$(grep -F "<$libfoo/" changed.strace | sed -nE 's/.*= ([0-9]+)$/\1/p' | awk '{s += $1} END {print s + 0}')" \
  "after libfoo changed: strace sees reads of libfoo's files only ($READ bytes)"
[ "$READ" -le $((changed * 2)) ] || fail "libfoo read $READ bytes for $changed bytes of files"
idx=$(jq --arg p "$libfoo" '.store_paths | index($p)' changed.json)
old_ids=$(jq -c '[.layers[].diff_id]' cold.json)
new_ids=$(jq -c '[.layers[].diff_id]' changed.json)
assert_eq "$(jq -c "del(.[$idx])" <<<"$old_ids")" "$(jq -c "del(.[$idx])" <<<"$new_ids")" "only libfoo's layer has a new diff_id"
[ "$(jq -r ".[$idx]" <<<"$old_ids")" != "$(jq -r ".[$idx]" <<<"$new_ids")" ] || fail "libfoo's layer kept its diff_id"
layer=$(archive_layers changed.tar | sed -n "$((idx + 1))p")
tar xOf changed.tar "$layer" | gzip -dc | tar xOf - "$rel/$(basename "$libfoo")/lib/libfoo.so" | cmp -s - "$libfoo/lib/libfoo.so" ||
  fail "the new image lacks libfoo's new content"
pass "the new image carries libfoo's new file"

# Same size, same mtime, different bytes: the inode's ctime still changes, so no stale hit.
chmod u+w "$libfoo/lib" "$libfoo/lib/libfoo.so"
touch -r "$libfoo/lib/libfoo.so" stamp
head -c 40000 /dev/zero | tr '\0' 'y' >"$libfoo/lib/libfoo.so"
touch -r stamp "$libfoo/lib/libfoo.so"
chmod a-w "$libfoo/lib" "$libfoo/lib/libfoo.so"
build samesize --cache-dir cache
assert_eq "$changed" "$STAT" "same size and mtime, new bytes: libfoo is read again"
tar xOf samesize.tar "$(archive_layers samesize.tar | sed -n "$((idx + 1))p")" | gzip -dc |
  tar xOf - "$rel/$(basename "$libfoo")/lib/libfoo.so" | cmp -s - "$libfoo/lib/libfoo.so" || fail "served a stale libfoo"
pass "same size and mtime: the new bytes are in the image, not the cached ones"

# stream with the cache: a cold stream reads each layer twice (digests first, then the
# bytes: the archive names each layer by its digest before its bytes), a warm one once.
stream() { # name
  strace -f -qq -e trace=read,pread64,readv,preadv,preadv2,write,writev -e signal=none -y -o "$1.strace" \
    "$STRATA" stream spec.json --json --cache-dir cache >"$1.tar" 2>"$1.json"
  STAT=$(jq .stats.file_bytes_read "$1.json")
  CACHED=$(jq .stats.layers_from_cache "$1.json")
}
total=$(file_bytes $(for n in "${closure[@]}"; do echo "${SP[$n]}"; done))
stream stream-cold
assert_eq $((2 * total)) "$STAT" "cold stream: each store file read twice (digest pass, then the bytes)"
first_write=$(awk '/^[0-9]+ +writev?\(1</ {print NR; exit}' stream-cold.strace)
last_layer_read=$(awk -v p="<${SP[tool]}/" 'index($0, p) {print NR; exit}' stream-cold.strace)
[ -n "$first_write" ] && [ -n "$last_layer_read" ] || fail "strace log lacks the stream's writes or the last layer's reads"
[ "$first_write" -lt "$last_layer_read" ] || fail "stream wrote nothing before reading the last layer"
pass "stream sends bytes (strace line $first_write) before it reads the last layer (line $last_layer_read)"
stream stream-warm
assert_eq $total "$STAT" "warm stream: each store file read once"
assert_eq 15 "$CACHED" "warm stream: every layer's digests from the cache"
cmp -s stream-cold.tar stream-warm.tar || fail "warm and cold streams differ"
pass "warm and cold streams are the same bytes"

# The default cache where HOME does not exist (a Nix build sandbox has
# HOME=/homeless-shelter): under $TMPDIR (Nix's build dir), used by the next build, and
# --json says where. An unusable --cache-dir given explicitly is bad input: exit 2 before
# any output.
mkdir -m 777 out-nosub nosub-tmp
as_user() { # command line, run as an unprivileged user (strata-nosub when we are root)
  if [ "$(id -u)" -eq 0 ]; then
    id strata-nosub >/dev/null 2>&1 || "$STRATA_SRC/tests/e2e/lib/make-users"
    su strata-nosub -s /bin/sh -c "cd '$WORK' && $1"
  else
    sh -c "cd '$WORK' && $1"
  fi
}
nosub_uid=$(if [ "$(id -u)" -eq 0 ]; then id -u strata-nosub; else id -u; fi)
for run in cold warm; do
  got=0
  as_user "HOME=/homeless-shelter XDG_CACHE_HOME= TMPDIR='$WORK/nosub-tmp' '$STRATA' layered spec.json -o out-nosub/$run.tar --json" >nosub-$run.json 2>nosub.err || got=$?
  assert_eq 0 "$got" "HOME missing ($run): the build succeeds ($(cat nosub.err))"
done
assert_eq "$WORK/nosub-tmp/strata-cache-$nosub_uid" "$(jq -r .cache_dir nosub-warm.json)" "HOME missing: --json names the cache under \$TMPDIR"
assert_eq 0 "$(jq .stats.layers_from_cache nosub-cold.json)" "HOME missing: the first build fills the cache"
[ "$(jq .stats.layers_from_cache nosub-warm.json)" -gt 0 ] || fail "HOME missing: the second build used no cached layer"
[ "$(stat -c %a "$WORK/nosub-tmp/strata-cache-$nosub_uid")" = 700 ] || fail "the cache under TMPDIR is not 0700"
cmp -s out-nosub/cold.tar out-nosub/warm.tar || fail "HOME missing: cold and warm images differ"
pass "HOME missing: the cache is under \$TMPDIR, 0700, and the second build takes $(jq .stats.layers_from_cache nosub-warm.json) layers from it"
got=0
as_user "'$STRATA' stream spec.json --cache-dir /homeless-shelter/cache" >nosub.tar 2>nosub.err || got=$?
assert_eq 2 "$got" "an unusable --cache-dir: exit 2"
grep -q "layer cache /homeless-shelter/cache cannot be used" nosub.err || fail "message: $(cat nosub.err)"
[ ! -s nosub.tar ] || fail "stream wrote to stdout before failing on its cache dir"
pass "an unusable --cache-dir: one message, nothing streamed: $(head -1 nosub.err)"

# Scanning (no closureGraph) reads the closure to find references on every build: not in
# file_bytes_read, which counts layer bytes; measured here with strace and reported.
jq 'del(.closureGraph)' spec.json >spec-scan.json
strace -f -qq -e trace=read,pread64,readv,preadv,preadv2 -e signal=none -y -o scan.strace \
  "$STRATA" layered spec-scan.json -o scan.tar --json -q --cache-dir cache >scan.json
assert_eq 0 "$(jq .stats.file_bytes_read scan.json)" "scanned closure, warm cache: no layer bytes read"
echo "# note: without a closureGraph the warm rebuild still reads $(store_reads scan.strace) bytes of store files to scan references (closure: $total bytes)"
finish
