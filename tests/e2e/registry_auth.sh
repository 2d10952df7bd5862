#!/usr/bin/env bash
# Authentication and TLS against Debian's docker-registry: htpasswd (Basic) refuses a
# push without credentials or with wrong ones (exit 1, a message naming the registry)
# and accepts --creds, --authfile and $REGISTRY_AUTH_FILE; the Bearer token flow with a
# token server of the test's own (lib/token_server.py); a self-signed certificate is
# refused by default and accepted with --cert-dir (or --tls-verify=false). No secret
# is ever printed.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/layered.sh"
source "$(dirname "$0")/lib/registry.sh"
need jq skopeo curl docker-registry htpasswd openssl python3

cd "$WORK"
export XDG_CACHE_HOME=$WORK/cache
unset REGISTRY_AUTH_FILE
export HOME=$WORK/home XDG_RUNTIME_DIR=$WORK/run # no auth file of the machine's is read
make_fake_store
jq -n --arg store "$STORE" --arg app "${SP[app]}" '
  {name: "auth/img", tag: "v1", storeDir: $store, closureGraph: "graph.json", contents: [],
   maxLayers: 4, config: {Cmd: [($app + "/bin/app")]}}' >spec.json
"$STRATA" layered spec.json --format oci-dir -o img.oci -q --no-cache
want_layers=$(jq -c '[.layers[].digest]' "img.oci/blobs/sha256/$(jq -r '.manifests[0].digest' img.oci/index.json | cut -d: -f2)")
secret=s3cret-Pa55
no_secret() { ! grep -q "$secret" "$@" || fail "the password was printed"; }

# --- htpasswd (Basic) ------------------------------------------------------------------
htpasswd -Bbn alice "$secret" >htpasswd
STRATA_TEST_AUTH_YAML="auth:
  htpasswd:
    realm: strata-test
    path: $WORK/htpasswd" start_registry basic
status=0
"$STRATA" push --tls-verify=false img.oci "docker://$REGISTRY/auth/img:v1" 2>err || status=$?
assert_eq 1 "$status" "htpasswd registry, no credentials: exit 1"
assert_eq "strata: authentication required for $REGISTRY; use --creds or --authfile" "$(cat err)" "the message names the registry and the flags"
status=0
"$STRATA" push --tls-verify=false --creds "alice:wrong-$secret" img.oci "docker://$REGISTRY/auth/img:v1" 2>err || status=$?
assert_eq 1 "$status" "wrong password: exit 1"
grep -q "refused the credentials for alice" err || fail "wrong password: $(cat err)"
no_secret err
pass "wrong password: the registry and the user named, not the password"
"$STRATA" push --tls-verify=false --creds "alice:$secret" img.oci "docker://$REGISTRY/auth/img:v1" -v 2>err
no_secret err
assert_eq "$want_layers" "$(skopeo inspect --tls-verify=false --creds "alice:$secret" "docker://$REGISTRY/auth/img:v1" | jq -c .Layers)" \
  "--creds: pushed, and skopeo reads it back"
mkdir -p auth
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" "$(printf 'alice:%s' "$secret" | base64 -w0)" >auth/auth.json
"$STRATA" push --tls-verify=false --authfile auth/auth.json img.oci "docker://$REGISTRY/auth/img:v2" -q
pass "--authfile: pushed"
REGISTRY_AUTH_FILE=$WORK/auth/auth.json "$STRATA" pull --tls-verify=false "docker://$REGISTRY/auth/img:v2" -o pulled.tar -q
pass "\$REGISTRY_AUTH_FILE: pulled"
mkdir -p run/containers && cp auth/auth.json run/containers/auth.json
"$STRATA" push --tls-verify=false -q img.oci "docker://$REGISTRY/auth/img:v3"
rm run/containers/auth.json
pass "\$XDG_RUNTIME_DIR/containers/auth.json: pushed"
mkdir -p home/.docker && cp auth/auth.json home/.docker/config.json
"$STRATA" push --tls-verify=false -q img.oci "docker://$REGISTRY/auth/img:v4"
pass "~/.docker/config.json: pushed"
stop_registry

# --- the Bearer token flow -------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout token.key -out token.crt -days 2 -subj /CN=strata-token 2>/dev/null
token_port=$(free_port)
python3 "$STRATA_TESTS/e2e/lib/token_server.py" --port "$token_port" --key token.key --cert token.crt \
  --user "alice:$secret" --service strata-test --issuer strata-test-issuer --log token.log --lifetime 240 >token.out 2>&1 &
REGISTRY_PIDS+=($!)
for i in $(seq 1 100); do grep -q ready token.out 2>/dev/null && break; sleep 0.1; done
grep -q ready token.out || fail "the token server did not start: $(cat token.out)"
STRATA_TEST_AUTH_YAML="auth:
  token:
    realm: http://127.0.0.1:$token_port/token
    service: strata-test
    issuer: strata-test-issuer
    rootcertbundle: $WORK/token.crt" start_registry token
status=0
"$STRATA" push --tls-verify=false img.oci "docker://$REGISTRY/tok/img:v1" 2>err || status=$?
assert_eq 1 "$status" "token registry, no credentials: exit 1"
assert_eq "strata: authentication required for $REGISTRY; use --creds or --authfile" "$(cat err)" "the token flow's 401 message"
"$STRATA" push --tls-verify=false --creds "alice:$secret" --json img.oci "docker://$REGISTRY/tok/img:v1" >tok.json 2>err
no_secret err tok.json
assert_eq '["uploaded"]' "$(jq -c '[.blobs[].status] | unique' tok.json)" "token flow: every blob uploaded"
grep -q "scope=repository:tok/img:pull,push auth=yes 200" token.log || fail "no token for pull,push: $(cat token.log)"
pass "the token server was asked for repository:tok/img:pull,push with the credentials"
"$STRATA" push --tls-verify=false --creds "alice:$secret" --json img.oci "docker://$REGISTRY/tok/other:v1" >tok2.json
assert_eq '["mounted"]' "$(jq -c '[.blobs[].status] | unique' tok2.json)" "token flow: another repository mounts (a token for both scopes)"
"$STRATA" pull --tls-verify=false --creds "alice:$secret" "docker://$REGISTRY/tok/img:v1" -o tok-pulled.tar -q
assert_eq "$("$STRATA" inspect img.oci | jq -c '[.layers[].diff_id]')" "$("$STRATA" inspect tok-pulled.tar | jq -c '[.layers[].diff_id]')" \
  "token flow: pull gives the same diff_ids"
stop_registry

# --- TLS with a self-signed certificate ------------------------------------------------
mkdir -p certs
openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out certs/ca.crt -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 2>/dev/null
STRATA_TEST_TLS_CERT=$WORK/certs/ca.crt STRATA_TEST_TLS_KEY=$WORK/tls.key start_registry tls
status=0
"$STRATA" push img.oci "docker://$REGISTRY/tls/img:v1" 2>err || status=$?
assert_eq 1 "$status" "a self-signed certificate is refused by default: exit 1"
grep -q "cert-dir" err || fail "the refusal does not point at --cert-dir: $(cat err)"
pass "the refusal names the registry and --cert-dir: $(head -c 160 err)"
"$STRATA" push --cert-dir certs --json img.oci "docker://$REGISTRY/tls/img:v1" >tls.json
assert_eq "$want_layers" "$(skopeo inspect --cert-dir certs "docker://$REGISTRY/tls/img:v1" | jq -c .Layers)" \
  "--cert-dir with the CA: pushed over HTTPS, skopeo reads it back"
"$STRATA" pull --tls-verify=false "docker://$REGISTRY/tls/img:v1" -o tls.tar -q
pass "--tls-verify=false: unverified HTTPS pulls"
finish
