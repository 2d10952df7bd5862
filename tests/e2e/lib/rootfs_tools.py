#!/usr/bin/env python3
"""Helpers for the unpack/export/layer end-to-end tests.

  make-layers DIR            writes DIR/layer2.tar and DIR/layer3.tar: layers with
                             whiteouts, an opaque dir, owners, setuid, links, a fifo
  tree-listing DIR UID GID   one line per entry of an unpacked rootfs, as the image sees it:
                             owners/modes from user.containers.override_stat (strata) or
                             user.rootlesscontainers (umoci); on-disk ids UID:GID are root
  tar-listing TAR            the same lines for a tar (a flattened rootfs export)
  tarsum TAR                 Docker's tarsum.v1+sha256 of TAR, from its raw blocks
  tarsum-selftest            checks `tarsum` against moby's published test vectors
"""
import hashlib
import io
import os
import stat
import sys
import tarfile


# ---- layers -----------------------------------------------------------------

def _add(t, name, kind="f", data=b"", mode=0o644, uid=0, gid=0, link=""):
    info = tarfile.TarInfo(name)
    info.mtime = 1000000
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.uname = "root" if uid == 0 else ""
    info.gname = "root" if gid == 0 else ""
    if kind == "f":
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
        return
    info.type = {"d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE, "h": tarfile.LNKTYPE, "p": tarfile.FIFOTYPE}[kind]
    info.linkname = link
    t.addfile(info)


def make_layers(out):
    with tarfile.open(os.path.join(out, "layer2.tar"), "w", format=tarfile.PAX_FORMAT) as t:
        _add(t, "bin", "d", mode=0o755)
        _add(t, "bin/su-like", data=b"#!/bin/sh\necho su\n", mode=0o4755)
        _add(t, "etc", "d", mode=0o755)
        _add(t, "etc/.wh.group")                                # a base file removed
        _add(t, "home", "d", mode=0o755)
        _add(t, "home/alice", "d", mode=0o700, uid=1000, gid=1000)
        _add(t, "home/alice/notes", data=b"secret notes\n", mode=0o640, uid=1000, gid=1000)
        _add(t, "home/alice/plan", data=b"plan\n", mode=0o600, uid=1000, gid=1000)
        _add(t, "opt", "d", mode=0o755)
        _add(t, "opt/keep", data=b"kept, changed in layer 2\n", mode=0o644)
        _add(t, "opt/hard", "h", link="opt/keep")
        _add(t, "opt/link", "l", link="keep", mode=0o777)
        _add(t, "srv", "d", mode=0o755)
        _add(t, "srv/fifo", "p", mode=0o600)
        _add(t, "usr", "d", mode=0o755)
        _add(t, "usr/share", "d", mode=0o755)
        _add(t, "usr/share/doc", "d", mode=0o755)
        _add(t, "usr/share/doc/.wh..wh..opq")                   # the base's docs hidden
        _add(t, "usr/share/doc/new", data=b"new doc\n")
        _add(t, "var", "d", mode=0o755)
        _add(t, "var/tmp", "d", mode=0o1777)
    with tarfile.open(os.path.join(out, "layer3.tar"), "w", format=tarfile.PAX_FORMAT) as t:
        _add(t, "etc", "d", mode=0o755)
        _add(t, "etc/group", data=b"root:x:0:\nalice:x:1000:\n")  # back, new content
        _add(t, "home", "d", mode=0o755)
        _add(t, "home/alice", "d", mode=0o700, uid=1000, gid=1000)
        _add(t, "home/alice/.wh.notes")                        # a layer-2 file removed
        _add(t, "opt", "d", mode=0o755)
        _add(t, "opt/.wh.link")
        _add(t, "var", "d", mode=0o755)
        _add(t, "var/lib", "d", mode=0o755)
        _add(t, "var/lib/.wh.gone")                            # a whole base dir removed


# ---- listings ---------------------------------------------------------------

def _xattr(path, name):
    try:
        return os.getxattr(path, name, follow_symlinks=False)
    except OSError:
        return None


def _varints(data):
    """Decodes umoci's user.rootlesscontainers protobuf: field 1 uid, 2 gid."""
    fields, i = {}, 0
    while i < len(data):
        key, shift, value = data[i], 0, 0
        i += 1
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        fields[key >> 3] = value
    return fields


_TYPES = {"file": "f", "dir": "d", "symlink": "l", "pipe": "p", "socket": "s"}


def _line(path, kind, mode, uid, gid, extra):
    return f"{path} {kind} {mode:04o} {uid}:{gid} {extra}"


def tree_listing(root, host_uid, host_gid):
    lines = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            kind = {stat.S_IFREG: "f", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFIFO: "p",
                    stat.S_IFCHR: "c", stat.S_IFBLK: "b"}.get(stat.S_IFMT(st.st_mode), "?")
            uid = 0 if st.st_uid == host_uid else st.st_uid
            gid = 0 if st.st_gid == host_gid else st.st_gid
            mode = stat.S_IMODE(st.st_mode)
            rootless = _xattr(full, "user.rootlesscontainers")
            if rootless is not None:
                f = _varints(rootless)
                uid, gid = f.get(1, 0), f.get(2, 0)
            override = _xattr(full, "user.containers.override_stat")
            if override is not None:
                parts = override.decode().split(":")
                uid, gid, mode = int(parts[0]), int(parts[1]), int(parts[2], 8) & 0o7777
                if len(parts) > 3:
                    kind = _TYPES.get(parts[3], parts[3][0])
            if kind == "f":
                with open(full, "rb") as fh:
                    extra = hashlib.sha256(fh.read()).hexdigest()[:16]
            elif kind == "l":
                extra = "-> " + os.readlink(full)
            else:
                extra = "-"
            lines.append(_line(rel, kind, mode, uid, gid, extra))
    return sorted(lines)


def tar_listing(path):
    lines, contents = [], {}
    with tarfile.open(path) as t:
        for m in t.getmembers():
            name = m.name[2:] if m.name.startswith("./") else m.name
            name = name.rstrip("/")
            if name in ("", "."):
                continue
            if m.isfile():
                data = t.extractfile(m).read()
                contents[name] = data
                kind, extra = "f", hashlib.sha256(data).hexdigest()[:16]
            elif m.islnk():
                target = m.linkname[2:] if m.linkname.startswith("./") else m.linkname
                kind, extra = "f", hashlib.sha256(contents[target]).hexdigest()[:16]
            elif m.issym():
                kind, extra = "l", "-> " + m.linkname
            else:
                kind = "d" if m.isdir() else "p" if m.isfifo() else "c" if m.ischr() else "b" if m.isblk() else "?"
                extra = "-"
            lines.append(_line(name, kind, m.mode & 0o7777, m.uid, m.gid, extra))
    return sorted(lines)


# ---- tarsum -----------------------------------------------------------------

def _num(field):
    if field[0] & 0x80:
        return int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
    text = field.replace(b"\0", b" ").strip()
    return int(text, 8) if text else 0


def _str(field):
    return field.split(b"\0", 1)[0]


def _member_sum(h, xattrs, data):
    fields = [(b"name", h["name"]), (b"mode", b"%d" % h["mode"]), (b"uid", b"%d" % h["uid"]),
              (b"gid", b"%d" % h["gid"]), (b"size", b"%d" % h["size"]), (b"typeflag", h["typeflag"]),
              (b"linkname", h["linkname"]), (b"uname", h["uname"]), (b"gname", h["gname"]),
              (b"devmajor", b"%d" % h["devmajor"]), (b"devminor", b"%d" % h["devminor"])]
    for key in sorted(xattrs):
        if key == b"security.capability" or not (key.startswith(b"security.") or key.startswith(b"system.")):
            fields.append((key, xattrs[key]))
    return hashlib.sha256(b"".join(k + v for k, v in fields) + data).hexdigest()


def _final(sums):
    return "tarsum.v1+sha256:" + hashlib.sha256("".join(sorted(sums)).encode()).hexdigest()


def tarsum(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    pos, pax, sums = 0, {}, []
    while pos + 512 <= len(raw):
        block = raw[pos:pos + 512]
        pos += 512
        if block == b"\0" * 512:
            break
        typeflag = block[156:157]
        size = _num(block[124:136])
        data = raw[pos:pos + size]
        padded = (size + 511) // 512 * 512
        if typeflag == b"x":
            pax, rest = {}, data
            while rest:
                length = int(rest.split(b" ", 1)[0])
                record, rest = rest[:length], rest[length:]
                key, value = record.split(b" ", 1)[1][:-1].split(b"=", 1)
                pax[key] = value
            pos += padded
            continue
        h = {"name": _str(block[0:100]), "mode": _num(block[100:108]), "uid": _num(block[108:116]),
             "gid": _num(block[116:124]), "size": size, "typeflag": typeflag, "linkname": _str(block[157:257]),
             "uname": _str(block[265:297]), "gname": _str(block[297:329]),
             "devmajor": _num(block[329:337]), "devminor": _num(block[337:345])}
        if block[257:263] == b"ustar\0" and _str(block[345:500]):
            h["name"] = _str(block[345:500]) + b"/" + h["name"]
        for key, field in ((b"path", "name"), (b"linkpath", "linkname"), (b"uname", "uname"), (b"gname", "gname")):
            if key in pax:
                h[field] = pax[key]
        for key, field in ((b"uid", "uid"), (b"gid", "gid"), (b"size", "size")):
            if key in pax:
                h[field] = int(pax[key])
        xattrs = {k[len(b"SCHILY.xattr."):]: v for k, v in pax.items() if k.startswith(b"SCHILY.xattr.")}
        size = h["size"]
        has_data = typeflag not in (b"1", b"2", b"3", b"4", b"5", b"6")
        data = raw[pos:pos + size] if has_data else b""
        if has_data:
            pos += (size + 511) // 512 * 512
        sums.append(_member_sum(h, xattrs, data))
        pax = {}
    return _final(sums)


def tarsum_selftest():
    """moby pkg/tarsum's header test vectors (Version1)."""
    base = {"mode": 0, "uid": 0, "gid": 0, "typeflag": b"0", "linkname": b"", "uname": b"", "gname": b"",
            "devmajor": 0, "devminor": 0}
    cases = [
        (dict(base, name=b"file.txt", size=0), {}, b"",
         "tarsum.v1+sha256:6ffd43a1573a9913325b4918e124ee982a99c0f3cba90fc032a65f5e20bdd465"),
        (dict(base, name=b"another.txt", uid=1000, gid=1000, uname=b"slartibartfast", gname=b"users", size=4), {},
         b"test", "tarsum.v1+sha256:b38166c059e11fb77bef30bf16fba7584446e80fcc156ff46d47e36c5305d8ef"),
        (dict(base, name=b"xattrs.txt", uid=1000, gid=1000, uname=b"slartibartfast", gname=b"users", size=4),
         {b"user.key1": b"value1", b"user.key2": b"value2"}, b"test",
         "tarsum.v1+sha256:4cc2e71ac5d31833ab2be9b4f7842a14ce595ec96a37af4ed08f87bc374228cd"),
        (dict(base, name=b"xattrs.txt", uid=1000, gid=1000, uname=b"slartibartfast", gname=b"users", size=4),
         {b"user.KEY1": b"value1", b"user.key2": b"value2"}, b"test",
         "tarsum.v1+sha256:65f4284fa32c0d4112dd93c3637697805866415b570587e4fd266af241503760"),
    ]
    for header, xattrs, data, want in cases:
        got = _final([_member_sum(header, xattrs, data)])
        if got != want:
            sys.exit(f"tarsum self-test failed for {header['name']!r}: {got} != {want}")
    print(f"tarsum self-test: {len(cases)} moby vectors match")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make-layers":
        make_layers(args[0])
    elif cmd == "tree-listing":
        print("\n".join(tree_listing(args[0], int(args[1]), int(args[2]))))
    elif cmd == "tar-listing":
        print("\n".join(tar_listing(args[0])))
    elif cmd == "tarsum":
        print(tarsum(args[0]))
    elif cmd == "tarsum-selftest":
        tarsum_selftest()
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
