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

# Interleaved timing: commands are registered with bench_add, then bench_rounds runs one
# untimed warm-up of each and RUNS timed rounds, every round running each command once
# (starting one further along each round), so a machine whose load drifts over the run
# weighs on every command alike. PREPARE runs untimed before each run.
declare -A bench_prepare=() bench_command=()
bench_names=()

# bench_add NAME PREPARE COMMAND (shell command lines)
bench_add() {
  bench_names+=("$1")
  bench_prepare[$1]=$2
  bench_command[$1]=$3
}

# bench_run_once NAME [TIMES-FILE]: runs NAME's command once; appends "wall cpu" seconds.
bench_run_once() {
  local name=$1 times=${2:-/dev/null} log=$bench_work/results/$1.log t0 t1
  bash -c "${bench_prepare[$name]}" >"$log" 2>&1 || { cat "$log" >&2; bench_die "preparing $name failed"; }
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%U %S' -o "$bench_work/results/cpu" bash -c "${bench_command[$name]}" >"$log" 2>&1 || {
    tail -n 20 "$log" >&2
    bench_die "$name failed: ${bench_command[$name]}"
  }
  t1=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" '{ printf "%.4f %.4f\n", b - a, $1 + $2 }' "$bench_work/results/cpu" >>"$times"
}

# bench_rounds RUNS: times every registered command (see above).
bench_rounds() {
  local runs=$1 n=${#bench_names[@]} round i name
  mkdir -p "$bench_work/results"
  for name in "${bench_names[@]}"; do
    : >"$bench_work/results/$name.times"
    echo "bench: warm-up run of $name" >&2
    bench_run_once "$name"
  done
  for ((round = 0; round < runs; round++)); do
    echo "bench: round $((round + 1))/$runs" >&2
    for ((i = 0; i < n; i++)); do
      name=${bench_names[(round + i) % n]}
      bench_run_once "$name" "$bench_work/results/$name.times"
    done
  done
}

# bench_summary NAME: prints "median min max median-cpu" seconds of NAME's timed runs.
bench_summary() {
  python3 - "$bench_work/results/$1.times" <<'PY'
import statistics, sys
rows = [tuple(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
wall = [r[0] for r in rows]
cpu = [r[1] for r in rows]
print(f"{statistics.median(wall):.3f} {min(wall):.3f} {max(wall):.3f} {statistics.median(cpu):.2f}")
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
