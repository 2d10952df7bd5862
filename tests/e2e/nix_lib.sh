#!/usr/bin/env bash
# nix/default.nix, dockerTools backed by strata, built by nix-build as a Nix user would:
# Debian's nix-bin, a chroot store under a temp root, `sandbox = true`, no nixpkgs (only
# Nix builtins: `import ./nix { strata = …; tools = [ busybox ]; }`, builders run by the
# sandbox's /bin/sh = busybox). Each output read by real clients:
#  - buildImage with copyToRoot and config: skopeo + umoci see the files, `podman load`
#    loads it, its store paths are exactly Nix's closure (exportReferencesGraph given to
#    strata as closureGraph); compressor gz/zstd name and compress it as dockerTools';
#  - pullImage from a local docker-registry (a fixed-output derivation);
#  - buildLayeredImage with maxLayers, and with a layeringPipeline passed through;
#  - streamLayeredImage: its program run by a derivation capturing its stdout (read by
#    skopeo), and piped straight into `podman load` outside Nix;
#  - buildImageWithNixDb: the unpacked image's DB passes nix-store --verify --check-contents;
#  - mkPureLayer; mergeImages of two images: `podman load` loads both tags, skopeo reads
#    each, and the merge is compressed as its last image is (zstd after a .tar.zst);
#  - imageName/imageTag with nix-instantiate --eval: tag = null gives the output's hash,
#    which is the image's tag; the spec strata got;
#  - an unknown argument is an evaluation error naming it; diskSize/buildVMMemorySize are
#    accepted; no derivation asks for kvm.
# Root scripts in Nix (runAsRoot, fakeRootCommands, exportImage): tests/e2e/nix_lib_root.sh.
source "$STRATA_TESTS/e2e/lib/nix-lib.sh"
source "$STRATA_TESTS/e2e/lib/registry.sh"
trap "stop_registry; ${KEEP_TMP:+: }nix_sandbox_cleanup; ${KEEP_TMP:+: }sandbox_cleanup" EXIT

# 1. buildImage (copyToRoot, config); compressor gz (the default) and zstd, named and
# compressed as dockerTools does.
check "buildImage in Nix (copyToRoot, config)" build plain
plain=$built
check "skopeo and umoci read it" unpacked "$plain" "$WORK/plain"
check "copyToRoot: /bin/hello runs in the rootfs" hello_runs "$WORK/plain/rootfs"
check "the image's store paths are Nix's closure of copyToRoot (busybox, greeting, hello), nothing else" \
  test "$(store_names "$WORK/plain")" = "busybox greeting hello "
check "podman load loads it as localhost/plain:1" podman_load "$plain" localhost/plain:1
check "buildImage, compressor gz (default)" build plainGz
check "compressor gz: docker-image-plain.tar.gz" is_named "$built" docker-image-plain.tar.gz
gunzipped_is() { [ -n "$1" ] && gzip -dc "$1" | cmp -s - "$2"; }
check "compressor gz: the compressor-none archive gzip'd, byte for byte" gunzipped_is "$built" "$plain"
check "buildImage, compressor zstd" build plainZstd
check "compressor zstd: docker-image-plain.tar.zst" is_named "$built" docker-image-plain.tar.zst
skopeo_reads() { skopeo inspect -n "docker-archive:$1" >/dev/null; }
check "compressor zstd: skopeo reads it as it is" skopeo_reads "$built"

# pullImage: a fixed-output derivation running strata pull, from a local docker-registry
# holding the image above; its hash is that of the same pull outside Nix.
pulled_ok() {
  start_registry || return 1
  "$SB" push "$plain" "docker://$REGISTRY/plain:1" --tls-verify false -q || return 1
  local digest hash out
  digest=$(skopeo inspect --tls-verify=false "docker://$REGISTRY/plain:1" | jq -r .Digest) || return 1
  "$SB" pull --image-name "$REGISTRY/plain" --image-digest "$digest" --final-image-name pulled \
    --final-image-tag 2 --tls-verify false -o "$WORK/pulled-outside.tar" -q || return 1
  hash=$(nix-hash --type sha256 --flat --base32 "$WORK/pulled-outside.tar")
  cat >"$nix/pulled.nix" <<EOF
(import $nix/images.nix).dockerTools.pullImage {
  imageName = "$REGISTRY/plain"; imageDigest = "$digest"; sha256 = "$hash";
  finalImageName = "pulled"; finalImageTag = "2"; tlsVerify = false;
}
EOF
  out=$(nix_sandbox_build "$nix/pulled.nix") || { sed 's/^/  nix: /' "$NIX_SANDBOX_LOG" | tail -n 20; return 1; }
  is_named "$out" docker-image-pulled-2.tar &&
    [ "$(tar -xOf "$out" manifest.json | jq -r '.[0].RepoTags[0]')" = pulled:2 ] &&
    [ "$(skopeo inspect "docker-archive:$out" | jq -c .Layers)" = "$(skopeo inspect "docker-archive:$plain" | jq -c .Layers)" ]
}
check "pullImage in Nix: docker-image-pulled-2.tar, tagged pulled:2, the pushed image's layers" pulled_ok

# 2. buildLayeredImage with maxLayers; layeringPipeline passed through.
check "buildLayeredImage with maxLayers = 2, compressor zstd" build layered
layered=$built
check "buildLayeredImage: named layered.tar.zst" is_named "$layered" layered.tar.zst
check "maxLayers = 2: skopeo sees 2 layers" test "$(layer_count "$layered")" = 2
check "skopeo and umoci read it" unpacked "$layered" "$WORK/layered"
check "its store paths: Nix's closure of contents" test "$(store_names "$WORK/layered")" = "busybox greeting hello "
check "contents' bin/hello is linked into the root and runs" hello_runs "$WORK/layered/rootfs"
check "buildLayeredImage with a layeringPipeline" build pipelined
check "layeringPipeline limit_layers 1: one store layer and the customisation layer" test "$(layer_count "$built")" = 2

# 3. streamLayeredImage: a program, run by a derivation capturing its stdout.
check "streamLayeredImage in Nix" build stream
stream=$built
check "its output is an executable" test -x "$stream"
check "a derivation running it captures the image" build streamed
streamed=$built
check "skopeo and umoci read the streamed image" unpacked "$streamed" "$WORK/streamed"
check "the streamed image's store paths: Nix's closure of contents" test "$(store_names "$WORK/streamed")" = "busybox greeting hello "
stream_tag=$(eval_json 'stream.imageTag' | jq -r .)
check "streamLayeredImage with tag = null: the tag is the conf's hash, as dockerTools'" \
  test "$stream_tag" = "$(eval_json 'stream.conf.outPath' | jq -r . | sed 's|.*/||; s|-.*||')"
# `$(nix-build -A stream) | podman load`, outside Nix on the same store paths.
stream_to_podman() {
  mkdir -p "$WORK/outside"
  nix_sandbox_outside root env XDG_CACHE_HOME="$WORK/outside/cache" TMPDIR="$WORK/outside" \
    sh -c '"$1" 2>/dev/null' sh "$STORE_DIR/${stream##*/}" | podman_load "" "localhost/streamed:$stream_tag"
}
check "the stream program piped to podman load, outside Nix: loads localhost/streamed:TAG" stream_to_podman

# 4. buildImageWithNixDb, buildLayeredImageWithNixDb: the DB in the image passes
# nix-store --verify --check-contents.
# nix-bin 2.8 with root=R reads the store's files in R/nix/store whatever the logical store
# dir (tests/e2e/lib/nix-sandbox.sh): the image's store paths move there.
db_nix() { env NIX_STORE_DIR="$STORE_DIR" NIX_CONF_DIR="$nix/conf" nix-store --store "local?root=$db" "$@"; }
db_paths() { (cd "$db/nix/store" && for p in *; do echo "$STORE_DIR/$p"; done); }
db_valid() {
  mkdir -p "$db/nix/store" && mv "$db$STORE_DIR"/* "$db/nix/store/" && [ "$(db_paths | wc -l)" = 3 ] &&
    db_nix --check-validity $(db_paths)
}
hello_refs() { db_nix -q --references $(db_paths | grep -- '-hello$') | sed 's|.*/[a-z0-9]*-||' | sort | tr '\n' ' '; }
verified() { db_nix --verify --check-contents >"$WORK/verify.out" 2>&1 && ! grep -q "disappeared\|modified\|invalid" "$WORK/verify.out"; }
for attr in withNixDb layeredWithNixDb; do
  check "$attr in Nix" build $attr
  check "$attr: skopeo and umoci read it" unpacked "$built" "$WORK/$attr"
  db=$WORK/$attr/rootfs
  check "$attr: the image's DB holds its three store paths as valid" db_valid
  check "$attr: the DB knows hello's references (busybox, greeting)" test "$(hello_refs)" = "busybox greeting "
  check "$attr: nix-store --verify --check-contents passes on the unpacked image" verified
done

# 5. mkPureLayer: a dir with layer.tar, json, VERSION.
check "mkPureLayer in Nix" build pureLayer
pure=$built
check "mkPureLayer: layer.tar, json (with baseJson's config), VERSION; layer.tar holds bin/hello" sh -c \
  "[ \"\$(ls '$pure' | tr '\n' ' ')\" = 'VERSION json layer.tar ' ] && [ \"\$(jq -c .config.Cmd '$pure/json')\" = '[\"/bin/hello\"]' ] &&
   tar -tf '$pure/layer.tar' | grep -E '^\.?/?bin/hello$' >/dev/null"
# 6. mergeImages (strata merge): one docker-archive holding both images.
untagged_tag=$(eval_json untagged.imageTag | jq -r .)
check "mergeImages in Nix" build merged
merged=$built
check "mergeImages: named merge-docker-images" is_named "$merged" merge-docker-images
check "mergeImages: manifest.json lists plain:1 and untagged:HASH" \
  test "$(tar -xOf "$merged" manifest.json | jq -c '[.[].RepoTags[]]')" = "[\"plain:1\",\"untagged:$untagged_tag\"]"
check "mergeImages: podman load loads plain:1" podman_load "$merged" localhost/plain:1
check "mergeImages: … and untagged:HASH" grep -qF "localhost/untagged:$untagged_tag" "$WORK/podman.out"
skopeo_reads_tag() { skopeo inspect -n "docker-archive:$1:$2" >/dev/null; }
check "mergeImages: skopeo reads untagged:HASH out of it" skopeo_reads_tag "$merged" "untagged:$untagged_tag"
check "mergeImages: the one layer both list (the same copyToRoot) is stored once" \
  test "$(tar -tf "$merged" | grep -c '/layer.tar$'):$(tar -xOf "$merged" manifest.json | jq '[.[].Layers[]] | length')" = 1:2
check "mergeImages of [ plain plainZstd ]" build mergedZstd
check "… is zstd-compressed as its last image is (dockerTools'), the same image listed once" \
  sh -c "m=\$(zstd -dc '$built' | tar -xOf - manifest.json) && jq -e '[.[].RepoTags] == [[\"plain:1\"]]' <<EOF >/dev/null
\$m
EOF"
check "mergeImages of a non-list is an evaluation error" eval_fails mergedNotList.drvPath "takes a list of images"

# 9. imageName, imageTag, spec; tag = null is the output's hash, the image's tag.
check "imageName is lowercased, imageTag as given" test "$(eval_json '[ image.imageName image.imageTag image.spec.tag ]')" = '["hello","v1","v1"]'
check "buildImage with tag = null" build untagged
untagged_tag=$(eval_json untagged.imageTag | jq -r .)
check "tag = null: imageTag is the output's hash part" test "$untagged_tag" = "$(basename "$built" | cut -d- -f1)"
check "… and the image's RepoTags say untagged:HASH" \
  test "$(tar -xOf "$built" manifest.json | jq -r '.[0].RepoTags[0]')" = "untagged:$untagged_tag"
check "passthru spec: what strata got (copyToRoot, closureGraph, storeDir)" \
  test "$(eval_json '[ (baseNameOf image.spec.copyToRoot) image.spec.closureGraph image.spec.storeDir ]' | jq -c '.[1:]')" = "[\"closure-graph\",\"$STORE_DIR\"]"

# 10. Argument errors; no kvm.
check "an unknown argument is an evaluation error naming it" eval_fails unknownArg.drvPath "unknown arguments 'bogusArg', 'runAsRoots'"
check "… for streamLayeredImage too" eval_fails unknownLayered.drvPath "streamLayeredImage: unknown arguments 'compressor', 'maxLayer'"
check "a missing name is an evaluation error naming it" eval_fails missingName.drvPath "buildLayeredImage: missing argument 'name'"
check "an unknown compressor is an evaluation error naming it" eval_fails badCompressor.drvPath "compressor 'bzip2' is not one of"
check "no derivation asks for kvm" test "$(eval_json 'map (d: d.drvAttrs.requiredSystemFeatures or [ ]) [ image layered stream withNixDb rootLayer ]')" = "[[],[],[],[],[]]"
parses() { local f; for f in "$STRATA_SRC"/nix/*.nix; do nix-instantiate --parse "$f" >/dev/null 2>"$WORK/parse.err" || { cat "$WORK/parse.err"; return 1; }; done; }
check "nix/*.nix parse (package.nix, for nixpkgs, cannot be built here)" parses
[ -n "${KEEP_TMP:-}" ] || nix_sandbox_cleanup
finish
