#!/usr/bin/env python3
"""Forged images for the layer-verification tests.

  forge_image.py OUT FORMAT COMPRESSION GOOD-OCI-DIR LAYER-TAR
      An image whose config is GOOD-OCI-DIR's, byte for byte (so its rootfs.diff_ids claim
      the good image's layers), and whose only layer is LAYER-TAR (an uncompressed tar),
      compressed with COMPRESSION (none, gzip or zstd). Every digest a reader checks
      without unpacking is right: the manifest's layer digest and size are those of the
      stored blob, the config's digest is its own. FORMAT: oci-dir, oci-archive or
      docker-archive.
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

MEDIA = {"none": "application/vnd.oci.image.layer.v1.tar",
         "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
         "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def good_config(oci):
    index = json.load(open(os.path.join(oci, "index.json")))
    digest = index["manifests"][0]["digest"]
    manifest = json.load(open(os.path.join(oci, "blobs/sha256", digest[7:])))
    return open(os.path.join(oci, "blobs/sha256", manifest["config"]["digest"][7:]), "rb").read()


def compress(data, how):
    if how == "none":
        return data
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout
    sys.exit(f"unknown compression {how}")


def write_tar(path, members):
    with tarfile.open(path, "w") as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                t.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o644
                t.addfile(info, io.BytesIO(data))


def main():
    out, fmt, how, good, layer_tar = sys.argv[1:6]
    config = good_config(good)
    blob = compress(open(layer_tar, "rb").read(), how)
    if fmt == "docker-archive":
        layer_name = hashlib.sha256(blob).hexdigest() + "/layer.tar"
        config_name = hashlib.sha256(config).hexdigest() + ".json"
        manifest = [{"Config": config_name, "RepoTags": ["forged:v1"], "Layers": [layer_name]}]
        write_tar(out, [(layer_name.split("/")[0], None), (layer_name, blob), (config_name, config),
                        ("manifest.json", json.dumps(manifest).encode())])
        return
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": MEDIA[how], "digest": sha(blob), "size": len(blob)}],
    }).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest), "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}).encode()
    files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)]
    files += [("blobs/sha256/" + sha(b)[7:], b) for b in (config, blob, manifest)]
    if fmt == "oci-archive":
        write_tar(out, [("blobs", None), ("blobs/sha256", None)] + files)
        return
    for name, data in files:
        os.makedirs(os.path.join(out, os.path.dirname(name)), exist_ok=True)
        open(os.path.join(out, name), "wb").write(data)


if __name__ == "__main__":
    main()
