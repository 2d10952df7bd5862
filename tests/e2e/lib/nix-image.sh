# Sourced by nix_image.sh after lib/nix-env.sh: unpacking strata images with real clients
# and checking the Nix store inside them with nix-bin against the host store.
# Needs $tmp, and NIX_STORE_DIR naming the logical store dir of both stores.

for tool in skopeo umoci jq tar cmp sqlite3; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup installs it)"
done

# host_store ARGS...: nix-store against the building machine's store.
host_store() { nix-store --store local "$@"; }
# image_store ROOTFS ARGS...: nix-store against the store inside an unpacked image. `real`
# is needed: nix-bin 2.8 puts a `root=R` store's files in R/nix/store whatever the store
# dir (only the state dir follows R); with root= alone --verify finds no path on disk,
# "removes" them all from the DB and still exits 0.
image_store() { local rootfs=$1; shift; nix-store --store "local?root=$rootfs&real=$rootfs$NIX_STORE_DIR" "$@"; }

# unpack_image DOCKER-ARCHIVE DIR: skopeo copies it to an OCI layout, umoci unpacks that
# rootless into DIR/rootfs (layers applied in order, whiteouts honoured).
unpack_image() {
  local archive=$1 dir=$2
  skopeo copy -q "docker-archive:$archive" "oci:$dir.oci:img" || fail "skopeo cannot copy $archive"
  umoci unpack --rootless --image "$dir.oci:img" "$dir" >/dev/null 2>&1 || fail "umoci cannot unpack $archive"
  [ -d "$dir/rootfs" ] || fail "umoci left no rootfs for $archive"
}

# layer_files DOCKER-ARCHIVE INDEX [-v]: the entries of the INDEXth layer (0-based), one a
# line (with -v: tar's long listing, modes, owners, sizes and times).
layer_files() {
  local archive=$1 index=$2 layer
  layer=$(tar -xOf "$archive" manifest.json | jq -r ".[0].Layers[$index]")
  tar -xOf "$archive" "$layer" > "$tmp/layer-blob" || fail "no layer $index ($layer) in $archive"
  tar -t ${3:-} -f "$tmp/layer-blob" || fail "layer $index of $archive is not a (compressed) tar" # tar detects the compression of a file
}
layer_count() { tar -xOf "$1" manifest.json | jq '.[0].Layers | length'; }

# check_image_store ROOTFS LABEL PATH...: the DB under ROOTFS holds exactly PATH... (the
# closure the image was built from), nix-bin verifies every path's contents against it,
# and nix-bin's answers for each path (hash, size, references, requisites) equal the
# host store's, which made those paths and holds the graph they were built with.
check_image_store() {
  local rootfs=$1 label=$2; shift 2
  local db=$rootfs/nix/var/nix/db/db.sqlite out p
  [ -f "$db" ] || fail "$label: no nix/var/nix/db/db.sqlite in the image"
  [ "$(cat "$rootfs/nix/var/nix/db/schema")" = 10 ] || fail "$label: nix/var/nix/db/schema is not 10"
  [ "$(sqlite3 "$db" 'select path from ValidPaths order by path')" = "$(printf '%s\n' "$@" | sort)" ] ||
    fail "$label: the DB holds $(sqlite3 "$db" 'select path from ValidPaths order by path' | tr '\n' ' '), expected $*"
  pass "$label: the DB holds exactly the $# paths of the closure"
  out=$(image_store "$rootfs" --verify --check-contents 2>&1) || fail "$label: nix-store --verify --check-contents failed: $out"
  ! grep -qi -e modified -e error -e warning -e invalid -e disappeared <<<"$out" || fail "$label: nix-store --verify complained: $out"
  [ "$(sqlite3 "$db" 'select count(*) from ValidPaths')" = $# ] || fail "$label: nix-store --verify dropped paths from the DB: $out"
  pass "$label: nix-store --store 'local?root=<rootfs>&real=<rootfs>$NIX_STORE_DIR' --verify --check-contents succeeds"
  for p in "$@"; do
    [ -e "$rootfs$p" ] || fail "$label: $p is registered but not in the image"
    [ "$(image_store "$rootfs" -q --hash "$p")" = "$(host_store -q --hash "$p")" ] || fail "$label: narHash of $p differs from Nix's"
    [ "$(image_store "$rootfs" -q --size "$p")" = "$(host_store -q --size "$p")" ] || fail "$label: narSize of $p differs from Nix's"
    [ "$(image_store "$rootfs" -q --references "$p" | sort)" = "$(host_store -q --references "$p" | sort)" ] ||
      fail "$label: references of $p: image says $(image_store "$rootfs" -q --references "$p" | tr '\n' ' '), host says $(host_store -q --references "$p" | tr '\n' ' ')"
    [ "$(image_store "$rootfs" -q --requisites "$p" | sort)" = "$(host_store -q --requisites "$p" | sort)" ] ||
      fail "$label: requisites of $p differ from the host store's"
  done
  pass "$label: -q --hash/--size/--references/--requisites equal the host store's for every path"
}

# graph_of_db DB: "path ref" lines, sorted, of the Refs table (the graph as recorded).
graph_of_db() {
  sqlite3 "$1" 'select a.path || " " || b.path from Refs r join ValidPaths a on a.id = r.referrer join ValidPaths b on b.id = r.reference' | sort
}
# graph_of_json: "path ref" lines, sorted, of a graph as `strata closure --json` prints it (stdin).
graph_of_json() { jq -r '.[] | .path as $p | .references[] | "\($p) \(.)"' | sort; }
