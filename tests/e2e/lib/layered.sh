# Sourced by the layered_* and registry_* tests (after common.sh): a fake Nix store of
# 16 paths whose files name each other's hashes (so the scanner finds the same graph as
# the closureGraph JSON written beside it), and helpers to read images.
#
# The graph (-> = references; every path's files name exactly these):
#   app-1.0    -> curl-8.1 bash-5.2 libfoo-1.0        (named in config.Cmd)
#   curl-8.1   -> openssl-3.0 zlib-1.3 glibc-2.37     (a diamond: curl -> openssl -> zlib)
#   openssl-3.0-> glibc-2.37 zlib-1.3
#   zlib-1.3   -> glibc-2.37
#   libfoo-1.0 -> glibc-2.37 zlib-1.3
#   bash-5.2   -> glibc-2.37
#   glibc-2.37 -> glibc-2.37 (self-reference only)     (shared at depths 2, 3 and 4)
#   cacert-1   (a plain file, named in config.Env)
#   tool-0.1   -> bash-5.2 chain1                     (a contents entry)
#   chain1 -> chain2 -> chain3                          (a chain; chain3 is a symlink-holding dir)
#   data-1     -> tzdata-2023                          (a contents entry)
#   helper-2   -> glibc-2.37                           (named only by a file in a non-store contents dir)
#   unused-1   -> glibc-2.37                           (in the store and the graph, never in the image)
# Hash letters are chosen so that, inside each group of equal popularity, ascending
# hash order is the reverse of ascending name order: the tie break by name shows.
#
# The store lives in a directory whose path has no '-': nixpkgs' package_name splits a
# path at its first '-', so a '-' in the store dir would make ties fall back to the hash.

# Temp dirs outside $WORK (short, '-'-free paths), removed at exit with $WORK.
EXTRA_TEMPS=()
short_temp() { # prefix; sets REPLY
  REPLY=$(mktemp -d "/tmp/$1XXXXXX")
  chmod 755 "$REPLY"
  EXTRA_TEMPS+=("$REPLY")
}
cleanup_layered() {
  local d
  for d in "${EXTRA_TEMPS[@]}"; do
    chmod -R u+rwX "$d" 2>/dev/null || true
    rm -rf "$d"
  done
  cleanup
}
trap cleanup_layered EXIT

# A 32-character nix-base32 hash of one repeated character.
h() { printf '%032d' 0 | tr 0 "$1"; }

declare -A SP # name -> store path

# make_fake_store: sets STORE (the store dir) and SP[name]; writes $WORK/graph.json.
make_fake_store() {
  short_temp strata
  STORE=$REPLY/store
  mkdir -p "$STORE"
  local spec name letter
  for spec in app:g cacert:f data:d helper:c tool:b tzdata:h libfoo:i curl:j chain1:k openssl:l chain2:m \
    glibc:n zlib:p bash:q chain3:r unused:s; do
    name=${spec%:*} letter=${spec#*:}
    case $name in
      app) SP[$name]=$STORE/$(h "$letter")-app-1.0 ;;
      cacert) SP[$name]=$STORE/$(h "$letter")-cacert-1 ;;
      data) SP[$name]=$STORE/$(h "$letter")-data-1 ;;
      helper) SP[$name]=$STORE/$(h "$letter")-helper-2 ;;
      tool) SP[$name]=$STORE/$(h "$letter")-tool-0.1 ;;
      tzdata) SP[$name]=$STORE/$(h "$letter")-tzdata-2023 ;;
      libfoo) SP[$name]=$STORE/$(h "$letter")-libfoo-1.0 ;;
      curl) SP[$name]=$STORE/$(h "$letter")-curl-8.1 ;;
      openssl) SP[$name]=$STORE/$(h "$letter")-openssl-3.0 ;;
      glibc) SP[$name]=$STORE/$(h "$letter")-glibc-2.37 ;;
      zlib) SP[$name]=$STORE/$(h "$letter")-zlib-1.3 ;;
      bash) SP[$name]=$STORE/$(h "$letter")-bash-5.2 ;;
      *) SP[$name]=$STORE/$(h "$letter")-$name ;;
    esac
  done
  store_path app curl bash libfoo
  store_path curl openssl zlib glibc
  store_path openssl glibc zlib
  store_path zlib glibc
  store_path libfoo glibc zlib
  store_path bash glibc
  store_path glibc glibc
  store_path tool bash chain1
  store_path chain1 chain2
  store_path chain2 chain3
  store_path chain3
  store_path data tzdata
  store_path tzdata
  store_path helper glibc
  store_path unused glibc
  printf 'fake CA bundle\n' >"${SP[cacert]}" # a store path that is a file
  # programs, a symlink, a nested tree, a bigger file
  mkdir -p "${SP[app]}/bin" "${SP[tool]}/bin" "${SP[data]}/share/data/nested" "${SP[chain3]}/lib"
  printf '#!%s/bin/bash\nexec %s/bin/curl "$@"\n' "${SP[bash]}" "${SP[curl]}" >"${SP[app]}/bin/app"
  printf '#!%s/bin/bash\necho tool\n' "${SP[bash]}" >"${SP[tool]}/bin/tool"
  chmod 555 "${SP[app]}/bin/app" "${SP[tool]}/bin/tool"
  printf 'tz: %s\n' "${SP[tzdata]}" >"${SP[data]}/share/data/nested/zones"
  ln -s libchain.so.3 "${SP[chain3]}/lib/libchain.so"
  echo chain3 >"${SP[chain3]}/lib/libchain.so.3"
  head -c 300000 /dev/zero | tr '\0' 'e' >"${SP[glibc]}/lib-big" # 'e' is not in nix-base32: no false reference
  chmod -R a-w "$STORE"/*
  write_graph_json "$WORK/graph.json"
}

# store_path NAME REF...: a directory whose share/refs file names each reference.
store_path() {
  local name=$1 path=${SP[$1]}
  shift
  mkdir -p "$path/share"
  : >"$path/share/refs"
  local r
  for r in "$@"; do printf '%s\n' "${SP[$r]}" >>"$path/share/refs"; done
  GRAPH_REFS[$name]="$*"
}
declare -A GRAPH_REFS
GRAPH_REFS[cacert]=""

write_graph_json() { # file
  local first=1 name r refs
  {
    echo "["
    for name in "${!SP[@]}"; do
      refs=""
      for r in ${GRAPH_REFS[$name]}; do refs+="${refs:+, }\"${SP[$r]}\""; done
      [ $first = 1 ] || echo ","
      first=0
      printf '  {"path": "%s", "references": [%s]}' "${SP[$name]}" "$refs"
    done
    echo
    echo "]"
  } >"$1"
}

# Image reading helpers. docker-archive: archive_layers ARCHIVE prints the layer members in order.
archive_layers() { tar xOf "$1" manifest.json | jq -r '.[0].Layers[]'; }
# archive_layer_list ARCHIVE MEMBER: the layer's entry names, in tar order (any compression).
# (gzip -dcf passes plain tar through)
archive_layer_list() { tar xOf "$1" "$2" | gzip -dcf | tar tf -; }
archive_layer_verbose() { tar xOf "$1" "$2" | gzip -dcf | tar tvf -; }
archive_diff_ids() { tar xOf "$1" "$(tar xOf "$1" manifest.json | jq -r '.[0].Config')" | jq -c .rootfs.diff_ids; }
# oci-dir: the manifest of the only image.
oci_manifest() { cat "$1/blobs/sha256/$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)"; }
oci_layer_blobs() { oci_manifest "$1" | jq -r '.layers[].digest' | cut -d: -f2 | sed "s|^|$1/blobs/sha256/|"; }

# A private podman storage (vfs) in a short temp dir (podman wants a runroot path of at
# most 50 characters); podman_ runs podman against it.
podman_setup() {
  short_temp podman
  PODMAN_DIR=$REPLY
  export CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf
  cat >"$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "vfs"
graphroot = "$PODMAN_DIR/root"
runroot = "$PODMAN_DIR/run"
CONF
}
podman_() { podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/run" --storage-driver vfs "$@"; }
