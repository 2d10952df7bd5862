#!/usr/bin/env bash
# Benchmark (not a test): the layering step alone, on a synthetic closure graph of 10,000
# store paths with NAR sizes (scripts/bench/lib/gen_graph.py, deterministic). Measures,
# as `strata closure --layers … -v` reports the step itself (graph reading excluded):
#   auto        dockerAutoLayer with 99 layers (maxLayers 100, no base image)
#   popularity  referencesByPopularity cut into 99 layers
#   pipeline    [subcomponent_out of a hub, then popularity_contest + limit_layers on the rest]
# and, as the peer, the same auto-layer in tests/layering/reference.py (a naive Python
# implementation in the manner of nixpkgs' auto-layer.py), timed in-process, whose layers
# must equal strata's. Prints medians, the ratio to the peer, and the issue 15 target
# (each step well under a second). Exits 0 whether or not the target is met; non-zero only
# when something fails to run or the layers differ.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/bench/layering.sh [--runs N] [--paths N]

  --runs N    measured runs per step (default 5)
  --paths N   store paths in the graph (default 10000)

environment: STRATA (binary to measure; default: build it with scripts/build into
             ${STRATA_BUILD_DIR:-build}), TMPDIR
USAGE
}

runs=5 paths=10000
while [ $# -gt 0 ]; do
  case $1 in
  --runs | --paths)
    [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "layering.sh: $1 needs a positive number" >&2; exit 2; }
    if [ "$1" = --runs ]; then runs=$2; else paths=$2; fi
    shift 2
    ;;
  -h | --help) usage; exit 0 ;;
  *) echo "layering.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

src=$(cd "$(dirname "$0")/../.." && pwd)
source "$src/scripts/bench/lib/bench.sh"
bench_need python3 python3
bench_need jq jq
strata=$(bench_strata "$src")
bench_work=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench-layering.XXXXXX")
trap 'rm -rf "$bench_work"' EXIT

graph=$bench_work/graph.json
python3 "$src/scripts/bench/lib/gen_graph.py" "$paths" "$graph"
hub=$(jq -r '[.[] | {path, n: (.references | length)}] | max_by(.n) | .path' "$graph")
pipeline=$(jq -nc --arg hub "$hub" '[["subcomponent_out", [$hub]],
  ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 98]]]]]')

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

# step NAME ARGS…: runs `strata closure --layers ARGS -v` $runs times; prints the median ms.
declare -A step_ms=()
step() {
  local name=$1 i
  shift
  for ((i = 0; i < runs; i++)); do
    "$strata" closure --graph "$graph" --layers "$@" -v 2>"$bench_work/$name.err" >"$bench_work/$name.json" ||
      { cat "$bench_work/$name.err" >&2; bench_die "$name failed"; }
    sed -nE 's/.*layering: ([0-9.]+) ms.*/\1/p' "$bench_work/$name.err"
  done | median
}

echo "bench: $paths store paths, $(jq '[.[].references | length] | add' "$graph") references, $runs runs per step" >&2
step_ms[auto]=$(step auto auto --budget 99)
step_ms[popularity]=$(step popularity popularity --budget 99)
step_ms[pipeline]=$(step pipeline "$pipeline")

peer_ms=$(cd "$src/tests/layering" && python3 - "$graph" "$bench_work/auto.json" "$runs" <<'PY'
import json, statistics, sys, time
import reference
graph = json.load(open(sys.argv[1]))
ours = json.load(open(sys.argv[2]))
times = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    layers = reference.auto_layer(graph, set(), 99)
    times.append((time.perf_counter() - start) * 1000)
if layers != ours:
    sys.exit("the reference's auto-layer layers differ from strata's")
print(f"{statistics.median(times):.2f}")
PY
) || bench_die "the peer failed or its layers differ"

printf '%-12s %10s %s\n' step "median ms" "(layering step alone, $paths paths)"
for name in auto popularity pipeline; do printf '%-12s %10s\n' "$name" "${step_ms[$name]}"; done
printf '%-12s %10s\n' "auto (peer: tests/layering/reference.py)" "$peer_ms"
awk -v a="${step_ms[auto]}" -v p="$peer_ms" 'BEGIN { printf "auto: strata takes %.3f of the naive Python peer'"'"'s time (%.0fx faster), same layers\n", a / p, p / a }'
for name in auto popularity pipeline; do
  awk -v n="$name" -v ms="${step_ms[$name]}" 'BEGIN { printf "target %s < 1000 ms: %s (%.0f ms)\n", n, (ms < 1000 ? "met" : "NOT met"), ms }'
done
