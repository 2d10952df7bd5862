#!/usr/bin/env bash
# strata pull and push against a registry written in this test to misbehave
# (lib/hostile_registry.py): a blob whose bytes do not match its digest and a truncated
# body are refused with nothing at -o and nothing kept in the blob cache; 500s are
# retried until the answer comes; a blob redirect to another host is followed without
# the credentials; a 401 names the registry and the flags to use.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/layered.sh"
source "$(dirname "$0")/lib/registry.sh"
need jq python3

cd "$WORK"
make_fake_store
jq -n --arg store "$STORE" --arg app "${SP[app]}" '
  {name: "hostile/img", tag: "v1", storeDir: $store, closureGraph: "graph.json", contents: [],
   maxLayers: 4, config: {Cmd: [($app + "/bin/app")]}}' >spec.json
"$STRATA" layered spec.json --format oci-dir -o img.oci -q --no-cache
manifest=img.oci/blobs/sha256/$(jq -r '.manifests[0].digest' img.oci/index.json | cut -d: -f2)
layer=$(jq -r '.layers[1].digest' "$manifest")
want_diff_ids=$("$STRATA" inspect img.oci | jq -c '[.layers[].diff_id]')

HOSTILE_PIDS=()
stop_hostile() {
  local pid
  for pid in "${HOSTILE_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  HOSTILE_PIDS=()
}
trap 'stop_hostile; stop_registry; cleanup_layered' EXIT
# start_hostile NAME ARGS…: sets HOSTILE (host:port) and HOSTILE_LOG.
start_hostile() {
  local name=$1 port
  shift
  port=$(free_port)
  HOSTILE_LOG=$WORK/$name.log
  : >"$HOSTILE_LOG"
  python3 "$STRATA_TESTS/e2e/lib/hostile_registry.py" --layout img.oci --port "$port" --log "$HOSTILE_LOG" \
    --lifetime 240 "$@" >"$WORK/$name.out" 2>&1 &
  HOSTILE_PIDS+=($!)
  HOSTILE=127.0.0.1:$port
  local i
  for i in $(seq 1 100); do
    grep -q ready "$WORK/$name.out" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "the hostile registry did not start: $(cat "$WORK/$name.out")"
}
pull() { XDG_CACHE_HOME=$WORK/cache-$1 "$STRATA" pull --tls-verify=false "docker://$HOSTILE/hostile/img:v1" -o "$1.tar" "${@:2}"; }
no_output() { [ ! -e "$1.tar" ] || fail "$1.tar was written"; ls -A "$WORK" | grep "^\.$1\.tar" >/dev/null && fail "a temp file of $1.tar is left"; true; }

# A blob whose bytes do not match its digest.
start_hostile corrupt --corrupt "$layer"
status=0
pull corrupt 2>err || status=$?
assert_eq 2 "$status" "a blob that does not match its digest: exit 2"
grep -q "$layer.*does not match its digest" err || fail "the message does not name the blob: $(cat err)"
pass "the message names the blob and its digest"
no_output corrupt
[ ! -e "$WORK/cache-corrupt/strata/registry/blobs/sha256/${layer#sha256:}" ] || fail "the bad blob was kept in the cache"
[ -z "$(find "$WORK/cache-corrupt" -name '.incoming*')" ] || fail "a partial download is left in the cache"
pass "nothing at -o, nothing kept in the blob cache"

# A body cut short: retried, then refused.
start_hostile truncate --truncate "$layer"
status=0
pull truncate 2>err || status=$?
assert_eq 1 "$status" "a truncated body, every time: exit 1"
grep -q "127.0.0.1" err || fail "the message does not name the registry: $(cat err)"
pass "the message names the registry: $(head -c 200 err)"
[ "$(grep -c "GET /v2/hostile/img/blobs/$layer truncated" "$HOSTILE_LOG")" -ge 3 ] || fail "a dropped body was not retried: $(cat "$HOSTILE_LOG")"
pass "a dropped body is retried ($(grep -c "blobs/$layer truncated" "$HOSTILE_LOG") attempts)"
no_output truncate

# 500s, then success.
start_hostile flaky --fail 2
pull flaky --json >flaky.json
assert_eq "$want_diff_ids" "$("$STRATA" inspect flaky.tar | jq -c '[.layers[].diff_id]')" "500, 500, then 200: the pull succeeds"
[ "$(jq .retries flaky.json)" -ge 2 ] || fail "no retries reported: $(cat flaky.json)"
[ "$(grep -c " 500$" "$HOSTILE_LOG")" -ge 6 ] || fail "the log shows no 500s"
pass "the 500s were retried ($(jq .retries flaky.json) retries)"
mkdir -p fresh/etc && printf 'not served yet\n' >fresh/etc/fresh
"$STRATA" build --name fresh --tag v1 --copy-to-root fresh --format oci-dir -o fresh.oci -q
XDG_CACHE_HOME=$WORK/cache-push "$STRATA" push --tls-verify=false --json fresh.oci "docker://$HOSTILE/pushed/img:v1" >pushed.json
assert_eq '["uploaded"]' "$(jq -c '[.blobs[].status] | unique' pushed.json)" "push through 500s: every blob uploaded"
[[ "$(grep ' /v2/pushed/img/' "$HOSTILE_LOG" | tail -n 1)" == *"PUT /v2/pushed/img/manifests/v1 auth=no 201" ]] ||
  fail "the manifest was not the last request stored: $(grep ' /v2/pushed/img/' "$HOSTILE_LOG" | tail -n 3)"
pass "push through 500s: the manifest stored last"

# A redirect to another host: followed, without the credentials.
redirect_port=$(free_port)
start_hostile redirect --redirect "$redirect_port" --basic "alice:s3cret"
status=0
pull noauth 2>err || status=$?
assert_eq 1 "$status" "a registry asking for auth, no credentials: exit 1"
assert_eq "strata: authentication required for $HOSTILE; use --creds or --authfile" "$(cat err)" "the 401 message"
no_output noauth
pull redirect --creds alice:s3cret 2>err
assert_eq "$want_diff_ids" "$("$STRATA" inspect redirect.tar | jq -c '[.layers[].diff_id]')" "blobs redirected to another host: pulled"
grep -q "s3cret" err && fail "the password was printed"
[ "$(grep -c '^other GET /storage/' "$HOSTILE_LOG")" -ge 1 ] || fail "no blob came from the other host: $(cat "$HOSTILE_LOG")"
grep '^other ' "$HOSTILE_LOG" | grep 'auth=yes' >/dev/null && fail "credentials were sent to the other host: $(grep '^other' "$HOSTILE_LOG")"
pass "the other host got no Authorization header ($(grep -c '^other GET' "$HOSTILE_LOG") requests)"
grep '^main GET /v2/hostile/img/manifests' "$HOSTILE_LOG" | grep 'auth=yes 200' >/dev/null || fail "the registry itself got no credentials"
pass "the registry itself got the credentials"
finish
