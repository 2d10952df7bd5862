#!/usr/bin/env bash
# Values that used to give an invalid image with exit 0 (issue 13, items 9 and 12): each is
# refused with exit 2, one message naming the key, and nothing at the output path.
source "$(dirname "$0")/lib/common.sh"
need jq python3

cd "$WORK"
mkdir root out
echo hi >root/file

check() { # status, pattern, description, strata args...
  local status=$1 pattern=$2 what=$3
  shift 3
  expect_status "$status" "$@"
  grep -Eq -- "$pattern" "$WORK/stderr" || fail "$what: message lacks /$pattern/: $(cat "$WORK/stderr")"
  [ "$(wc -l <"$WORK/stderr")" -le 2 ] || fail "$what: more than one message: $(cat "$WORK/stderr")"
  [ -z "$(ls -A out)" ] || fail "$what: something was left in the output dir: $(ls -A out)"
  pass "$what -> exit $status: $(sed -n 1p "$WORK/stderr" | cut -c 1-200)"
}
spec() { # file, JSON
  printf '%s\n' "$2" >"$1"
}

# Times.
spec c1.json '{"name": "x", "created": "-001-01-01T00:00:00Z"}'
check 2 "'created' is '-001-01-01T00:00:00Z'" "created with a negative year" build c1.json -o out/i.tar
spec c2.json '{"name": "x", "created": "2023-01-01T00:00:00+99:99"}'
check 2 "'created' is '2023-01-01T00:00:00\+99:99'" "created with offset +99:99" build c2.json -o out/i.tar
spec c3.json '{"name": "x", "created": "2023-02-30T00:00:00Z"}'
check 2 "'created' is '2023-02-30" "created on February 30th" build c3.json -o out/i.tar
spec m1.json '{"name": "x", "mtime": "9999-12-31T23:00:00-05:00"}'
check 2 "'mtime' is '9999-12-31T23:00:00-05:00', outside" "mtime past year 9999" build m1.json -o out/i.tar
spec m2.json '{"name": "x", "mtime": 253402300800}'
check 2 "'mtime' is 253402300800, outside 0..253402300799" "mtime seconds past year 9999" build m2.json -o out/i.tar
check 2 "--mtime 99999999999999999999 is outside" "--mtime beyond 64 bits" build --name x --mtime 99999999999999999999 -o out/i.tar
spec ok.json '{"name": "x"}'
SOURCE_DATE_EPOCH=99999999999999999999999 check 2 "SOURCE_DATE_EPOCH is '99999999999999999999999', not a number of seconds" \
  "SOURCE_DATE_EPOCH beyond 64 bits" build ok.json -o out/i.tar
SOURCE_DATE_EPOCH=-5 check 2 "SOURCE_DATE_EPOCH is '-5'" "negative SOURCE_DATE_EPOCH" build ok.json -o out/i.tar

# Numbers.
spec u1.json '{"name": "x", "uid": 1e400}'
check 2 "not valid JSON at 'uid': number overflow" "uid 1e400" build u1.json -o out/i.tar
spec u2.json '{"name": "x", "uid": 18446744073709551615}'
check 2 "'uid' is 18446744073709551615, outside 0..4294967294" "uid 2^64-1 (not shown as -1)" build u2.json -o out/i.tar
spec u3.json '{"name": "x", "gid": 1.5}'
check 2 "'gid' must be a whole number" "gid 1.5" build u3.json -o out/i.tar

# Names and tags (the distribution reference grammar).
spec n1.json '{"name": "../../etc/evil"}'
check 2 "'name' '../../etc/evil' is not a valid image name" "name ../../etc/evil" build n1.json -o out/i.tar
spec n2.json '{"name": "/abs"}'
check 2 "'name' '/abs' is not a valid image name" "name /abs" build n2.json -o out/i.tar
spec n3.json '{"name": "a:b"}'
check 2 "'name' 'a:b' is not a valid image name" "name with a tag in it" build n3.json -o out/i.tar
python3 -c 'import json; print(json.dumps({"name": "a" * 256}))' >n4.json
check 2 "is 256 characters long, more than 255" "name of 256 characters" build n4.json -o out/i.tar
python3 -c 'import json; print(json.dumps({"name": "a" * 12000000}))' >n5.json
check 2 "is 12000000 characters long" "name of 12 MB" build n5.json -o out/i.tar
spec t1.json '{"name": "x", "tag": ".hidden"}'
check 2 "'tag' '.hidden' is not a valid tag" "tag starting with a dot" build t1.json -o out/i.tar
spec p1.json '{"name": "x", "architecture": "../amd64"}'
check 2 "'architecture' is '../amd64', not a platform name" "architecture ../amd64" build p1.json -o out/i.tar

# The config, against the OCI / Docker config types.
spec g1.json '{"name": "x", "config": {"Cmd": 5}}'
check 2 "'config.Cmd' must be a list of strings, not a whole number" "config.Cmd 5" build g1.json -o out/i.tar
spec g2.json '{"name": "x", "config": {"Env": ["PATH"]}}'
check 2 "'config.Env\[0\]' is 'PATH', not NAME=value" "Env entry without =" build g2.json -o out/i.tar
spec g3.json '{"name": "x", "config": {"Labels": {"a": true}}}'
check 2 "'config.Labels.a' must be a string, not a boolean" "label that is no string" build g3.json -o out/i.tar
spec g4.json '{"name": "x", "config": {"ExposedPorts": {"http": {}}}}'
check 2 "'config.ExposedPorts' has the key 'http'" "ExposedPorts key http" build g4.json -o out/i.tar
python3 -c 'import json; print(json.dumps({"name": "x", "config": {"Labels": {"big": "v" * 5000000}}}))' >g5.json
check 2 "'config' is 50000[0-9]{2} bytes of JSON, more than the 4194304" "a 5 MB label" build g5.json -o out/i.tar
check 2 "'config.Entrypoint' must be a list of strings, not a string" "--config-json Entrypoint string" \
  build --name x --config-json '{"Entrypoint": "/bin/sh"}' -o out/i.tar

# NUL bytes no longer cut a path (or anything else) short.
spec z1.json '{"name": "x", "copyToRoot": "root\u0000/../nothing"}'
check 2 "'copyToRoot' holds a NUL byte" "NUL in copyToRoot" build z1.json -o out/i.tar
spec z2.json '{"name": "x", "config": {"Env": ["A=b\u0000c"]}}'
check 2 "'config.Env\[0\]' holds a NUL byte" "NUL in config.Env" build z2.json -o out/i.tar

# Item 12: exit 2 for bad input that exited 1, and no NAME.tar for -o "".
spec proc.json '{"name": "x", "copyToRoot": "/proc"}'
check 2 "copyToRoot path /proc is in the kernel's proc filesystem" "/proc as copyToRoot" build proc.json -o out/i.tar
check 2 "--output: an empty value is no path" '-o ""' build ok.json -o ""
[ ! -e x.tar ] || fail '-o "" wrote x.tar'
pass '-o "" wrote no x.tar'
if [ "$(id -u)" -eq 0 ]; then
  id strata-nosub >/dev/null 2>&1 || "$STRATA_SRC/tests/e2e/lib/make-users"
  mkdir -m 755 shared && mkdir -m 755 shared/out && chown strata-nosub shared/out
  mkdir -m 700 shared/secret shared/tree && echo s >shared/tree/f && chmod 600 shared/tree/f && chmod 755 shared/tree
  for s in secret tree; do
    echo "{\"name\": \"x\", \"copyToRoot\": \"$WORK/shared/$s\"}" >"shared/$s.json"
    got=0
    runuser -u strata-nosub -- "$STRATA" build "$WORK/shared/$s.json" -o "$WORK/shared/out/i.tar" 2>"$WORK/stderr" || got=$?
    [ "$got" = 2 ] || fail "unreadable copyToRoot ($s) exited $got: $(cat "$WORK/stderr")"
    grep -Eq "(cannot read .*$WORK/shared/$s|$WORK/shared/$s cannot be read).*Permission denied" "$WORK/stderr" || fail "unreadable copyToRoot ($s): $(cat "$WORK/stderr")"
    [ -z "$(ls -A shared/out)" ] || fail "unreadable copyToRoot ($s) left $(ls -A shared/out)"
    pass "unreadable copyToRoot ($s) as strata-nosub -> exit 2: $(head -1 "$WORK/stderr")"
  done
fi

# What still works: a full reference with a registry port, a valid time with an offset.
spec good.json '{"name": "Registry.Example:5000/team/app__x", "tag": "v1.2_3", "created": "2024-02-29T23:59:59.123456789+05:30", "mtime": "1990-01-01T00:00:00Z", "config": {"Cmd": ["/bin/sh"], "Env": ["A=1"], "ExposedPorts": {"80/tcp": {}, "53/udp": {}}, "Labels": {"a": "b"}, "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1000000000}, "Custom": {"x": [1]}}}'
"$STRATA" build good.json -o good.tar -q
"$STRATA" inspect good.tar >inspect.json
assert_eq "registry.example:5000/team/app__x:v1.2_3" "$(jq -r '.repo_tags[0]' inspect.json)" "a full reference is accepted"
assert_eq "2024-02-29T23:59:59.123456789+05:30" "$(jq -r '.config.created' inspect.json)" "created keeps its text"
skopeo inspect --config "docker-archive:good.tar" >/dev/null && pass "skopeo reads the image"
finish
