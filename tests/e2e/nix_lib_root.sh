#!/usr/bin/env bash
# nix/default.nix's root scripts inside Nix's build sandbox (see tests/e2e/nix_lib.sh for
# the setup; these need strata to run its sandbox in Nix's, issue 11):
#  - buildImage with copyToRoot, config and a runAsRoot using shadowSetup and chown:
#    skopeo + umoci see the files, the owner, the accounts; `podman load` loads it;
#  - buildImage with fromImage and runAsRoot (the script over the base's layers);
#  - streamLayeredImage with fakeRootCommands, its program run in Nix;
#  - exportImage (the rootfs of an image unpacked in Nix);
#  - mkRootLayer.
source "$STRATA_TESTS/e2e/lib/nix-lib.sh"

# 1. buildImage: copyToRoot, config, runAsRoot with shadowSetup and chown.
check "buildImage in Nix (copyToRoot, config, runAsRoot with shadowSetup and chown)" build image
image=$built
check "compressor none: the output is docker-image-Hello.tar" is_named "$image" docker-image-Hello.tar
check "skopeo and umoci read it" unpacked "$image" "$WORK/image"
root=$WORK/image/rootfs
check "copyToRoot: /bin/hello runs in the rootfs, finding greeting by its store path" hello_runs "$root"
accounts() {
  grep -q '^root:x:0:0:' "$1/etc/passwd" && grep -q '^app:x:1000:1000:' "$1/etc/passwd" &&
    [ -e "$1/etc/shadow" ] && [ -e "$1/etc/login.defs" ]
}
check "runAsRoot: shadowSetup's files and the script's account are in /etc" accounts "$root"
check "runAsRoot: chown app:app /data is kept (1000:1000)" owned "$root/data" 1000:1000
config_ok() {
  local c
  c=$(config_of "$1") && [ "$(jq -c .config.Cmd <<<"$c")" = '["/bin/hello"]' ] &&
    jq -e '.config.Env | any(startswith("GREETING='"$STORE_DIR"'/"))' <<<"$c" >/dev/null &&
    [ "$(jq -r .architecture <<<"$c")" = amd64 ] && [ "$(jq -r .created <<<"$c")" = 1970-01-01T00:00:01Z ]
}
check "config: Cmd and Env as given; architecture of this system; created 1970-01-01T00:00:01Z" config_ok "$image"
check "the image's store paths are Nix's closure of copyToRoot (busybox, greeting, hello), nothing else" \
  test "$(store_names "$WORK/image")" = "busybox greeting hello "
check "podman load loads it as localhost/hello:v1" podman_load "$image" localhost/hello:v1

# 2. fromImage + runAsRoot: the script sees the base's files (the app account, /data).
check "buildImage with fromImage and runAsRoot in Nix" build overBase
check "skopeo and umoci read it" unpacked "$built" "$WORK/over"
check "runAsRoot over the base: /data/over owned by app (1000), base layer kept" sh -c \
  "[ \"\$(cat '$WORK/over/rootfs/data/over')\" = over ] && [ \"\$(stat -c %u '$WORK/over/rootfs/data/over')\" = 1000 ] &&
   [ \"\$(skopeo inspect 'docker-archive:$built' | jq -c '.Layers[0]')\" = \"\$(skopeo inspect 'docker-archive:$image' | jq -c '.Layers[0]')\" ]"

# 3. streamLayeredImage with fakeRootCommands (run when the program runs, here in Nix).
check "a derivation running streamLayeredImage's program with fakeRootCommands" build streamedRoot
check "skopeo and umoci read it" unpacked "$built" "$WORK/streamed-root"
check "fakeRootCommands' chown is kept (var/empty owned by 1000)" owned "$WORK/streamed-root/rootfs/var/empty" 1000:0

# 4. exportImage: the image's rootfs as one tar.
check "exportImage in Nix" build exported
exported_ok() {
  tar -tvf "$1" --numeric-owner >"$WORK/exported.list" &&
    grep -qE ' 0/0 .* \./bin/hello$' "$WORK/exported.list" &&
    grep -qE " 0/0 .* \\./${STORE_DIR#/}/[a-z0-9]+-greeting/share/greeting\$" "$WORK/exported.list" &&
    grep -qE ' 1000/1000 .* \./data/$' "$WORK/exported.list"
}
check "exportImage: the rootfs as one tar (bin/hello, greeting's store path; data owned 1000/1000)" exported_ok "$built"
# dockerTools' exportImage is `tar -C root -cf $out .`: "./" first, then "./bin/", "./bin/hello"...
dot_named() { [ "$(tar -tf "$1" | sed -n 1p)" = ./ ] && ! tar -tf "$1" | grep -v '^\./' >/dev/null; }
check "exportImage: entries named as dockerTools' (./ first, every name under ./)" dot_named "$built"

# 5. mkRootLayer: runAsRoot in the layer.
check "mkRootLayer in Nix (runAsRoot)" build rootLayer
rooted=$built
check "mkRootLayer: runAsRoot's chown 1000:1000 /srv is in layer.tar" sh -c \
  "tar -tvf '$rooted/layer.tar' --numeric-owner | grep -E ' 1000/1000 .* \.?/?srv/?$' >/dev/null"

[ -n "${KEEP_TMP:-}" ] || nix_sandbox_cleanup
finish
