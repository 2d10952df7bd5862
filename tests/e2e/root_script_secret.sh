#!/usr/bin/env bash
# A root script may leave files its caller cannot read: `chown 5:5 /etc/secret && chmod
# 600 /etc/secret` (the /etc/shadow pattern), a 0700 dir of another id with a 0400 file
# in it, a 0000 file of root's. As root, strata-sub (subuid mode: they belong to
# subordinate ids on disk; before, "cannot open …/upper/etc/secret: Permission denied")
# and strata-nosub (single-id mode), runAsRoot and `run --layer-out` give a layer with
# those owners, modes and contents, byte-identical whoever builds it, and nothing is
# left in TMPDIR.
source "$STRATA_TESTS/e2e/lib/sandbox.sh"
source "$STRATA_TESTS/e2e/lib/root_script.sh"
sandbox_need jq tar
sandbox_setup

umask 022
build_base_image
SCRIPT='echo s3cret >/etc/secret
chown 5:5 /etc/secret
chmod 600 /etc/secret
mkdir /etc/private
echo key >/etc/private/key
chown 7:8 /etc/private/key
chmod 400 /etc/private/key
chown 7:8 /etc/private
chmod 700 /etc/private
echo locked >/root/locked
chmod 000 /root/locked'
jq -n --arg base "$WORK/base.tar" --arg script "$SCRIPT" \
  '{name: "sec", tag: "v1", fromImage: $base, runAsRoot: $script}' >"$WORK/sec.json"
chmod -R a+rX "$WORK"

cat >"$WORK/expected-layer" <<'EOF'
drwxr-xr-x 0/0 etc/
drwx------ 7/8 etc/private/
-r-------- 7/8 etc/private/key
-rw------- 5/5 etc/secret
drwx------ 0/0 root/
---------- 0/0 root/locked
EOF

new_layer() { # IMAGE OUT: the image's last layer blob
  tar -xOf "$1" "$(tar -xOf "$1" manifest.json | jq -r '.[0].Layers[-1]')" >"$2"
}
contents() { # LAYER: the three files' contents
  for f in etc/secret etc/private/key root/locked; do tar -xOf "$1" "$f"; done | tr '\n' ' '
}

reference=""
for user in $(sandbox_users); do
  d="$WORK/$user"
  mkdir -p "$d/tmp" "$d/store"
  chown -R "$user:" "$d"
  rc=0
  as_user "$user" env TMPDIR="$d/tmp" "$SB" build "$WORK/sec.json" --layer-store "$d/store" -o "$d/sec.tar" -q \
    2>"$d/build.err" || rc=$?
  check "$user: runAsRoot leaving files the caller cannot read builds (exit $rc: $(head -c 300 "$d/build.err"))" \
    [ "$rc" = 0 ]
  if [ "$rc" = 0 ]; then
    new_layer "$d/sec.tar" "$d/layer.tgz"
    layer_listing "$d/layer.tgz" >"$d/listing"
    check "$user: the layer keeps their owners and modes" diff -u "$WORK/expected-layer" "$d/listing"
    check "$user: ... and their contents" [ "$(contents "$d/layer.tgz")" = "s3cret key locked " ]
    sum=$(sha256sum <"$d/layer.tgz" | cut -d' ' -f1)
    if [ -z "$reference" ]; then reference=$sum; else
      check "$user: the layer is byte-identical to root's" [ "$sum" = "$reference" ]
    fi
  fi
  rc=0
  as_user "$user" env TMPDIR="$d/tmp" "$SB" run "$WORK/base.tar" --layer-store "$d/store" --layer-out "$d/out" \
    -- /bin/sh -e -c "$SCRIPT" 2>"$d/run.err" || rc=$?
  check "$user: run --layer-out of the same script works (exit $rc: $(head -c 300 "$d/run.err"))" [ "$rc" = 0 ]
  if [ "$rc" = 0 ]; then
    layer_listing "$d/out/layer.tar" >"$d/run-listing"
    check "$user: ... its layer.tar keeps owners and modes" diff -u "$WORK/expected-layer" "$d/run-listing"
    check "$user: ... and contents" [ "$(contents "$d/out/layer.tar")" = "s3cret key locked " ]
  fi
  check "$user: nothing left in TMPDIR" [ -z "$(ls -A "$d/tmp")" ]
done
finish
