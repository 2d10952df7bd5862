# Sourced by registry_* tests (after common.sh and layered.sh, whose EXIT trap this
# extends): Debian's docker-registry on 127.0.0.1 with its own config and storage in
# $WORK, and pushing a blob or a manifest over the registry HTTP API with curl.

REGISTRY_PID=
stop_registry() {
  local pid
  for pid in "${REGISTRY_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  REGISTRY_PIDS=()
}
trap 'stop_registry; cleanup_layered' EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry [NAME]: Debian's docker-registry on 127.0.0.1 with a config of the
# test's own (storage and log under $WORK/NAME, default "registry"); sets REGISTRY
# (host:port) and REGISTRY_LOG once /v2/ answers. The log is the access log (one line
# per request, "METHOD /v2/… HTTP/1.1" STATUS): the witness of what a client sent.
# STRATA_TEST_AUTH_YAML (an `auth:` section) and STRATA_TEST_TLS_CERT/STRATA_TEST_TLS_KEY
# (serve HTTPS) add to the config. (Not REGISTRY_*: docker-registry reads those from its
# environment as config keys.)
REGISTRY_PIDS=()
start_registry() {
  need docker-registry curl python3
  local name=${1:-registry} port dir
  port=$(free_port)
  dir=$WORK/$name
  mkdir -p "$dir/storage"
  {
    cat <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
    if [ -n "${STRATA_TEST_TLS_CERT:-}" ]; then
      printf '  tls:\n    certificate: %s\n    key: %s\n' "$STRATA_TEST_TLS_CERT" "$STRATA_TEST_TLS_KEY"
    fi
    if [ -n "${STRATA_TEST_AUTH_YAML:-}" ]; then printf '%s\n' "$STRATA_TEST_AUTH_YAML"; fi
  } >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY_PIDS+=("$REGISTRY_PID")
  REGISTRY=127.0.0.1:$port
  REGISTRY_LOG=$dir/log
  local i scheme=http code
  [ -n "${STRATA_TEST_TLS_CERT:-}" ] && scheme=https
  for i in $(seq 1 100); do
    code=$(curl -ks -o /dev/null -w '%{http_code}' "$scheme://$REGISTRY/v2/" 2>/dev/null || true)
    if [ "$code" = 200 ] || [ "$code" = 401 ]; then return 0; fi
    kill -0 "$REGISTRY_PID" 2>/dev/null || fail "docker-registry exited: $(cat "$dir/log")"
    sleep 0.1
  done
  fail "docker-registry did not answer on $REGISTRY within 10 s: $(cat "$dir/log")"
}

# requests PATTERN: how many access-log lines of the current registry match (grep -E).
requests() { grep -cE "$1" "$REGISTRY_LOG" || true; }
# blob_uploads: requests that carried blob bytes (PATCH, or PUT of an upload).
blob_uploads() { requests '"(PATCH|PUT) /v2/[^ ]*/blobs/uploads/'; }

# push_blob REPO FILE DIGEST: a monolithic upload (POST, then PUT ?digest=).
push_blob() {
  local repo=$1 file=$2 digest=$3 location
  location=$(curl -fsS -X POST -D - -o /dev/null "http://$REGISTRY/v2/$repo/blobs/uploads/" |
    tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  [ -n "$location" ] || fail "the registry gave no upload location for $repo"
  case $location in /*) location=http://$REGISTRY$location ;; esac
  case $location in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
  curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$file" "$location" -o /dev/null ||
    fail "uploading $file as $digest to $repo failed"
}

# push_manifest REPO TAG FILE MEDIATYPE: prints the Docker-Content-Digest the registry answers.
push_manifest() {
  curl -fsS -X PUT -H "Content-Type: $4" --data-binary "@$3" -D - -o /dev/null "http://$REGISTRY/v2/$1/manifests/$2" |
    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}
