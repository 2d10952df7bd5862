#!/usr/bin/env bash
# strata nix-db seeds a Nix database that Debian's nix-bin accepts: --verify
# --check-contents passes on the image root, --references/--requisites give exactly the
# graph, hashes and sizes equal Nix's own, two runs give byte-identical db.sqlite, and
# bad input exits 2 without writing nix/var/nix/db.
set -euo pipefail
: "${STRATA:?path of the strata binary}" "${STRATA_TESTS:?tests dir}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-e2e-nix-db.XXXXXX")
source "$STRATA_TESTS/e2e/lib/nix-env.sh"
trap nix_env_cleanup EXIT

host=$tmp/host # the building machine's store, made by nix-bin: $host/nix/store
mkdir -p "$host/nix/store"

# Two text paths with a real reference, made by Nix itself (builtins.toFile).
b=$(nix-instantiate --store "local?root=$host" --eval --read-write-mode -E '
  let a = builtins.toFile "a-leaf" "leaf data\n"; in builtins.toFile "b-uses-a" "uses ${a}\n"' | tr -d '"')
a=$(nix_store "$host" -q --references "$b")
[ -n "$a" ] || fail "nix did not record b's reference to a"
unrelated=$(nix_store "$host" --add "$(printf 'not in the closure\n' > "$tmp/z-unrelated"; echo "$tmp/z-unrelated")")

# A tree with what a NAR must get right, referencing a, b and itself; its hash and size
# computed by nix-hash / nix-store --dump, registered with --load-db, and checked by
# the host store's --verify --check-contents.
tree=$(fake_store_path tree-1.0)
t=$host$tree
mkdir -p "$t/bin" "$t/share/doc with space" "$t/share/ünïcødé ☃" "$t/empty" "$t/lib"
printf '#!/bin/sh\nexec %s "$@"\n' "$b" > "$t/bin/tool"; chmod 755 "$t/bin/tool"
printf 'self: %s\n' "$tree" > "$t/share/doc with space/README"
printf 'utf-8 name\n' > "$t/share/ünïcødé ☃/файл.txt"
ln -s "$a" "$t/lib/leaf"
ln -s ../bin/tool "$t/share/tool-link"
head -c 3000001 /dev/urandom > "$t/share/blob"
printf '%s\n%s\n%s\n\n3\n%s\n%s\n%s\n' "$tree" "$(nix-hash --type sha256 "$t")" "$(nix-store --dump "$t" | wc -c)" \
  "$a" "$b" "$tree" | nix_store "$host" --load-db
nix_store "$host" --verify --check-contents >/dev/null 2>&1 || fail "the host store itself does not verify"

closure=$(nix_store "$host" -q --requisites "$tree" | sort)
[ "$(echo "$closure" | wc -l)" = 3 ] || fail "expected a closure of 3 paths, got: $closure"
# The graph strata is given: closureInfo-style registration, with an extra unrelated path.
mkdir "$tmp/closure-info"
nix_store "$host" --dump-db $closure "$unrelated" > "$tmp/closure-info/registration"
printf '%s\n' $closure "$unrelated" | sort > "$tmp/closure-info/store-paths"

# The image root: copies of the closure's paths, as the image builder stages them.
stage() {
  mkdir -p "$1/nix/store"
  for p in $closure; do cp -a "$host$p" "$1/nix/store/"; done
}
stage "$tmp/image"
stage "$tmp/image2"
stage "$tmp/image3"

SOURCE_DATE_EPOCH=1700000000 "$STRATA" nix-db "$tmp/image" "$tree" --store-root "$host" --graph "$tmp/closure-info"
SOURCE_DATE_EPOCH=1700000000 "$STRATA" nix-db -q "$tmp/image2" "$tree" --store-root "$host" --graph "$tmp/closure-info/registration"
cmp "$tmp/image/nix/var/nix/db/db.sqlite" "$tmp/image2/nix/var/nix/db/db.sqlite" || fail "two runs wrote different db.sqlite bytes"
pass "two runs (closureInfo dir, registration file) give byte-identical db.sqlite ($(stat -c %s "$tmp/image/nix/var/nix/db/db.sqlite") bytes)"
# Running again over an existing DB replaces it with the same bytes.
SOURCE_DATE_EPOCH=1700000000 "$STRATA" nix-db -q "$tmp/image2" "$tree" --store-root "$host" --graph "$tmp/closure-info"
cmp "$tmp/image/nix/var/nix/db/db.sqlite" "$tmp/image2/nix/var/nix/db/db.sqlite" || fail "re-running changed db.sqlite"
[ -z "$(ls -A "$tmp/image2/nix/var/nix" | grep -v -x -e db -e gcroots -e profiles -e temproots)" ] || fail "leftovers in nix/var/nix: $(ls -A "$tmp/image2/nix/var/nix")"
pass "re-running replaces the DB in place, nothing left beside it"

# Without --graph the closure is scanned from the store (hash parts in contents, symlink
# targets): it finds the same graph, so the same bytes.
SOURCE_DATE_EPOCH=1700000000 "$STRATA" nix-db -q "$tmp/image3" "$tree" --store-root "$host"
cmp "$tmp/image/nix/var/nix/db/db.sqlite" "$tmp/image3/nix/var/nix/db/db.sqlite" || fail "the scanned closure gave a different DB than the graph"
pass "a scanned closure (no --graph) gives the same db.sqlite as the graph"

db=$tmp/image/nix/var/nix/db
[ "$(cat "$db/schema")" = 10 ] || fail "schema file holds '$(cat "$db/schema")', not 10"
[ "$(sqlite3 "$db/db.sqlite" 'select distinct registrationTime from ValidPaths')" = 1700000000 ] || fail "registrationTime is not SOURCE_DATE_EPOCH"
[ "$(sqlite3 "$db/db.sqlite" 'select count(*) from ValidPaths')" = 3 ] || fail "the DB should hold exactly the closure of $tree"
[ "$(readlink "$tmp/image/nix/var/nix/gcroots/docker/$(basename "$tree")")" = "$tree" ] || fail "no gcroots/docker link for $tree"
pass "schema 10, registrationTime from SOURCE_DATE_EPOCH, only the closure, gcroots/docker link"

out=$(nix_store "$tmp/image" --verify --check-contents 2>&1) || fail "nix-store --verify --check-contents failed: $out"
! grep -qi -e modified -e error -e warning <<<"$out" || fail "nix-store --verify complained: $out"
pass "nix-store --verify --check-contents succeeds on the image root"

for p in $closure; do
  [ "$(nix_store "$tmp/image" -q --hash "$p")" = "$(nix_store "$host" -q --hash "$p")" ] || fail "narHash of $p differs from Nix's"
  [ "$(nix_store "$tmp/image" -q --size "$p")" = "$(nix_store "$host" -q --size "$p")" ] || fail "narSize of $p differs from Nix's"
  [ "$(nix_store "$tmp/image" -q --references "$p" | sort)" = "$(nix_store "$host" -q --references "$p" | sort)" ] || fail "references of $p differ"
  [ "$(nix_store "$tmp/image" -q --requisites "$p" | sort)" = "$(nix_store "$host" -q --requisites "$p" | sort)" ] || fail "requisites of $p differ"
done
[ "$(nix_store "$tmp/image" -q --references "$tree" | sort)" = "$(printf '%s\n' "$a" "$b" "$tree" | sort)" ] || fail "references of the tree are not a, b and itself"
pass "-q --hash/--size/--references/--requisites equal the host store's for all $(echo "$closure" | wc -l) paths"

# Realisations tables are left to Nix: with ca-derivations on, nix-bin adds them itself.
out=$(nix_store "$tmp/image2" --extra-experimental-features ca-derivations -q --hash "$tree" 2>&1) || fail "nix-store with ca-derivations rejected the DB: $out"
[ "$(sqlite3 "$tmp/image2/nix/var/nix/db/db.sqlite" "select count(*) from sqlite_master where name in ('Realisations', 'RealisationsRefs')")" = 2 ] || fail "nix did not add its Realisations tables"
nix_store "$tmp/image2" --verify --check-contents >/dev/null 2>&1 || fail "--verify fails after nix migrated the DB for ca-derivations"
pass "nix-store with ca-derivations adds its Realisations tables to the DB and still verifies"

# Bad input: exit 2, a message naming the problem, no nix/var/nix/db written.
expect_bad() { # expect_bad ROOT WORDS-IN-MESSAGE -- ARGS...
  local root=$1 words=$2; shift 3
  set +e; msg=$("$STRATA" nix-db "$root" "$@" 2>&1); rc=$?; set -e
  [ $rc = 2 ] || fail "expected exit 2 for '$*', got $rc: $msg"
  grep -q -- "$words" <<<"$msg" || fail "message for '$*' does not say '$words': $msg"
  [ ! -e "$root/nix/var/nix/db" ] || fail "'$*' left $root/nix/var/nix/db behind"
  pass "exit 2 for $words: $msg"
}
mkdir -p "$tmp/bad/nix/store" "$tmp/emptyhost/nix/store"
expect_bad "$tmp/bad" "missing on disk" -- "$tree" --store-root "$tmp/emptyhost" --graph "$tmp/closure-info"
expect_bad "$tmp/bad" "not a store path in /nix/store" -- "$tmp/z-unrelated" --store-root "$host" --graph "$tmp/closure-info"
expect_bad "$tmp/bad" "not a store path in /nix/store" -- "/elsewhere/$(basename "$tree")" --store-root "$host" --graph "$tmp/closure-info"
printf '%s\nnot-a-hash\n1\n\n0\n' "$tree" > "$tmp/broken-registration"
expect_bad "$tmp/bad" "broken-registration:2: expected the SHA-256 NAR hash" -- "$tree" --store-root "$host" --graph "$tmp/broken-registration"
head -n 3 "$tmp/closure-info/registration" > "$tmp/truncated-registration"
expect_bad "$tmp/bad" "truncated-registration:4: the file ends" -- --store-root "$host" --graph "$tmp/truncated-registration"
expect_bad "$tmp/bad" "not in the closure graph" -- "$(fake_store_path absent)" --store-root "$host" --graph "$tmp/closure-info"
SOURCE_DATE_EPOCH=yesterday expect_bad "$tmp/bad" "SOURCE_DATE_EPOCH is 'yesterday', not a number" -- "$tree" --store-root "$host" --graph "$tmp/closure-info"
expect_bad "$tmp/no-such-root" "is not a directory" -- "$tree" --store-root "$host" --graph "$tmp/closure-info"
echo "PASS nix_db"
