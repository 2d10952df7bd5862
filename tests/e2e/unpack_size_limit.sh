#!/usr/bin/env bash
# unpack --max-layer-size: a gzip bomb (a ~2 MB layer whose one file is 2 GiB of zeros)
# is refused with exit 2 naming the layer and the entry, before its content is written:
# nothing at DIR, no temp tree beside it; a layer within the limit unpacks; bad values
# are exit 2 naming the flag. Without the flag there is no limit (as before).
source "$(dirname "$0")/lib/common.sh"
need jq

mkdir -p "$WORK/bomb-tree" "$WORK/small-tree" "$WORK/out"
truncate -s 2G "$WORK/bomb-tree/zeros"
echo small >"$WORK/small-tree/file"
"$STRATA" build --name bomb --tag v1 --copy-to-root "$WORK/bomb-tree" --compress gzip -o "$WORK/bomb.tar" -q
"$STRATA" build --name small --tag v1 --copy-to-root "$WORK/small-tree" -o "$WORK/small.tar" -q
size=$(stat -c %s "$WORK/bomb.tar")
[ "$size" -lt $((16 * 1024 * 1024)) ] || fail "the bomb image is $size bytes, not a small one"
pass "the bomb image is $((size / 1024)) KiB"

expect_status 2 unpack "$WORK/bomb.tar" "$WORK/out/bomb" --max-layer-size 100m
grep -q "layer 1 (sha256:[0-9a-f]*).*more than the 104857600 bytes allowed.*'zeros'" "$WORK/stderr" ||
  fail "the message names the layer, the limit and the entry: $(cat "$WORK/stderr")"
pass "a 2 GiB layer over --max-layer-size 100m: exit 2, $(cat "$WORK/stderr")"
assert_eq "" "$(ls -A "$WORK/out")" "nothing at DIR nor beside it"

"$STRATA" unpack "$WORK/small.tar" "$WORK/out/small" --max-layer-size 1k -q
assert_eq small "$(cat "$WORK/out/small/file")" "a layer within the limit unpacks"
expect_status 2 unpack "$WORK/small.tar" "$WORK/out/small2" --max-layer-size 5
grep -q "more than the 5 bytes allowed" "$WORK/stderr" || fail "5 bytes: $(cat "$WORK/stderr")"
pass "the limit is the files' bytes: 6 bytes of file over a limit of 5 is refused"

for bad in 0 -1 12x 1.5g "" 99999999999t; do
  expect_status 2 unpack "$WORK/small.tar" "$WORK/out/bad" --max-layer-size "$bad"
  grep -q -- "--max-layer-size" "$WORK/stderr" || fail "bad value '$bad': $(cat "$WORK/stderr")"
done
pass "bad sizes (0, -1, 12x, 1.5g, empty, past 64 bits) are exit 2 naming the flag"
assert_eq "small" "$(ls -A "$WORK/out")" "and leave nothing"
finish
