# Sourced by registry_* tests (after common.sh and layered.sh, whose EXIT trap this
# extends): Debian's docker-registry on 127.0.0.1 with its own config and storage in
# $WORK, and pushing a blob or a manifest over the registry HTTP API with curl.

REGISTRY_PID=
stop_registry() {
  if [ -n "$REGISTRY_PID" ]; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
    REGISTRY_PID=
  fi
}
trap 'stop_registry; cleanup_layered' EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry: sets REGISTRY (host:port) once /v2/ answers.
start_registry() {
  need docker-registry curl python3
  local port
  port=$(free_port)
  mkdir -p "$WORK/registry/storage"
  cat >"$WORK/registry/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORK/registry/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
  docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry/log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY=127.0.0.1:$port
  local i
  for i in $(seq 1 100); do
    if curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; then return 0; fi
    kill -0 "$REGISTRY_PID" 2>/dev/null || fail "docker-registry exited: $(cat "$WORK/registry/log")"
    sleep 0.1
  done
  fail "docker-registry did not answer on $REGISTRY within 10 s: $(cat "$WORK/registry/log")"
}

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
