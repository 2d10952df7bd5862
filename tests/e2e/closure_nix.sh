#!/usr/bin/env bash
# strata closure against a real Nix store: Debian's nix-bin builds 26 store paths that
# reference each other (contents, symlink targets, entry names, self-references, inputs
# used but not referenced) in a store under a temp root, without a daemon. Then, for every
# path, strata's scanned graph and the graphs strata reads from Nix's own output
# (nix-store --dump-db as a closureInfo dir, exportReferencesGraph text, and the
# __structuredAttrs .attrs.json) must equal nix-store -q --references / --requisites.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in nix-build nix-store jq "$STRATA"; do command -v "$tool" >/dev/null || fail "missing tool: $tool"; done
[ -x /bin/busybox ] || fail "missing /bin/busybox (busybox-static): the builders' /bin/sh"

tmp=$(mktemp -d /tmp/strata-closure-nix.XXXXXX)
cleanup() { chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# Nix's own state, config and caches stay in the temp dir; the store is local?root=.
mkdir -p "$tmp"/{state,log,conf,home,cache}
export NIX_STATE_DIR=$tmp/state NIX_LOG_DIR=$tmp/log NIX_CONF_DIR=$tmp/conf HOME=$tmp/home XDG_CACHE_HOME=$tmp/cache
root=$tmp/root
store="local?root=$root"
nix_opts=(--store "$store" --option substituters '' --option build-users-group ''
          --option sandbox-paths /bin/sh=/bin/busybox)

# p0..p23: each uses some earlier ones. Kinds by index: a file naming its inputs; a dir
# with a symlink to the first input, a file naming the rest and a self-reference; a dir
# holding a file *named* after an input's base name; and every fourth path also has an
# input it only tests for, which must not become a reference.
cat >"$tmp/store.nix" <<'EOF'
let
  mk = name: script: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" script ]; };
  uniq = builtins.foldl' (acc: x: if builtins.elem x acc then acc else acc ++ [ x ]) [ ];
  depsOf = i: builtins.filter (j: j >= 0 && j < i) (uniq [ (i - 1) (i / 2) (i / 3 - 1) ]);
  pkg = i:
    let
      deps = map (j: pkgs."p${toString j}") (depsOf i);
      first = builtins.head deps;
      rest = builtins.concatStringsSep " " (map toString (builtins.tail deps));
      unreferenced = if i >= 4 && i - (i / 4) * 4 == 0 then "test -e ${pkgs."p${toString (i - 4)}"} && " else "";
      kind = i - (i / 3) * 3;
      script =
        if i == 0 then "echo p0 > $out"
        else if kind == 0 then "${unreferenced}echo p${toString i} ${toString deps} > $out"
        else if kind == 1 then "${unreferenced}mkdir -p $out/bin $out/share && ln -s ${first}/bin $out/bin/first && echo '${rest}' > $out/share/rest && echo $out > $out/share/self"
        else "${unreferenced}mkdir -p $out/share && touch $out/share/$(basename ${first}).stamp && echo '${rest}' > $out/share/rest";
    in mk "p${toString i}" script;
  pkgs = builtins.listToAttrs (builtins.genList (i: { name = "p${toString i}"; value = pkg i; }) 24);
  all = mk "all" "echo ${toString (builtins.attrValues pkgs)} > $out";
in
pkgs // { inherit all; }
EOF
echo "building a store of 25 paths with nix-build under $root"
nix-build "${nix_opts[@]}" --no-out-link "$tmp/store.nix" -A all >"$tmp/all.out" 2>"$tmp/build.log" ||
  { cat "$tmp/build.log" >&2; fail "nix-build of the test store failed"; }
all=$(tail -n1 "$tmp/all.out")

# Nix's own graph files: exportReferencesGraph as text and, with __structuredAttrs, JSON.
cat >"$tmp/graphs.nix" <<'EOF'
{ allPath }:
let
  all = builtins.storePath allPath;
  attrs = { system = builtins.currentSystem; builder = "/bin/sh"; };
  # With __structuredAttrs, $out is not in the environment: take it from .attrs.sh.
  outFromAttrs = "$(sed -n \"s/.*\\\\['out'\\\\]='\\\\([^']*\\\\)'.*/\\\\1/p\" .attrs.sh)";
in {
  text = derivation (attrs // { name = "graph-text"; exportReferencesGraph = [ "graph" all ]; args = [ "-c" "cp graph $out" ]; });
  json = derivation (attrs // { name = "graph-json"; __structuredAttrs = true; exportReferencesGraph.graph = [ all ];
    args = [ "-c" "cp .attrs.json ${outFromAttrs}" ]; });
}
EOF
nix-build "${nix_opts[@]}" --no-out-link "$tmp/graphs.nix" --argstr allPath "$all" >"$tmp/graphs.out" 2>"$tmp/graphs.log" ||
  { cat "$tmp/graphs.log" >&2; fail "nix-build of the exportReferencesGraph derivations failed"; }
graph_text=$root$(grep -- '-graph-text$' "$tmp/graphs.out")
graph_json=$root$(grep -- '-graph-json$' "$tmp/graphs.out")

ns() { nix-store --store "$store" "$@"; }
ns -q --requisites "$all" | sort >"$tmp/requisites"
count=$(wc -l <"$tmp/requisites")
[ "$count" -ge 20 ] || fail "the test store has only $count paths in the closure"
edges=0
while read -r p; do edges=$((edges + $(ns -q --references "$p" | wc -l))); done <"$tmp/requisites"
[ "$edges" -ge 40 ] || fail "Nix recorded only $edges references"
echo "nix-store: closure of $all has $count paths and $edges references"

# A closureInfo dir from Nix's registration dump.
mkdir "$tmp/closure-info"
ns --dump-db $(cat "$tmp/requisites") >"$tmp/closure-info/registration"
cp "$tmp/requisites" "$tmp/closure-info/store-paths"

"$STRATA" closure --store-root "$root" "$all" >"$tmp/scanned.json"
"$STRATA" closure --graph "$tmp/closure-info" >"$tmp/info.json"
"$STRATA" closure --graph "$graph_text" >"$tmp/text.json"
"$STRATA" closure --graph "$graph_json" >"$tmp/attrs.json"

refs_in() { jq -r --arg p "$2" '.[] | select(.path == $p) | .references[]' "$1" | sort; }
for graph in scanned info text attrs; do
  jq -r '.[].path' "$tmp/$graph.json" | sort | cmp -s - "$tmp/requisites" ||
    fail "$graph graph: paths differ from nix-store -q --requisites $all"
done
while read -r p; do
  ns -q --references "$p" | sort >"$tmp/nix-refs"
  for graph in scanned info text attrs; do
    refs_in "$tmp/$graph.json" "$p" | cmp -s - "$tmp/nix-refs" ||
      fail "$graph graph: references of $p differ from nix-store -q --references: $(refs_in "$tmp/$graph.json" "$p" | tr '\n' ' ') vs $(tr '\n' ' ' <"$tmp/nix-refs")"
  done
  # The closure of each path alone, scanned and from the closureInfo graph.
  ns -q --requisites "$p" | sort >"$tmp/nix-reqs"
  "$STRATA" closure --store-root "$root" "$p" | jq -r '.[].path' | sort | cmp -s - "$tmp/nix-reqs" ||
    fail "scanned closure of $p differs from nix-store -q --requisites"
  "$STRATA" closure --graph "$tmp/closure-info" "$p" | jq -r '.[].path' | sort | cmp -s - "$tmp/nix-reqs" ||
    fail "closureInfo closure of $p differs from nix-store -q --requisites"
  # narHash and narSize as Nix reports them.
  [ "$(jq -r --arg p "$p" '.[] | select(.path == $p) | .narHash' "$tmp/attrs.json")" = "$(ns -q --hash "$p")" ] ||
    fail "narHash of $p in the .attrs.json graph differs from nix-store -q --hash"
  [ "$(jq -r --arg p "$p" '.[] | select(.path == $p) | .narSize' "$tmp/info.json")" = "$(ns -q --size "$p")" ] ||
    fail "narSize of $p in the closureInfo graph differs from nix-store -q --size"
done <"$tmp/requisites"
echo "ok: scanned, closureInfo (--dump-db), exportReferencesGraph text and .attrs.json graphs equal nix-store -q --references/--requisites for all $count paths"

# Self-references and unreferenced inputs really occur in this store.
jq -e 'map(select(.path as $p | .references | index($p))) | length > 0' "$tmp/scanned.json" >/dev/null ||
  fail "no self-reference in the test store"
p12=$(grep -- '-p12$' "$tmp/requisites")
p8=$(grep -- '-p8$' "$tmp/requisites")
if ns -q --references "$p12" | grep -x -- "$p8" >/dev/null; then fail "p12 only tests for p8, yet Nix records a reference"; fi
if refs_in "$tmp/scanned.json" "$p12" | grep -x -- "$p8" >/dev/null; then fail "strata reports p12 -> p8, an input p12 does not reference"; fi
echo "ok: the store has self-references and inputs that are not references, and strata agrees on both"

# Popularity order is the same whichever way the graph was obtained.
"$STRATA" closure --store-root "$root" "$all" --popularity >"$tmp/pop-scanned.json"
"$STRATA" closure --graph "$tmp/closure-info" --popularity >"$tmp/pop-info.json"
cmp -s "$tmp/pop-scanned.json" "$tmp/pop-info.json" || fail "popularity order differs between scanned and closureInfo graphs"
[ "$(jq -r 'last' "$tmp/pop-scanned.json")" = "$all" ] || fail "the root $all is not least popular"
echo "ok: popularity order identical from the scan and from the closureInfo graph"

# A tree outside the store (as copyToRoot contents): its references' closures.
p3=$(grep -- '-p3$' "$tmp/requisites")
p7=$(grep -- '-p7$' "$tmp/requisites")
mkdir -p "$tmp/contents/etc"
echo "tool=$p3/bin/tool" >"$tmp/contents/etc/conf"
ln -s "$p7/share" "$tmp/contents/share"
ns -q --requisites "$p3" "$p7" | sort -u >"$tmp/nix-reqs"
"$STRATA" closure --store-root "$root" "$tmp/contents" | jq -r '.[].path' | sort | cmp -s - "$tmp/nix-reqs" ||
  fail "closure of a copyToRoot-like tree differs from nix-store -q --requisites $p3 $p7"
"$STRATA" closure --graph "$graph_json" "$tmp/contents" | jq -r '.[].path' | sort | cmp -s - "$tmp/nix-reqs" ||
  fail "closure of a copyToRoot-like tree from the .attrs.json graph differs"
echo "ok: a tree outside the store maps to the closure of the store paths it names"

# Bad input: exit 2 with a message naming the problem.
expect_input_error() {
  local what=$1 pattern=$2
  shift 2
  set +e
  "$STRATA" closure "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2 ($(cat "$tmp/err"))"
  grep -q -- "$pattern" "$tmp/err" || fail "$what: message '$(cat "$tmp/err")' does not mention '$pattern'"
  [ ! -s "$tmp/out" ] || fail "$what: printed output"
}
p1=$(grep -- '-p1$' "$tmp/requisites")
p2=$(grep -- '-p2$' "$tmp/requisites")
printf '[{"path":"%s","references":["%s"]},{"path":"%s","references":["%s"]}]' "$p1" "$p2" "$p2" "$p1" >"$tmp/cycle.json"
expect_input_error "cycle" "the references form a cycle: " --graph "$tmp/cycle.json"
grep -q -- "$p1 -> $p2 -> $p1\|$p2 -> $p1 -> $p2" "$tmp/err" || fail "the cycle message does not name the cycle: $(cat "$tmp/err")"
printf '[{"path":"%s","references":["/usr/lib/libc.so"]}]' "$p1" >"$tmp/outside.json"
expect_input_error "reference outside the store" "not in the store dir /nix/store" --graph "$tmp/outside.json"
expect_input_error "missing store path" "does not exist" --store-root "$root" "/nix/store/00000000000000000000000000000000-missing"
expect_input_error "unreadable graph file" "cannot read closure graph" --graph "$tmp/nonexistent"
head -c 100 "$tmp/closure-info/registration" >"$tmp/truncated"
expect_input_error "truncated registration" "truncated:" --graph "$tmp/truncated"
echo "ok: cycle, path outside the store, missing path, missing and truncated graph files exit 2"
echo "PASS closure_nix"
