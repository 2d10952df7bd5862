#!/usr/bin/env bash
# The caller's umask does not reach a layer: a runAsRoot build over a base with a store
# bound (strata makes /nix/store as the bind's mount point; the script writes in /nix
# too) and `strata run --layer-out` give byte-identical output under umask 022 and 077,
# as root, strata-sub (subuid range) and strata-nosub (none); what the script makes has
# the modes a umask of 022 gives (before, under 077 every new file was 0600 and every
# dir, strata's own nix/ too, 0700).
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/root_script.sh"
sandbox_need jq cmp tar
sandbox_setup

umask 022
build_base_image
mkdir -p "$WORK/store/0123456789abcdfghijklmnpqrsvwxyz-tool/bin"
echo tool >"$WORK/store/0123456789abcdfghijklmnpqrsvwxyz-tool/bin/tool"
SCRIPT='mkdir -p /srv/made /nix/var/nix/profiles
echo made >/srv/made/file
echo profile >/nix/var/nix/profiles/default
ln -s /srv/made/file /srv/link'
jq -n --arg base "$WORK/base.tar" --arg store "$WORK/store" --arg script "$SCRIPT" \
  '{name: "um", tag: "v1", fromImage: $base, storeDir: $store, runAsRoot: $script}' >"$WORK/um.json"
chmod -R a+rX "$WORK"

cat >"$WORK/expected-layer" <<'EOF'
drwxr-xr-x 0/0 nix/
drwxr-xr-x 0/0 nix/var/
drwxr-xr-x 0/0 nix/var/nix/
drwxr-xr-x 0/0 nix/var/nix/profiles/
-rw-r--r-- 0/0 nix/var/nix/profiles/default
drwxr-xr-x 0/0 srv/
lrwxrwxrwx 0/0 srv/link -> /srv/made/file
drwxr-xr-x 0/0 srv/made/
-rw-r--r-- 0/0 srv/made/file
EOF

new_layer() { # IMAGE OUT: the image's last layer blob
  tar -xOf "$1" "$(tar -xOf "$1" manifest.json | jq -r '.[0].Layers[-1]')" >"$2"
}

for user in $(sandbox_users); do
  d="$WORK/$user"
  mkdir -p "$d/tmp" "$d/store"
  chown -R "$user:" "$d"
  for mask in 022 077; do
    as_user "$user" env TMPDIR="$d/tmp" sh -c "umask $mask && '$SB' build '$WORK/um.json' --layer-store '$d/store' \
      -o '$d/um-$mask.tar' -q"
    as_user "$user" env TMPDIR="$d/tmp" sh -c "umask $mask && '$SB' run '$WORK/base.tar' --layer-store '$d/store' \
      --store-dir '$WORK/store' --layer-out '$d/layer-$mask' -- /bin/sh -e -c '$SCRIPT'"
  done
  new_layer "$d/um-077.tar" "$d/layer-077.tgz"
  layer_listing "$d/layer-077.tgz" >"$d/listing-077"
  check "$user: under umask 077 the runAsRoot layer has the modes of umask 022" \
    diff -u "$WORK/expected-layer" "$d/listing-077"
  check "$user: runAsRoot images are byte-identical under umask 022 and 077" cmp "$d/um-022.tar" "$d/um-077.tar"
  layer_listing "$d/layer-077/layer.tar" >"$d/run-listing-077"
  check "$user: under umask 077 run --layer-out has the modes of umask 022" \
    diff -u "$WORK/expected-layer" "$d/run-listing-077"
  check "$user: run --layer-out's layer.tar is byte-identical under umask 022 and 077" \
    cmp "$d/layer-022/layer.tar" "$d/layer-077/layer.tar"
done
finish
