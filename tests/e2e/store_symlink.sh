#!/usr/bin/env bash
# A store path that is itself a symlink to another store path stays a symlink in the
# image, and its target comes along (issue 10 item 4). nixpkgs' layeredStoreSymlink
# (examples.nix): target = writeTextDir "dir/target" "Content doesn't matter.", symlink =
# runCommand "symlink" {} "ln -s ${target} $out", buildLayeredImage { contents = [ bash
# symlink ]; }, and docker-tools.nix asserts `docker run … bash -c 'test -L ${symlink}'`.
# As root, strata-sub and strata-nosub, every way a store path reaches an image:
#  - layeredStoreSymlink as it is (auto layering, the store scanned): `test -L` of the
#    symlink path succeeds in the image and the file reads through it; the layer entry is
#    the symlink with the target's path as its bytes; the customisation layer's
#    dir/target links through the symlink path, as symlinkJoin's lndir makes it;
#  - popularity layering: the symlink path has a layer of its own;
#  - the closure from closureGraph (exportReferencesGraph's text) instead of a scan;
#  - contents given as `./result`, a link to the symlink path (Nix follows links only
#    until the store): the image holds the symlink path, not only the target;
#  - buildImage: an extraCommands `ln -s <symlink> symlink` (found by scanning: a
#    symlink's target is its content), and copyToRoot = the symlink path, whose target's
#    files land at the root as dockerTools' `rsync -a <symlink>/ layer/` puts them;
#  - strata stream: the streamed layer holds the symlink.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/dockertools.sh"
sandbox_need jq tar gcc
sandbox_setup
make_store

chmod u+w "$STORE"
TARGET=$(store_path target d)
mkdir -p "$TARGET/dir"
printf "Content doesn't matter." >"$TARGET/dir/target"
SYMLINK=$(store_path symlink s)
ln -s "$TARGET" "$SYMLINK"
chmod -R a+rX,a-w "$TARGET"
ln -s "$SYMLINK" "$WORK/result"
# exportReferencesGraph's text for contents [busybox, symlink]: path, deriver, count, refs.
printf '%s\n\n1\n%s\n%s\n\n1\n%s\n%s\n\n0\n' "$BUSYBOX" "$BUSYBOX" "$SYMLINK" "$TARGET" "$TARGET" >"$WORK/graph"

# entry ARCHIVE PATH: the entry of an absolute PATH in the image's layers, as
# "MODE UID/GID NAME[ -> TARGET]" (layer_of's form), one line per layer holding it.
entry() {
  local archive=$1 path=${2#/} i count
  count=$(tar xOf "$archive" manifest.json | jq '.[0].Layers | length')
  for ((i = 0; i < count; i++)); do
    layer_of "$archive" "$i" | awk -v p="$path" '$3 == p || $3 == p "/"'
  done
}
# a_symlink_to ARCHIVE PATH TARGET: the image holds PATH as exactly one symlink to TARGET.
a_symlink_to() {
  local got
  got=$(entry "$1" "$2")
  [ "$got" = "lrwxrwxrwx 0/0 ${2#/} -> $3" ] || { echo "entry of $2: '$got'" >&2; return 1; }
}
holds_file() { entry "$1" "$2" | grep '^-' >/dev/null; }
# alone_in_a_layer ARCHIVE PATH: some layer's only store path is PATH.
alone_in_a_layer() {
  local archive=$1 rel=${STORE#/} i count
  count=$(tar xOf "$archive" manifest.json | jq '.[0].Layers | length')
  for ((i = 0; i < count; i++)); do
    [ "$(layer_of "$archive" "$i" | awk '{ print $3 }' | grep -oE "^$rel/[^/]+" | sort -u)" = "${2#/}" ] && return 0
  done
  return 1
}
reads_through_symlink() { says "Content doesn't matter." run_image "$1" "$2" sh -c "test -L $SYMLINK && cat $SYMLINK/dir/target"; }

for user in $(sandbox_users); do
  d=$WORK/$user
  mkdir -p "$d/tmp"
  chown "$user:" "$d" "$d/tmp"
  build() { as_user "$user" env TMPDIR="$d/tmp" "$SB" "$@" -q --layer-store "$d/layers"; }
  spec() { # FILE JQ-EXPR: a spec with $bb, $sym, $store, $graph, $result bound
    jq -n --arg bb "$BUSYBOX" --arg sym "$SYMLINK" --arg store "$STORE" --arg graph "$WORK/graph" \
      --arg result "$WORK/result" "$2" >"$1"
  }

  # layeredStoreSymlink
  spec "$d/layered.json" '{name: "layeredstoresymlink", tag: "latest", storeDir: $store, contents: [$bb, $sym]}'
  check "$user: layeredStoreSymlink builds" build layered "$d/layered.json" -o "$d/layered.tar" --no-cache
  check "$user: ... test -L <symlink> succeeds in it, and the file reads through it" reads_through_symlink "$user" "$d/layered.tar"
  check "$user: ... its layer entry is the symlink, with the target's path" a_symlink_to "$d/layered.tar" "$SYMLINK" "$TARGET"
  check "$user: ... the target is there too" holds_file "$d/layered.tar" "$TARGET/dir/target"
  check "$user: ... the customisation layer's dir/target links through the symlink path (lndir)" \
    grep -qxF "lrwxrwxrwx 0/0 dir/target -> $SYMLINK/dir/target" <(layer_of "$d/layered.tar" -1)

  # popularity: every path a layer of its own
  spec "$d/popularity.json" '{name: "layeredstoresymlink", tag: "latest", storeDir: $store, contents: [$bb, $sym],
    layeringPipeline: "popularity"}'
  check "$user: with popularity layering, it builds" build layered "$d/popularity.json" -o "$d/popularity.tar" --no-cache
  check "$user: ... the symlink path has a layer of its own" alone_in_a_layer "$d/popularity.tar" "$SYMLINK"
  check "$user: ... holding the symlink" a_symlink_to "$d/popularity.tar" "$SYMLINK" "$TARGET"
  check "$user: ... test -L <symlink> succeeds in it" reads_through_symlink "$user" "$d/popularity.tar"

  # the closure from exportReferencesGraph's file
  spec "$d/graph.json" '{name: "layeredstoresymlink", tag: "latest", storeDir: $store, contents: [$bb, $sym],
    closureGraph: $graph}'
  check "$user: with closureGraph, it builds" build layered "$d/graph.json" -o "$d/graph.tar" --no-cache
  check "$user: ... the symlink is a symlink" a_symlink_to "$d/graph.tar" "$SYMLINK" "$TARGET"
  check "$user: ... test -L <symlink> succeeds in it" reads_through_symlink "$user" "$d/graph.tar"

  # contents ./result -> the symlink path
  spec "$d/result.json" '{name: "layeredstoresymlink", tag: "latest", storeDir: $store, contents: [$bb, $result]}'
  check "$user: with contents a link to the symlink path, it builds" build layered "$d/result.json" -o "$d/result.tar" --no-cache
  check "$user: ... the image holds the symlink path as a symlink" a_symlink_to "$d/result.tar" "$SYMLINK" "$TARGET"

  # buildImage: a link made by extraCommands, and copyToRoot the symlink path itself
  spec "$d/extra.json" '{name: "buildimage-store-symlink", tag: "latest", storeDir: $store, copyToRoot: [$bb],
    extraCommands: "ln -s \($sym) symlink"}'
  check "$user: buildImage with extraCommands linking the symlink path builds" build build "$d/extra.json" -o "$d/extra.tar"
  check "$user: ... test -L <symlink> succeeds in it" reads_through_symlink "$user" "$d/extra.tar"
  check "$user: ... /symlink/dir/target reads" says "Content doesn't matter." run_image "$user" "$d/extra.tar" cat /symlink/dir/target
  check "$user: ... the symlink is a symlink" a_symlink_to "$d/extra.tar" "$SYMLINK" "$TARGET"
  spec "$d/copy.json" '{name: "buildimage-store-symlink", tag: "latest", storeDir: $store, copyToRoot: [$bb, $sym]}'
  check "$user: buildImage with copyToRoot the symlink path builds" build build "$d/copy.json" -o "$d/copy.tar"
  check "$user: ... the target's files are at the root (rsync -a <symlink>/ layer/)" \
    says "Content doesn't matter." run_image "$user" "$d/copy.tar" cat /dir/target
  check "$user: ... the symlink path is a symlink in the image" a_symlink_to "$d/copy.tar" "$SYMLINK" "$TARGET"
  check "$user: ... and test -L succeeds" reads_through_symlink "$user" "$d/copy.tar"
  check "$user: nothing left in TMPDIR" [ -z "$(ls -A "$d/tmp")" ]
done

# strata stream: the same layers, sent to stdout.
"$SB" stream "$WORK/root/layered.json" -q --no-cache >"$WORK/streamed.tar"
check "stream: the streamed image holds the symlink" a_symlink_to "$WORK/streamed.tar" "$SYMLINK" "$TARGET"
finish
