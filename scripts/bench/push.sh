#!/usr/bin/env bash
# Benchmark (not a test): pushing a 100-layer image to a local registry (Debian's
# docker-registry on 127.0.0.1, its own config and storage in the temp dir), strata
# against `skopeo copy` in the same run, interleaved:
#   cold     into an emptied registry: strata push IMAGE.tar vs skopeo copy docker-archive:IMAGE.tar
#   warm     the same image again, nothing changed
#   change   one store path changed: strata layered -o docker:// (warm layer cache) vs
#            skopeo copy of the archive `strata layered` built after the same change
#            (the archive's build untimed)
# The image: 120 synthetic store paths of 8 KiB to 2 MiB (~50 MiB, half random), cut by
# maxLayers 100 into 98 layers of one path, a shared tail and the customisation layer,
# gzip. Every client talks through a counting proxy (scripts/bench/lib/count_proxy.py),
# one port per client and case, so the bytes each sent are measured, not estimated.
# Prints medians, ratios and the issue 14 targets: warm and change at least 5x faster
# than skopeo, and never more bytes. Exits non-zero only when something fails to run.
set -euo pipefail
runs=${RUNS:-5}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
source "$here/lib/bench.sh"
bench_work=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench-push.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  chmod -R u+rwX "$bench_work" 2>/dev/null || true
  rm -rf "$bench_work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for tool in docker-registry skopeo python3 jq curl; do bench_need "$tool" "$tool"; done
bench_need /usr/bin/time time
strata=$(bench_strata "$src")
w=$bench_work
export XDG_CACHE_HOME=$w/cache
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- the image -------------------------------------------------------------------------
python3 - "$w" <<'PY'
import hashlib, json, os, random, sys
w = sys.argv[1]; rng = random.Random(20261202); store = os.path.join(w, "store"); os.makedirs(store)
alphabet = "0123456789abcdfghijklmnpqrsvwxyz"
paths = []
for i in range(120):
    h = "".join(alphabet[b % 32] for b in hashlib.sha256(b"%d" % i).digest())[:32]
    p = os.path.join(store, f"{h}-pkg{i:03d}"); paths.append(p); os.makedirs(p + "/lib")
    size = int(8192 * (256 ** rng.random()))
    text = (" ".join(rng.choice(["lorem", "ipsum", "dolor", "sit", "amet", "store", "path"]) for _ in range(size // 10))).encode()
    with open(p + "/lib/data", "wb") as f:
        f.write(rng.randbytes(size // 2) + text[: size - size // 2])
# path i references i+1.., so popularity keeps the order stable
graph = [{"path": p, "references": [p] + ([paths[i + 1]] if i + 1 < len(paths) else [])} for i, p in enumerate(paths)]
json.dump(graph, open(os.path.join(w, "graph.json"), "w"))
json.dump({"name": "bench/push", "tag": "v1", "storeDir": store, "closureGraph": os.path.join(w, "graph.json"),
           "contents": [paths[0]], "maxLayers": 100, "config": {"Cmd": [paths[0] + "/lib/data"]}},
          open(os.path.join(w, "spec.json"), "w"))
PY
changed=$(jq -r '.[60].path' "$w/graph.json")
"$strata" layered "$w/spec.json" --cache-dir "$w/layers" -o "$w/image.tar" -q
layers=$("$strata" inspect "$w/image.tar" | jq '.layers | length')
image_bytes=$(stat -c %s "$w/image.tar")

# --- the registry and the counting proxy -------------------------------------------------
reg_port=$(port)
mkdir -p "$w/registry/storage" "$w/bytes"
cat >"$w/registry/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $w/registry/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$reg_port
YAML
docker-registry serve "$w/registry/config.yml" >"$w/registry/log" 2>&1 &
pids+=($!)
declare -A P
for c in strata_cold skopeo_cold strata_warm skopeo_warm strata_change skopeo_change; do P[$c]=$(port); done
python3 "$here/lib/count_proxy.py" "$reg_port" "$w/bytes" "${P[@]}" >"$w/proxy.out" 2>&1 &
pids+=($!)
for i in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$reg_port/v2/" >/dev/null 2>&1 && grep -q ready "$w/proxy.out" && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$reg_port/v2/" >/dev/null || bench_die "docker-registry did not start: $(cat "$w/registry/log")"

# Cold runs push to a repository never used before (a fresh name per run, so it holds
# nothing and the registry's other repositories keep theirs) with each tool's blob-info
# record emptied, so nothing is known to mount from.
cat >"$w/next_repo" <<'SH'
n=$(( $(cat "$1/counter" 2>/dev/null || echo 0) + 1 )); echo $n >"$1/counter"
rm -rf "$1/cache/strata/registry" /var/lib/containers/cache/blob-info-cache-v1.boltdb \
  "$HOME/.local/share/containers/cache/blob-info-cache-v1.boltdb"
SH
# A change: one new file in one store path, so one layer differs.
cat >"$w/change" <<SH
printf '%s\n' "\$(date +%s%N)" >"$changed/lib/changed-\$(date +%s%N)"
SH
sk="skopeo copy -q --dest-tls-verify=false --retry-times 0"
bench_add strata_cold "sh $w/next_repo $w" \
  "$strata push --tls-verify=false -q $w/image.tar docker://127.0.0.1:${P[strata_cold]}/cold/strata-\$(cat $w/counter):v1"
bench_add skopeo_cold "sh $w/next_repo $w" \
  "$sk docker-archive:$w/image.tar docker://127.0.0.1:${P[skopeo_cold]}/cold/skopeo-\$(cat $w/counter):v1"
# Cold first, on its own: its emptied blob-info records must not weigh on the warm runs
# (skopeo's record is where it learns which compressed blob a layer is).
bench_rounds "$runs"
bench_names=()
bench_add strata_warm "$strata push --tls-verify=false -q $w/image.tar docker://127.0.0.1:$reg_port/warm/strata:v1" \
  "$strata push --tls-verify=false -q $w/image.tar docker://127.0.0.1:${P[strata_warm]}/warm/strata:v1"
bench_add skopeo_warm "$sk docker-archive:$w/image.tar docker://127.0.0.1:$reg_port/warm/skopeo:v1" \
  "$sk docker-archive:$w/image.tar docker://127.0.0.1:${P[skopeo_warm]}/warm/skopeo:v1"
bench_add strata_change "sh $w/change" \
  "$strata layered $w/spec.json --cache-dir $w/layers -q --tls-verify=false -o docker://127.0.0.1:${P[strata_change]}/change/strata:v1"
bench_add skopeo_change "sh $w/change && $strata layered $w/spec.json --cache-dir $w/layers -q -o $w/changed.tar" \
  "$sk docker-archive:$w/changed.tar docker://127.0.0.1:${P[skopeo_change]}/change/skopeo:v1"
bench_rounds "$runs"
sleep 0.5 # the proxy writes a count when a connection closes

echo
echo "image: $layers layers, $(bench_mib "$image_bytes") as a docker-archive (gzip); $runs runs each after a warm-up"
echo "times through a counting proxy; bytes = client-to-registry bytes per run (requests and blobs)"
printf '%-8s %12s %12s %8s %14s %14s\n' case strata skopeo speedup "strata bytes" "skopeo bytes"
verdicts=()
for c in cold warm change; do
  read -r s_med _ <<<"$(bench_summary strata_$c)"
  read -r k_med _ <<<"$(bench_summary skopeo_$c)"
  s_bytes=$(( $(cat "$w/bytes/${P[strata_$c]}") / (runs + 1) ))
  k_bytes=$(( $(cat "$w/bytes/${P[skopeo_$c]}") / (runs + 1) ))
  speedup=$(bench_calc "$k_med / $s_med")
  printf '%-8s %11ss %11ss %7.1fx %14s %14s\n' "$c" "$s_med" "$k_med" "$speedup" "$s_bytes" "$k_bytes"
  if [ "$c" != cold ]; then
    ok=$(awk -v s="$speedup" -v a="$s_bytes" -v b="$k_bytes" 'BEGIN { print (s >= 5 && a <= b) ? "met" : "NOT met" }')
    verdicts+=("$c: >= 5x faster than skopeo and no more bytes: $ok")
  fi
done
printf 'target %s\n' "${verdicts[@]}"
