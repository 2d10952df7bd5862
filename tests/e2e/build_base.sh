#!/usr/bin/env bash
# fromImage: base layers carried unchanged; the new layer holds only what is new.
source "$(dirname "$0")/lib/common.sh"
need skopeo umoci jq gzip zstd

cd "$WORK"
layers_of() { "$STRATA" inspect "$1" | jq -c '[.layers[] | .diff_id]'; }
new_layer_files() { # image (docker-archive) -> sorted names in its last layer
  local l
  l=$(tar xOf "$1" manifest.json | jq -r '.[0].Layers[-1]')
  tar xOf "$1" "$l" | tar tzf - | sort
}

# 1. A base built by strata.
make_busybox_root base-root
"$STRATA" build --name base --tag 1 --copy-to-root base-root --config-json '{"Env":["PATH=/bin","A=base"],"Cmd":["/bin/sh"]}' -o base.tar -q
mkdir -p add/etc add/bin
printf 'new\n' >add/etc/new.conf
cp base-root/etc/passwd add/etc/passwd # already in the base: kept, as dockerTools keeps it
cat >spec.json <<JSON
{"name": "child", "tag": "1", "fromImage": "base.tar", "copyToRoot": "add",
 "config": {"Env": ["A=child", "B=1"]}}
JSON
"$STRATA" build spec.json -o child.tar -q
base_layers=$(layers_of base.tar)
child_layers=$(layers_of child.tar)
assert_eq "$(echo "$base_layers" | jq -c '.[0]')" "$(echo "$child_layers" | jq -c '.[0]')" "base layer kept (diff_id)"
assert_eq "$(tar xOf base.tar "$(tar xOf base.tar manifest.json | jq -r '.[0].Layers[0]')" | sha256sum)" \
  "$(tar xOf child.tar "$(tar xOf child.tar manifest.json | jq -r '.[0].Layers[0]')" | sha256sum)" "base layer kept byte for byte"
assert_eq "2" "$(echo "$child_layers" | jq length)" "one new layer"
assert_eq "$(printf 'bin/\netc/\netc/new.conf\netc/passwd')" "$(new_layer_files child.tar)" \
  "the new layer keeps all of copyToRoot, also what the base has (dockerTools leaves out only store files)"
assert_eq '["PATH=/bin","A=child","B=1"]' "$("$STRATA" inspect child.tar | jq -c .config.config.Env)" "Env merged: base first, last value per name"
assert_eq '["/bin/sh"]' "$("$STRATA" inspect child.tar | jq -c .config.config.Cmd)" "base config kept where the spec is silent"
assert_eq "2" "$("$STRATA" inspect child.tar | jq '.config.history | length')" "a history entry per layer"
assert_eq "0" "$("$STRATA" inspect child.tar | jq '[.config.history[] | select(.created == null)] | length')" "every history entry has created"

# 2. A base made by another tool (umoci), turned into a docker-archive by skopeo.
umoci init --layout other >/dev/null
umoci new --image other:base >/dev/null
umoci insert --rootless --image other:base base-root / >/dev/null 2>&1 || umoci insert --rootless --image other:base base-root >/dev/null
skopeo copy -q oci:other:base docker-archive:other.tar:other/base:1
"$STRATA" build --name fromother --from-image other.tar --copy-to-root add -o fromother.tar -q
other_layers=$(skopeo inspect --config docker-archive:other.tar | jq -c .rootfs.diff_ids)
assert_eq "$(echo "$other_layers" | jq -c '.[0]')" "$(layers_of fromother.tar | jq -c '.[0]')" "skopeo-made base layer kept"
skopeo inspect docker-archive:fromother.tar >/dev/null && pass "skopeo reads the image built on the skopeo base"
# and straight from the OCI layout umoci wrote, selecting the tag
"$STRATA" build --name fromoci --from-image other --from-image-tag base --copy-to-root add --format oci-dir -o fromoci -q
assert_eq "$(echo "$other_layers" | jq -c '.[0]')" "$(layers_of fromoci | jq -c '.[0]')" "OCI-layout base (by tag) kept"

# 3. Compressed base archives and tag selection.
gzip -kc base.tar >base.tar.gz
zstd -qc base.tar >base.tar.zst
for b in base.tar.gz base.tar.zst; do
  "$STRATA" build --name z --tag 1 --from-image $b --copy-to-root add -o z.tar -q
  assert_eq "$child_layers" "$(layers_of z.tar)" "base read from $b"
done
"$STRATA" build --name base --tag 2 --copy-to-root add -o second.tar -q
# an archive holding two images: pick by tag
python3 - base.tar second.tar two.tar <<'PY'
import json, sys, tarfile
a, b, out = sys.argv[1:]
with tarfile.open(out, "w") as o:
    manifests = []
    for path in (a, b):
        with tarfile.open(path) as t:
            manifests += json.load(t.extractfile("manifest.json"))
            for m in t.getmembers():
                if m.name not in ("manifest.json", "repositories"):
                    o.addfile(m, t.extractfile(m) if m.isfile() else None)
    data = json.dumps(manifests).encode()
    info = tarfile.TarInfo("manifest.json"); info.size = len(data)
    import io; o.addfile(info, io.BytesIO(data))
PY
"$STRATA" build --name pick --from-image two.tar --from-image-name base --from-image-tag 2 --copy-to-root add -o pick.tar -q
assert_eq "$(layers_of second.tar | jq -c '.[0]')" "$(layers_of pick.tar | jq -c '.[0]')" "fromImageName/fromImageTag select the second image"
expect_status 2 build --name pick --from-image two.tar --from-image-tag 9 --copy-to-root add -o missing-tag.tar
grep -q "has no image" "$WORK/stderr" || fail "no clear message for a missing tag: $(cat "$WORK/stderr")"
[ ! -e missing-tag.tar ] || fail "output written for a missing tag"
pass "a base without the requested tag: exit 2, clear message, no output"

# 4. A base whose manifest repeats a layer.
python3 - base.tar rep.tar <<'PY'
import json, sys, tarfile, io
src, out = sys.argv[1:]
with tarfile.open(src) as t, tarfile.open(out, "w") as o:
    m = json.load(t.extractfile("manifest.json"))
    cfg_name = m[0]["Config"]
    cfg = json.load(t.extractfile(cfg_name))
    m[0]["Layers"] = m[0]["Layers"] * 2
    cfg["rootfs"]["diff_ids"] = cfg["rootfs"]["diff_ids"] * 2
    cfg["history"] = cfg["history"] * 2
    cdata = json.dumps(cfg).encode()
    import hashlib
    cname = hashlib.sha256(cdata).hexdigest() + ".json"
    m[0]["Config"] = cname
    for mem in t.getmembers():
        if mem.name not in ("manifest.json", cfg_name, "repositories"):
            o.addfile(mem, t.extractfile(mem) if mem.isfile() else None)
    for name, data in ((cname, cdata), ("manifest.json", json.dumps(m).encode())):
        info = tarfile.TarInfo(name); info.size = len(data); o.addfile(info, io.BytesIO(data))
PY
"$STRATA" build --name rep --from-image rep.tar --copy-to-root add -o rep-out.tar -q
assert_eq "3" "$(layers_of rep-out.tar | jq length)" "a repeated base layer is listed twice"
skopeo copy -q docker-archive:rep-out.tar oci:rep-oci:1 && pass "skopeo copies the image with a repeated layer"

# 5. shadowSetup: the seed's account files, only where the base lacks them.
mkdir -p shadow-root/etc && echo 'root:x:0:0:mine:/root:/bin/sh' >shadow-root/etc/passwd
"$STRATA" build --name sh --copy-to-root shadow-root -o sh-base.tar -q
echo '{"name": "sh2", "fromImage": "sh-base.tar", "shadowSetup": true}' >shadow.json
"$STRATA" build shadow.json -o sh.tar -q
assert_eq "$(printf 'etc/\netc/gshadow\netc/login.defs\netc/pam.d/\netc/pam.d/other\netc/shadow\netc/group' | sort)" \
  "$(new_layer_files sh.tar | grep '^etc/' | sort)" "shadowSetup adds the missing account files, keeps the base's passwd"
finish
