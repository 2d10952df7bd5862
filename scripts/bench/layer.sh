#!/usr/bin/env bash
# Benchmark (not a test): one layer from a ~140 MB tree of ~11,400 files, three ways, in
# one run: `strata build` (gzip), the seed's pipeline (tar | tee | sha256sum, then
# pigz -nT and sha256sum of the .gz) and `umoci insert --rootless`. Prints the medians,
# the ratios, the compressed sizes and strata's peak memory against the targets of
# issue 2 (>= 3x faster than the seed, size within 5% of pigz's, peak RSS < 64 MiB).
# Exits 0 whether or not the targets are met; non-zero only when something fails to run.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/bench/layer.sh [--runs N] [--zstd] [--tree DIR] [--no-cache]

  --runs N     measured runs per command (default 5), after one warm-up run each
  --zstd       also compare strata --compress zstd with the seed pipeline using zstd -T0 -3
  --tree DIR   measure this tree instead of the generated one
  --no-cache   generate the tree into the temp dir instead of using/filling the cache
               (${XDG_CACHE_HOME:-$HOME/.cache}/strata-bench/)

environment: STRATA (binary to measure; default: build it with scripts/build into
             ${STRATA_BUILD_DIR:-build}), STRATA_THREADS (passed on to strata), TMPDIR
USAGE
}

runs=5 with_zstd=0 tree_arg="" use_cache=1
while [ $# -gt 0 ]; do
  case $1 in
  --runs)
    [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "layer.sh: --runs needs a positive number" >&2; exit 2; }
    runs=$2
    shift 2
    ;;
  --zstd) with_zstd=1; shift ;;
  --tree)
    [ $# -ge 2 ] && [ -d "$2" ] || { echo "layer.sh: --tree needs a directory" >&2; exit 2; }
    tree_arg=$(cd "$2" && pwd)
    shift 2
    ;;
  --no-cache) use_cache=0; shift ;;
  -h | --help) usage; exit 0 ;;
  *) echo "layer.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
source "$here/lib/bench.sh"
source "$here/lib/tree.sh"

bench_cleanup=()
bench_work=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
cleanup() {
  chmod -R u+rwX "$bench_work" 2>/dev/null || true
  rm -rf "$bench_work" "${bench_cleanup[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -----------------------------------------------------------------------------
bench_need pigz pigz
bench_need umoci umoci
bench_need /usr/bin/time time
bench_need python3 python3
bench_need tar tar
bench_need gzip gzip
bench_need sha256sum coreutils
[ "$with_zstd" = 1 ] && bench_need zstd zstd
tar --version | grep 'GNU tar' >/dev/null || bench_die "tar is not GNU tar: install the Debian package 'tar'"
strata=$(bench_strata "$src")

# --- the tree --------------------------------------------------------------------------
if [ -n "$tree_arg" ]; then
  tree=$tree_arg
  bench_tree_stats "$tree" >"$bench_work/tree-stats.json"
else
  tree=$(bench_tree "$use_cache")
fi
tree_stat() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$bench_work/tree-stats.json" "$1"; }

out=$bench_work/out
mkdir -p "$out" "$bench_work/cmd"
q() { printf '%q' "$1"; }

# --- the commands ----------------------------------------------------------------------
# The seed pipeline as dockerTools runs it: a deterministic tar, its sha256 (diff_id)
# while it is written, then pigz and the blob's sha256.
seed_script() { # COMPRESS-COMMAND SUFFIX
  cat <<SH
set -euo pipefail
cd $(q "$out")
tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner --hard-dereference -C $(q "$tree") -cf - . | tee layer.tar | sha256sum >layer.diff_id
$1 <layer.tar >layer.tar.$2
sha256sum layer.tar.$2 >layer.digest
SH
}
seed_script "pigz -nT" gz >"$bench_work/cmd/seed-gzip.sh"
seed_script "zstd -q -T0 -3" zst >"$bench_work/cmd/seed-zstd.sh"

strata_cmd() { # COMPRESSION
  echo "$(q "$strata") build -q --name bench --compress $1 --copy-to-root $(q "$tree") -o $(q "$out/strata-$1.tar")"
}

# umoci needs an image to insert into: an empty one, made once, copied before each run.
umoci init --layout "$bench_work/empty-image" >/dev/null
umoci new --image "$bench_work/empty-image:bench" >/dev/null
umoci_prepare="rm -rf $(q "$out/umoci-image") && cp -a $(q "$bench_work/empty-image") $(q "$out/umoci-image")"
umoci_cmd="umoci insert --rootless --image $(q "$out/umoci-image"):bench $(q "$tree") /"

# --- timing ----------------------------------------------------------------------------
# summary PREFIX NAME: sets PREFIX_med, PREFIX_min, PREFIX_max, PREFIX_cpu.
summary() {
  local result
  result=$(bench_summary "$2")
  read -r "${1}_med" "${1}_min" "${1}_max" "${1}_cpu" <<<"$result"
}
bench_add strata-gzip "rm -f $(q "$out/strata-gzip.tar")" "$(strata_cmd gzip)"
bench_add seed-gzip "rm -f $(q "$out")/layer.*" "bash $(q "$bench_work/cmd/seed-gzip.sh")"
bench_add umoci "$umoci_prepare" "$umoci_cmd"
if [ "$with_zstd" = 1 ]; then
  bench_add strata-zstd "rm -f $(q "$out/strata-zstd.tar")" "$(strata_cmd zstd)"
  bench_add seed-zstd "rm -f $(q "$out")/layer.*" "bash $(q "$bench_work/cmd/seed-zstd.sh")"
fi
load_before=$(cut -d' ' -f1 /proc/loadavg)
bench_rounds "$runs"
summary strata strata-gzip
summary seed seed-gzip
summary umoci umoci
if [ "$with_zstd" = 1 ]; then
  summary strataz strata-zstd
  summary seedz seed-zstd
fi
load_after=$(cut -d' ' -f1 /proc/loadavg)

# --- sizes, memory, and a check that the three made the same layer ---------------------
# One more strata run per compression, untimed, under GNU time for the peak RSS; its
# --json report gives the layer's digests and size.
layer_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][-1][sys.argv[2]])' "$@"; }
echo "bench: measuring strata's peak memory" >&2
rm -f "$out/strata-gzip.tar"
strata_rss_kib=$(bench_peak_rss_kib "$bench_work/strata-gzip.json" bash -c "$(strata_cmd gzip) --json")
strata_size=$(layer_field "$bench_work/strata-gzip.json" size)
strata_diff_id=$(layer_field "$bench_work/strata-gzip.json" diff_id)

bash "$bench_work/cmd/seed-gzip.sh" || bench_die "the seed pipeline failed"
pigz_size=$(stat -c %s "$out/layer.tar.gz")
tar_size=$(stat -c %s "$out/layer.tar")

umoci_size=$(python3 - "$out/umoci-image" <<'PY'
import json, os, sys
root = sys.argv[1]
def blob(d): return os.path.join(root, "blobs", *d.split(":"))
index = json.load(open(os.path.join(root, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
print(sum(l["size"] for l in manifest["layers"]))
PY
) || bench_die "cannot read umoci's image"

# The layer strata wrote must hold what the seed's tar holds (plus nix/store, which
# buildImage always has), and its diff_id must be the sha256 of its uncompressed bytes.
echo "bench: checking strata's layer against the seed's tar" >&2
layer_member=$(tar -xOf "$out/strata-gzip.tar" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"][0])')
tar -xOf "$out/strata-gzip.tar" "$layer_member" | gzip -dc >"$bench_work/strata-layer.tar" || bench_die "strata's layer is not valid gzip"
[ "sha256:$(sha256sum <"$bench_work/strata-layer.tar" | cut -d' ' -f1)" = "$strata_diff_id" ] ||
  bench_die "strata's diff_id is not the sha256 of its layer"
tar -tf "$bench_work/strata-layer.tar" | sed 's,/$,,' | grep -vx -e nix -e nix/store | sort >"$bench_work/strata.list"
tar -tf "$out/layer.tar" | sed -e 's,^\./,,' -e 's,/$,,' | grep -vx -e '\.' -e '' | sort >"$bench_work/seed.list"
diff -q "$bench_work/strata.list" "$bench_work/seed.list" >/dev/null ||
  bench_die "strata's layer and the seed's tar list different entries (diff $bench_work/strata.list $bench_work/seed.list)"
entries=$(wc -l <"$bench_work/seed.list")
rm -f "$bench_work/strata-layer.tar"

if [ "$with_zstd" = 1 ]; then
  rm -f "$out/strata-zstd.tar"
  strataz_rss_kib=$(bench_peak_rss_kib "$bench_work/strata-zstd.json" bash -c "$(strata_cmd zstd) --json")
  strataz_size=$(layer_field "$bench_work/strata-zstd.json" size)
  bash "$bench_work/cmd/seed-zstd.sh" || bench_die "the seed pipeline with zstd failed"
  zstd_size=$(stat -c %s "$out/layer.tar.zst")
fi

# --- report ----------------------------------------------------------------------------
ratio() { bench_calc "sprintf(\"%.2f\", $1 / $2)"; }
pct() { bench_calc "sprintf(\"%+.2f%%\", ($1 - $2) * 100 / $2)"; }
verdict() { if [ "$(bench_calc "($1) ? 1 : 0")" = 1 ]; then echo "met"; else echo "MISSED"; fi; }
row() { printf '%-38s %8s %7s %7s %7s %9s  %s\n' "$@"; }

seed_ratio=$(ratio "$seed_med" "$strata_med")
umoci_ratio=$(ratio "$umoci_med" "$strata_med")
size_diff=$(pct "$strata_size" "$pigz_size")
rss_mib=$(bench_calc "sprintf(\"%.1f\", $strata_rss_kib / 1024)")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
if [ -n "${STRATA:-}" ]; then
  version="binary $strata"
else
  version="built from $(git -C "$src" describe --always --dirty 2>/dev/null || echo "$src")"
fi

echo
echo "strata layer benchmark"
echo "tree:    $(tree_stat files) files, $(tree_stat dirs) dirs, $(tree_stat symlinks) symlinks in $tree"
mix=""
[ -n "$(tree_stat random_bytes)" ] &&
  mix=" (random: $(bench_mib "$(tree_stat random_bytes)"), text: $(bench_mib "$(tree_stat text_bytes)"))"
echo "         $(bench_mib "$(tree_stat bytes)") of file data$mix, median file $(tree_stat median_size) B, largest $(bench_mib "$(tree_stat largest)")"
echo "         uncompressed tar (seed): $(bench_mib "$tar_size"), $entries entries"
echo "machine: $(nproc) CPUs ($cpu), strata $version, STRATA_THREADS=${STRATA_THREADS:-unset}"
echo "method:  1 warm-up run of each, then $runs round(s), each running every command once (interleaved);"
echo "         page cache warm (not dropped) for all; median wall time reported"
echo "         load average $load_before before the timings, $load_after after (cpu s: median user + sys of all threads and processes)"
echo
row "command" "median s" "min s" "max s" "cpu s" "÷ strata" "compressed layer"
row "strata build --compress gzip" "$strata_med" "$strata_min" "$strata_max" "$strata_cpu" "1.00" "$strata_size B ($(bench_mib "$strata_size"))"
row "seed: tar|tee|sha256sum; pigz -nT" "$seed_med" "$seed_min" "$seed_max" "$seed_cpu" "$seed_ratio" "$pigz_size B ($(bench_mib "$pigz_size"))"
row "umoci insert --rootless" "$umoci_med" "$umoci_min" "$umoci_max" "$umoci_cpu" "$umoci_ratio" "$umoci_size B ($(bench_mib "$umoci_size"))"
if [ "$with_zstd" = 1 ]; then
  row "strata build --compress zstd" "$strataz_med" "$strataz_min" "$strataz_max" "$strataz_cpu" "1.00" "$strataz_size B ($(bench_mib "$strataz_size"))"
  row "seed: tar|tee|sha256sum; zstd -T0 -3" "$seedz_med" "$seedz_min" "$seedz_max" "$seedz_cpu" "$(ratio "$seedz_med" "$strataz_med")" "$zstd_size B ($(bench_mib "$zstd_size"))"
fi
echo
echo "targets (issue 2):"
printf '  speed:  seed / strata = %sx (target >= 3x): %s\n' "$seed_ratio" "$(verdict "$seed_med / $strata_med >= 3")"
printf '  size:   strata gzip layer vs pigz = %s (target within 5%%): %s\n' "$size_diff" \
  "$(verdict "$strata_size <= $pigz_size * 1.05")"
printf '  memory: strata peak RSS = %s MiB (target < 64 MiB): %s\n' "$rss_mib" "$(verdict "$strata_rss_kib < 65536")"
echo "  (umoci / strata = ${umoci_ratio}x; cpu time: seed / strata = $(ratio "$seed_cpu" "$strata_cpu")x, umoci / strata = $(ratio "$umoci_cpu" "$strata_cpu")x)"
if [ "$(bench_calc "($load_before > $(nproc) || $load_after > $(nproc)) ? 1 : 0")" = 1 ]; then
  echo "warning: the machine was busy (load average above its $(nproc) CPUs): wall times are inflated, and the"
  echo "         ratios skewed by how the scheduler shares the CPUs among the processes and threads of each"
  echo "         command; the cpu-time ratio is less sensitive to that"
fi
if [ "$with_zstd" = 1 ]; then
  echo "extra:   strata zstd layer vs zstd -3 = $(pct "$strataz_size" "$zstd_size"), strata zstd peak RSS = $(bench_calc "sprintf(\"%.1f\", $strataz_rss_kib / 1024)") MiB"
fi
