# Sourced after lib/common.sh: an OCI image whose later layers delete, hide and re-add
# what earlier ones made, for the unpack/export tests.
ROOTFS_TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/rootfs_tools.py"

# make_whiteout_image OCI-DIR TAG
#   layer 1  strata build: busybox root, usr/share/doc/{a,b}, opt/keep, var/lib/gone/x
#   layer 2  .wh. of etc/group, opaque usr/share/doc, home/alice (1000:1000, 0700),
#            a setuid file, a hard link, a symlink, a fifo, a sticky dir
#   layer 3  etc/group back, .wh. of a layer-2 file, of the symlink, of a whole base dir
# Layers 2 and 3 are crafted with python's tarfile and appended with umoci.
make_whiteout_image() {
  local oci=$1 tag=$2 src="$WORK/whiteout-src"
  need python3 umoci
  mkdir -p "$src/root"
  make_busybox_root "$src/root"
  mkdir -p "$src/root/usr/share/doc" "$src/root/opt" "$src/root/var/lib/gone"
  echo a >"$src/root/usr/share/doc/a"
  echo b >"$src/root/usr/share/doc/b"
  echo keep >"$src/root/opt/keep"
  echo x >"$src/root/var/lib/gone/x"
  "$STRATA" build --name whiteouts --tag "$tag" --copy-to-root "$src/root" --format oci-dir -o "$oci" -q
  python3 "$ROOTFS_TOOLS" make-layers "$src"
  umoci raw add-layer --image "$oci:$tag" "$src/layer2.tar"
  umoci raw add-layer --image "$oci:$tag" "$src/layer3.tar"
}
