#!/usr/bin/env bash
# strata inside Nix's build sandbox (issue 11): Debian's nix-bin with a chroot store under
# a temp root, `sandbox = true` and the default `filter-syscalls`; each derivation's
# builder is busybox's sh with PATH = the busybox store path only, calling strata (put in
# the store with its glibc: tests/e2e/lib/nix-sandbox.sh). As root, strata-sub and
# strata-nosub, each with a Nix of its own:
#  - build with copyToRoot: skopeo and umoci read the image; the files are there;
#  - layered with a copyToRoot tree the build made (copied natively, no cp): hard link,
#    symlink and modes in the layer;
#  - runAsRoot chowning a dir and a file on an image without a shell (the toolbox's);
#  - fromImage (a base of umoci's) + runAsRoot: a whiteout, an opaque dir, a passwd line,
#    a chowned home, a file added to a base dir of uid 1005 (its owner kept on copy-up);
#  - layered with fakeRootCommands chown;
#  - a base file with a file capability chmod'ed by the script keeps its xattrs;
#  - perms giving 4755 to a file of a copyToRoot package (and a rule in nix2container's
#    form: a regex over the source path, orMode); a script's chmod u+s: the bit
#    in the layer outside Nix, a failed build whose message names perms inside;
#  - export of the base (exportImage): its owners, dockerTools' names;
#  - runAsRoot leaving files the caller cannot read (chown 5:5 + chmod 600, 0000 files, a
#    0000 dir): owners, modes and contents in the layer;
#  - unpack of the base: the owners the disk cannot hold in DIR.owners;
#  - a chown of a base file the script changes nothing else of; owners through mv; a
#    hard-linked base file of uid 1005 written to keeps its owner;
#  owners kept in owner tables (no user xattrs in Nix: --json says `table`), caches under
#  the build dir (HOME=/homeless-shelter);
# and every spec built outside Nix, by the same user on the same store paths, gives the
# same layers (diff_ids) as inside.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/nix-sandbox.sh"
sandbox_need skopeo umoci jq tar unshare
sandbox_setup
trap "${KEEP_TMP:+: }nix_sandbox_cleanup; ${KEEP_TMP:+: }sandbox_cleanup" EXIT # KEEP_TMP=1 keeps $WORK to debug a failure

# The store's logical dir: an empty dir here, so that strata outside Nix can see the
# same paths at the same names (nix_sandbox_outside binds the store's files there).
STORE_DIR=$WORK/s
mkdir -p "$STORE_DIR"

# A package: an executable, a symlink, a hard link (two files in the store: a store path
# is its NAR), a sparse file.
pkg_src=$WORK/hello-src
mkdir -p "$pkg_src/bin" "$pkg_src/share/doc"
printf '#!/bin/sh\necho hello\n' >"$pkg_src/bin/hello"
chmod 755 "$pkg_src/bin/hello"
ln -s hello "$pkg_src/bin/hi"
ln "$pkg_src/bin/hello" "$pkg_src/bin/hello-again"
truncate -s 3M "$pkg_src/share/sparse" && printf 'end' >>"$pkg_src/share/sparse"
echo doc >"$pkg_src/share/doc/README"

# (Modes let others read: strata as a subuid user cannot yet read back a file its script
# made unreadable to it, outside Nix; that is issue 13's.)
# A base made by another tool (umoci, as root: real owners): a file to remove, a dir to
# replace, a passwd to add to, a dir of uid 1005 the script adds to (copied up).
base_root=$WORK/base-root
mkdir -p "$base_root/etc" "$base_root/old" "$base_root/dir" "$base_root/srv"
echo 'root:x:0:0:root:/root:/bin/sh' >"$base_root/etc/passwd"
echo gone >"$base_root/old/file"
echo a >"$base_root/dir/a"
echo b >"$base_root/dir/b"
# A file with a file capability (cap_net_raw+ep) and a user xattr, as ping has.
mkdir -p "$base_root/bin" && echo ping >"$base_root/bin/ping" && chmod 755 "$base_root/bin/ping"
python3 -c 'import os, sys
os.setxattr(sys.argv[1], "security.capability", bytes.fromhex("0100000200200000000000000000000000000000"))
os.setxattr(sys.argv[1], "user.note", b"hi")' "$base_root/bin/ping"
echo h >"$base_root/srv/h1" && ln "$base_root/srv/h1" "$base_root/srv/h2" && chmod 640 "$base_root/srv/h1"
chown -R 1005:1006 "$base_root/srv" && chmod 705 "$base_root/srv"
umoci init --layout "$WORK/base.oci" >/dev/null
umoci new --image "$WORK/base.oci:base" >/dev/null
umoci insert --image "$WORK/base.oci:base" "$base_root" / >/dev/null
skopeo copy -q "oci:$WORK/base.oci:base" "docker-archive:$WORK/base.tar:base:1"

# layers IMAGE: the image's diff_ids, one a line.
layers() { local json; json=$("$SB" inspect "$1") && jq -r '.layers[].diff_id' <<<"$json"; }
# unpacked IMAGE DIR: skopeo copies the docker-archive to OCI, umoci unpacks it (as root:
# real owners) into DIR/rootfs.
unpacked() {
  rm -rf "$2" "$2.oci"
  skopeo copy -q "docker-archive:$1" "oci:$2.oci:img" && umoci unpack --image "$2.oci:img" "$2" >/dev/null 2>&1
}

# last_layer_listing IMAGE: "MODE NAME[ -> TARGET| link to TARGET]" of its last layer.
last_layer_listing() {
  [ -n "$1" ] || return 0
  tar -xOf "$1" "$(tar -xOf "$1" manifest.json | jq -r '.[0].Layers[-1]')" | tar -tvzf - |
    awk '{ line = $1; for (i = 6; i <= NF; i++) line = line " " $i; print line }'
}

# last_layer_owners IMAGE: "MODE UID/GID NAME" of its last layer.
last_layer_owners() {
  [ -n "$1" ] || return 0
  tar -xOf "$1" "$(tar -xOf "$1" manifest.json | jq -r '.[0].Layers[-1]')" | tar -tvzf - --numeric-owner |
    awk '{ name = $6; sub(/\/$/, "", name); print $1, $2, name }'
}

# last_layer_xattrs IMAGE PATH: "NAME=HEX-VALUE …" of PATH's pax xattrs in its last layer.
last_layer_xattrs() {
  [ -n "$1" ] || return 0
  tar -xOf "$1" "$(tar -xOf "$1" manifest.json | jq -r '.[0].Layers[-1]')" | gzip -dc | python3 -c '
import sys, tarfile
for e in tarfile.open(fileobj=sys.stdin.buffer, mode="r|"):
    if e.name.rstrip("/") == sys.argv[1]:
        print(" ".join(sorted(k[len("SCHILY.xattr."):] + "=" + v.encode("utf-8", "surrogateescape").hex()
                              for k, v in e.pax_headers.items() if k.startswith("SCHILY.xattr."))))' "$2"
}

# last_layer_file IMAGE PATH: the contents of PATH in its last layer.
last_layer_file() {
  [ -n "$1" ] || return 0
  tar -xOf "$1" "$(tar -xOf "$1" manifest.json | jq -r '.[0].Layers[-1]')" | tar -xzOf - "$2"
}

for user in $(sandbox_users); do
  echo "--- $user"
  nix="$WORK/nix-$user"
  nix_sandbox_init "$nix" "$user" "$STORE_DIR"
  nix_sandbox_add_tools "$SB"
  pkg=$(nix_sandbox_add "$pkg_src")
  base=$(nix_sandbox_add "$WORK/base.tar")
  inputs=("$pkg" "$base")
  outside="$WORK/outside-$user"
  mkdir -p "$outside"
  chown "$user:" "$outside"

  # build_both NAME COMMAND PREP: in a derivation's build dir, runs the shell snippet PREP
  # (it writes spec.json and what the spec names) and `strata COMMAND spec.json`; then does
  # the same outside Nix, as the same user, in a dir of its own. Sets inside (the image's
  # host path, or "" when the build failed) and outside_image ("" likewise); the Nix log
  # is in $NIX_SANDBOX_LOG.
  build_both() {
    local name=$1 command=$2 prep=$3 out
    if out=$(nix_sandbox_run "$name" "mkdir \$out
$prep
\$strata $command spec.json -o \$out/image.tar --json >\$out/report.json" "${inputs[@]}"); then
      inside=$out/image.tar
      report=$out/report.json
    else
      inside="" report=""
    fi
    local dir=$outside/$name
    mkdir -p "$dir" && chown "$user:" "$dir"
    outside_image=$dir/image.tar
    nix_sandbox_outside "$user" env -C "$dir" XDG_CACHE_HOME="$outside/cache" TMPDIR="$outside" \
      sh -e -c "$prep
\"\$0\" $command spec.json -o image.tar -q" "$SB" 2>"$dir/err" || outside_image=""
  }
  same_layers() {
    local a b
    [ -n "$inside" ] && [ -n "$outside_image" ] && a=$(layers "$inside") && b=$(layers "$outside_image") &&
      [ -n "$a" ] && [ "$a" = "$b" ]
  }

  # 1. copyToRoot of a store package.
  build_both copy build "echo '{\"name\": \"copy\", \"tag\": \"1\", \"copyToRoot\": [\"$pkg\"]}' >spec.json"
  check "$user: build with copyToRoot in Nix" test -n "$inside"; [ -n "$inside" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  check "$user: skopeo and umoci read it" unpacked "$inside" "$WORK/copy-$user"
  root=$WORK/copy-$user/rootfs
  check "$user: its files are there" sh -c "[ \"\$('$root/bin/hello')\" = hello ] && [ \"\$(readlink '$root/bin/hi')\" = hello ] &&
    cmp -s '$root/bin/hello' '$root/bin/hello-again' && cmp -s '$pkg_src/share/sparse' '$root/share/sparse'"
  check "$user: the same layers outside Nix" same_layers

  # 2. layered with a copyToRoot tree of the build's own (copied natively: no cp in Nix):
  # a hard link, a sparse file, a symlink, modes.
  build_both tree layered "mkdir -p tree/bin tree/etc
printf '#!/bin/sh\necho tool\n' >tree/bin/tool
chmod 750 tree/bin/tool
ln tree/bin/tool tree/bin/tool-again
ln -s tool tree/bin/t
truncate -s 2M tree/etc/sparse
chmod 600 tree/etc/sparse
echo '{\"name\": \"tree\", \"tag\": \"1\", \"copyToRoot\": [\"tree\", \"$pkg\"]}' >spec.json"
  check "$user: layered with a tree of the build's in Nix" test -n "$inside"; [ -n "$inside" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  listing=$(last_layer_listing "$inside")
  check "$user: its hard link, symlink and modes are in the layer" sh -c "printf '%s\n' \"\$1\" | grep -x -- '-rwxr-x--- bin/tool' >/dev/null &&
    printf '%s\n' \"\$1\" | grep -x 'hrwxr-x--- bin/tool-again link to bin/tool' >/dev/null &&
    printf '%s\n' \"\$1\" | grep -x 'lrwxrwxrwx bin/t -> tool' >/dev/null && printf '%s\n' \"\$1\" | grep -x -- '-rw------- etc/sparse' >/dev/null" sh "$listing"
  check "$user: the same layers outside Nix" same_layers

  # 3. runAsRoot chowning a dir and a file, on an image without a shell (the toolbox's).
  build_both chown build "echo '{\"name\": \"chown\", \"tag\": \"1\", \"storeDir\": \"$STORE_DIR\", \"copyToRoot\": [\"$pkg\"],
  \"runAsRoot\": \"mkdir /data && echo x >/data/f && chown 1000:1000 /data && chown 1001:1002 /data/f && chmod 604 /data/f\"}' >spec.json"
  check "$user: runAsRoot with chown in Nix" test -n "$inside"; [ -n "$inside" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  listing=$(last_layer_owners "$inside")
  check "$user: the owners are in the layer" sh -c "printf '%s\n' \"\$1\" | grep -x 'drwxr-xr-x 1000/1000 data' >/dev/null &&
    printf '%s\n' \"\$1\" | grep -x -- '-rw----r-- 1001/1002 data/f' >/dev/null" sh "$listing" || printf '  %s\n' "$listing"
  check "$user: the same layers outside Nix" same_layers

  # 4. fromImage (a base of umoci's) + runAsRoot: a base file removed, a base dir
  # replaced, a passwd line, a chowned home, a file added to a dir of uid 1005.
  build_both base build "echo '{\"name\": \"base\", \"tag\": \"1\", \"storeDir\": \"$STORE_DIR\", \"fromImage\": \"$base\", \"copyToRoot\": [\"$pkg\"],
  \"runAsRoot\": \"rm /old/file && rm -r /dir && mkdir /dir && echo new >/dir/new && echo u:x:1000:1000::/home/u:/bin/sh >>/etc/passwd && mkdir -p /home/u && chown 1000:1000 /home/u && echo s >/srv/added\"}' >spec.json"
  check "$user: fromImage + runAsRoot in Nix" test -n "$inside"; [ -n "$inside" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  listing=$(last_layer_owners "$inside")
  check "$user: whiteout, opaque dir, owners in the layer" sh -c "for want in '-rw------- 0/0 old/.wh.file' \
    '-rwxr-xr-x 0/0 dir/.wh..wh..opq' '-rw-r--r-- 0/0 dir/new' 'drwxr-xr-x 1000/1000 home/u' 'drwx---r-x 1005/1006 srv' \
    '-rw-r--r-- 0/0 srv/added'; do printf '%s\n' \"\$1\" | grep -xF -- \"\$want\" >/dev/null || { echo \"missing: \$want\"; exit 1; }; done" sh "$listing" ||
    printf '  %s\n' "$listing"
  base_rootfs_ok() {
    local r=$WORK/base-$user/rootfs
    unpacked "$inside" "$WORK/base-$user" && grep -qx 'u:x:1000:1000::/home/u:/bin/sh' "$r/etc/passwd" &&
      [ ! -e "$r/dir/a" ] && [ ! -e "$r/old/file" ] && [ "$(cat "$r/dir/new")" = new ]
  }
  check "$user: the passwd line is there, the base's file and dir are gone" base_rootfs_ok
  check "$user: --json says owner tables, caches under the build dir" sh -c \
    "jq -e '.root_script.owners == \"table\" and (.root_script.cache_dir | startswith(\"/build/strata-cache-\"))' '$report' >/dev/null" ||
    cat "$report"
  check "$user: the same layers outside Nix" same_layers

  # 4b. The image of 4 as a base: its last layer's opaque dir (dir/) hides the first
  # layer's dir/a from the script, as umoci and the overlay with xattrs show it.
  opaque_base=""
  [ -n "$outside_image" ] && opaque_base=$(nix_sandbox_add "$outside_image")
  inputs=("$pkg" "$base" "$opaque_base")
  build_both opaque build "echo '{\"name\": \"opaque\", \"tag\": \"1\", \"storeDir\": \"$STORE_DIR\", \"fromImage\": \"$opaque_base\",
  \"runAsRoot\": \"ls -A /dir >/seen && echo b >/dir/b\"}' >spec.json"
  inputs=("$pkg" "$base")
  check "$user: fromImage with an opaque dir + runAsRoot in Nix" test -n "$inside"; [ -n "$inside" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  check "$user: the script saw dir/new only, not the lower layer's dir/a" \
    sh -c "[ \"\$1\" = new ]" sh "$(last_layer_file "$inside" seen)"
  listing=$(last_layer_owners "$inside")
  check "$user: dir/b in the layer, no second opaque mark" sh -c "printf '%s\n' \"\$1\" | grep -xF -- '-rw-r--r-- 0/0 dir/b' >/dev/null &&
    ! printf '%s\n' \"\$1\" | grep -F .wh. >/dev/null" sh "$listing" || printf '  %s\n' "$listing"
  check "$user: the same layers outside Nix" same_layers

  # 4c. A chmod of a base file with a file capability: its copy keeps the capability and
  # its user xattr in the layer (the overlay's copy-up keeps xattrs; in Nix they are in
  # the base layer's owner table).
  build_both caps build "echo '{\"name\": \"caps\", \"tag\": \"1\", \"storeDir\": \"$STORE_DIR\", \"fromImage\": \"$base\",
  \"runAsRoot\": \"chmod 0750 /bin/ping\"}' >spec.json"
  check "$user: runAsRoot chmod of a file with a capability in Nix" test -n "$inside"; [ -n "$inside" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  check "$user: bin/ping keeps security.capability and user.note in the layer" sh -c '[ "$1" = "$2" ]' sh \
    "$(last_layer_xattrs "$inside" bin/ping)" "security.capability=0100000200200000000000000000000000000000 user.note=6869"
  check "$user: the same layers outside Nix" same_layers

  # 5. layered with fakeRootCommands chown.
  build_both fakeroot layered "echo '{\"name\": \"fakeroot\", \"tag\": \"1\", \"storeDir\": \"$STORE_DIR\", \"contents\": [\"$pkg\"],
  \"fakeRootCommands\": \"mkdir -p data && chown 1000:1000 data\"}' >spec.json"
  check "$user: layered with fakeRootCommands in Nix" test -n "$inside"; [ -n "$inside" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  listing=$(last_layer_owners "$inside")
  check "$user: the chown is in the layer" sh -c "printf '%s\n' \"\$1\" | grep -x 'drwxr-xr-x 1000/1000 data' >/dev/null" sh "$listing" ||
    printf '  %s\n' "$listing"
  check "$user: the same layers outside Nix" same_layers

  # 6. perms: 4755 on a file of a copyToRoot package (Nix cannot chmod u+s).
  build_both perms build "echo '{\"name\": \"perms\", \"tag\": \"1\", \"storeDir\": \"$STORE_DIR\", \"copyToRoot\": [\"$pkg\"],
  \"perms\": [{\"path\": \"$pkg\", \"regex\": \"/bin/hello\$\", \"mode\": \"4755\", \"uid\": 0, \"gid\": 0},
    {\"path\": \"$pkg\", \"regex\": \"^$pkg/share(/|\$)\", \"mode\": \"0500\", \"orMode\": \"0200\", \"uid\": 7}]}' >spec.json"
  check "$user: perms in Nix" test -n "$inside"; [ -n "$inside" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  listing=$(last_layer_owners "$inside")
  check "$user: bin/hello is 4755 in the layer, bin/hello-again untouched" sh -c "printf '%s\n' \"\$1\" | grep -x -- '-rwsr-xr-x 0/0 bin/hello' >/dev/null &&
    printf '%s\n' \"\$1\" | grep -x -- '-r-xr-xr-x 0/0 bin/hello-again' >/dev/null" sh "$listing"
  check "$user: a rule in nix2container's form (the source path's subtree): share and share/sparse 0700, owner 7" \
    sh -c "printf '%s\n' \"\$1\" | grep -x -- 'drwx------ 7/0 share' >/dev/null &&
    printf '%s\n' \"\$1\" | grep -x -- '-rwx------ 7/0 share/sparse' >/dev/null" sh "$listing" || printf '  %s\n' "$listing"
  check "$user: the same layers outside Nix" same_layers

  # 7. A script's chmod u+s: the bit in the layer, or (in Nix) a failed build naming perms.
  build_both suid build "echo '{\"name\": \"suid\", \"tag\": \"1\", \"storeDir\": \"$STORE_DIR\", \"copyToRoot\": [\"$pkg\"],
  \"runAsRoot\": \"mkdir /sbin && echo x >/sbin/suid && chmod 4755 /sbin/suid\"}' >spec.json"
  suid_ok() {
    if [ -n "$inside" ]; then last_layer_owners "$inside" | grep -x -- '-rwsr-xr-x 0/0 sbin/suid' >/dev/null
    else grep -q "refuses setuid and setgid modes.*spec key perms" "$NIX_SANDBOX_LOG"; fi
  }
  check "$user: chmod u+s in Nix: the bit, or a message naming perms" suid_ok || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  check "$user: chmod u+s outside Nix: the bit in the layer" sh -c "[ -n '$outside_image' ] && tar -xOf '$outside_image' \"\$(tar -xOf '$outside_image' manifest.json | jq -r '.[0].Layers[-1]')\" | tar -tvzf - | grep '^-rwsr-xr-x .* sbin/suid\$' >/dev/null"

  # 8. export (exportImage) of the base: owners recorded in an owner table while flattened
  # in Nix; the same tar outside Nix.
  exported=$(nix_sandbox_run export "\$strata export \$input2 -o \$out -q" "${inputs[@]}") || exported=""
  check "$user: export in Nix" test -n "$exported"; [ -n "$exported" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  check "$user: the base's owners and names in the export" sh -c "tar -tvf '$exported' --numeric-owner | grep -E '^drwx---r-x 1005/1006 .* \\./srv/\$' >/dev/null &&
    [ \"\$(tar -tf '$exported' | sed -n 1p)\" = ./ ]"
  mkdir -p "$outside/export" && chown "$user:" "$outside/export"
  nix_sandbox_outside "$user" env -C "$outside/export" TMPDIR="$outside" "$SB" export "$base" -o export.tar -q 2>"$outside/export/err"
  check "$user: the same export outside Nix" cmp "$exported" "$outside/export/export.tar"

  # 9. A script leaving files the caller cannot read (root_script_secret's, in Nix: no
  # /usr, no xattrs): owners and modes kept, contents read back.
  build_both secret build "echo '{\"name\": \"secret\", \"tag\": \"1\", \"storeDir\": \"$STORE_DIR\", \"fromImage\": \"$base\",
  \"runAsRoot\": \"echo s3cret >/etc/secret && chown 5:5 /etc/secret && chmod 600 /etc/secret && mkdir /etc/private && echo key >/etc/private/key && chown 7:8 /etc/private/key && chmod 400 /etc/private/key && chown 7:8 /etc/private && chmod 700 /etc/private && echo locked >/etc/locked && chmod 000 /etc/locked && mkdir /etc/shut && echo in >/etc/shut/f && chmod 000 /etc/shut && echo x >/srv/x && chmod 0 /srv/x\"}' >spec.json"
  check "$user: runAsRoot leaving unreadable files in Nix" test -n "$inside"; [ -n "$inside" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  listing=$(last_layer_owners "$inside")
  check "$user: their owners and modes are in the layer" sh -c "for want in 'drwx------ 7/8 etc/private' \
    '-r-------- 7/8 etc/private/key' '-rw------- 5/5 etc/secret' '---------- 0/0 etc/locked' 'd--------- 0/0 etc/shut' \
    '-rw-r--r-- 0/0 etc/shut/f' 'drwx---r-x 1005/1006 srv' '---------- 0/0 srv/x'; do
    printf '%s\n' \"\$1\" | grep -xF -- \"\$want\" >/dev/null || { echo \"missing: \$want\"; exit 1; }; done" sh "$listing" ||
    printf '  %s\n' "$listing"
  secret_contents() {
    local layer
    layer=$(tar -xOf "$inside" manifest.json | jq -r '.[0].Layers[-1]')
    [ "$(for f in etc/secret etc/private/key etc/locked etc/shut/f; do tar -xOf "$inside" "$layer" | tar -xOzf - "$f"; done | tr '\n' ' ')" = "s3cret key locked in " ]
  }
  check "$user: ... and their contents" secret_contents
  check "$user: the same layers outside Nix" same_layers || sed 's/^/  outside: /' "$outside/secret/err"

  # 10. unpack (as umoci unpack --rootless) in Nix, to DIR/ (a trailing slash): what the disk cannot hold goes to
  # DIR.owners; --json says so; the tree is the same as outside.
  unpacked_out=$(nix_sandbox_run unpack "mkdir \$out && \$strata unpack \$input2 \$out/root/ --json >\$out/report.json" "${inputs[@]}") ||
    unpacked_out=""
  check "$user: unpack in Nix" test -n "$unpacked_out"; [ -n "$unpacked_out" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  check "$user: its files are there, the base's owners in the owner table --json names" sh -c "
    [ \"\$(cat '$unpacked_out/root/etc/passwd')\" = 'root:x:0:0:root:/root:/bin/sh' ] && [ -f '$unpacked_out/root/dir/b' ] &&
    jq -e '.owners == \"table\" and (.owner_table | endswith(\"-unpack/root.owners\"))' '$unpacked_out/report.json' >/dev/null &&
    tr '\\0' '\\n' <'$unpacked_out/root.owners' | grep -A1 -x srv | grep -x 1005:1006:0705:dir >/dev/null" ||
    cat "$unpacked_out/report.json"

  # 11. Owner-table semantics in Nix: a chown of a base file nothing else touches (it
  # must be copied up for its record to reach the layer), an owner that follows its file
  # through mv (records are by path; chmod'ed after it), a hard-linked base file
  # written to (copied up), a base dir chown'ed back to root (its base record must not
  # show through), a chown -R of 1,500 files (more than half the fds a process has).
  build_both tables build "echo '{\"name\": \"tables\", \"tag\": \"1\", \"storeDir\": \"$STORE_DIR\", \"fromImage\": \"$base\",
  \"runAsRoot\": \"chown 1:2 /dir/a && echo m >/etc/moved && chown 3:4 /etc/moved && mv /etc/moved /etc/there && mkdir /etc/d1 && echo f >/etc/d1/f && chown 5:6 /etc/d1/f && mv /etc/d1 /etc/d2 && echo o >/etc/o && chown 7:7 /etc/o && echo p >/etc/p && mv /etc/p /etc/o && echo more >>/srv/h1 && chown 0:0 /srv && echo q >/etc/q && chown 8:8 /etc/q && mv /etc/q /etc/r && chmod 600 /etc/r && mkdir /many && for i in \$(seq 1500); do echo >/many/f\$i; done && chown -R 11:11 /many\"}' >spec.json"
  check "$user: chown of base files and mv in Nix" test -n "$inside"; [ -n "$inside" ] || sed 's/^/  nix: /' "$NIX_SANDBOX_LOG"
  listing=$(last_layer_owners "$inside")
  check "$user: their owners are in the layer" sh -c "for want in '-rw-r--r-- 1/2 dir/a' '-rw-r--r-- 3/4 etc/there' \
    '-rw-r--r-- 5/6 etc/d2/f' '-rw-r--r-- 0/0 etc/o' '-rw-r----- 1005/1006 srv/h1' 'drwx---r-x 0/0 srv' \
    '-rw------- 8/8 etc/r' 'drwxr-xr-x 11/11 many' '-rw-r--r-- 11/11 many/f1500'; do
    printf '%s\n' \"\$1\" | grep -xF -- \"\$want\" >/dev/null || { echo \"missing: \$want\"; exit 1; }; done" sh "$listing" ||
    printf '  %s\n' "$listing"
  check "$user: the same layers outside Nix" same_layers
  [ -n "${KEEP_TMP:-}" ] || nix_sandbox_cleanup
done
finish
