# Shared helpers of the benchmark scripts (sourced, not run).
# Callers set `set -euo pipefail` and define $bench_work (a temp dir they remove at exit).

bench_die() {
  echo "bench: $*" >&2
  exit 1
}

# bench_need COMMAND PACKAGE: fails naming the Debian package when COMMAND is missing.
bench_need() {
  if [[ $1 == /* ]]; then
    [ -x "$1" ] && return 0
  elif command -v "$1" >/dev/null 2>&1; then
    return 0
  fi
  bench_die "$1 is missing: install the Debian package '$2' (scripts/setup installs it)"
}

# bench_strata SRC: prints the strata binary to measure: $STRATA if set, else the one
# scripts/build makes in ${STRATA_BUILD_DIR:-SRC/build} (built or brought up to date first).
bench_strata() {
  local src=$1
  if [ -n "${STRATA:-}" ]; then
    [ -x "$STRATA" ] || bench_die "STRATA=$STRATA is not an executable"
    echo "$STRATA"
    return
  fi
  local build=${STRATA_BUILD_DIR:-$src/build}
  echo "bench: building strata in $build" >&2
  STRATA_BUILD_DIR=$build "$src/scripts/build" strata >&2 || bench_die "building strata failed"
  echo "$build/strata"
}

# bench_time NAME RUNS PREPARE COMMAND: times COMMAND (a shell command line) with one
# warm-up run and RUNS measured runs, PREPARE (untimed) before each; results are kept in
# $bench_work/results/NAME.json and printed as "median min max" seconds.
bench_time() {
  local name=$1 runs=$2 prepare=$3 command=$4
  local json=$bench_work/results/$name.json
  mkdir -p "$bench_work/results"
  echo "bench: timing $name ($runs runs after 1 warm-up)" >&2
  hyperfine --style none --warmup 1 --runs "$runs" --prepare "$prepare" --export-json "$json" \
    --command-name "$name" "$command" >/dev/null ||
    bench_die "$name failed (run it by hand: $command)"
  python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
if any(code != 0 for code in r.get("exit_codes", [0])):
    sys.exit(f"bench: {r['command']} exited with {r['exit_codes']}")
print(f"{r['median']:.3f} {r['min']:.3f} {r['max']:.3f}")
PY
}

# bench_peak_rss_kib OUTFILE COMMAND...: runs COMMAND under GNU time; prints its peak RSS
# in KiB; COMMAND's stdout goes to OUTFILE.
bench_peak_rss_kib() {
  local out=$1
  shift
  /usr/bin/time -f %M -o "$bench_work/rss" "$@" >"$out" || bench_die "$* failed"
  tail -n 1 "$bench_work/rss"
}

# bench_calc EXPR: evaluates a floating point expression with awk, prints the result.
bench_calc() {
  awk "BEGIN { printf \"%s\", $1 }"
}

bench_mib() {
  awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'
}
