#!/usr/bin/env bash
# Benchmark (not a test): strata layered / stream on a synthetic Nix store of 240 paths
# and ~320 MiB (half the bytes random, half text-like; deterministic; a DAG of
# references named in the files and given as a closureGraph JSON). Measures, interleaved:
#   full      strata layered --cache-dir FRESH (an empty cache each run)
#   cached    strata layered --cache-dir WARM after one store path (own layer) changed
#   tail      the same when the changed path is in the shared tail layer (context)
#   scanned   the cached rebuild without the closureGraph: the closure is scanned (context)
# then the peak RSS of `strata stream > /dev/null` (no cache) for this image and for one
# twice as large (480 paths, ~640 MiB). Prints medians and the issue 3 targets: cached
# rebuild <= 10% of the full build; stream peak memory < 64 MiB whatever the size.
# Exits 0 whether or not the targets are met; non-zero only when something fails to run.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/bench/layered.sh [--runs N] [--no-cache]

  --runs N     measured runs per command (default 5), after one warm-up run each
  --no-cache   generate the stores into the temp dir instead of using/filling the cache
               (${XDG_CACHE_HOME:-$HOME/.cache}/strata-bench/)

environment: STRATA (binary to measure; default: build it with scripts/build into
             ${STRATA_BUILD_DIR:-build}), TMPDIR
USAGE
}

runs=5 use_cache=1
while [ $# -gt 0 ]; do
  case $1 in
  --runs)
    [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "layered.sh: --runs needs a positive number" >&2; exit 2; }
    runs=$2
    shift 2
    ;;
  --no-cache) use_cache=0; shift ;;
  -h | --help) usage; exit 0 ;;
  *) echo "layered.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
source "$here/lib/bench.sh"

bench_cleanup=()
bench_work=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
cleanup() {
  chmod -R u+rwX "$bench_work" 2>/dev/null || true
  rm -rf "$bench_work" "${bench_cleanup[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_need /usr/bin/time time
bench_need python3 python3
bench_need jq jq
strata=$(bench_strata "$src")

# --- the synthetic store ---------------------------------------------------------------
# gen_store.py key SCALE | write DIR SCALE: DIR/store (the store dir), DIR/graph.json,
# DIR/stats.json. Change VERSION whenever the output would change.
cat >"$bench_work/gen_store.py" <<'PY'
import hashlib, json, os, random, sys

VERSION = 2
PARAMS = {"seed": 20240611, "paths": 240, "bytes": 320 << 20, "smallest": 8 << 10, "largest": 24 << 20,
          "extra_refs": (0, 4), "popular": 12, "file_cap": 4 << 20}
ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"  # nix-base32

def params(scale):
    p = dict(PARAMS)
    p["paths"] *= scale
    p["bytes"] *= scale
    p["seed"] += scale
    return p

def key(scale):
    text = json.dumps({"version": VERSION, "params": params(scale)}, sort_keys=True)
    return f"v{VERSION}-x{scale}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"

def write(out, scale):
    p = params(scale)
    rng = random.Random(p["seed"])
    store = os.path.join(out, "store")
    os.makedirs(store)
    n = p["paths"]
    names = []
    for i in range(n):
        digest = hashlib.sha256(f"{p['seed']}/{i}".encode()).digest()
        h = "".join(ALPHABET[b % 32] for b in digest)[:32]
        names.append(os.path.join(store, f"{h}-pkg{i:04d}-1.{i % 7}"))
    # A DAG: path 0 is the contents entry (an environment), path 1 the program in Cmd;
    # every later path has a parent before it (so the closure holds them all), and some
    # extra references to later paths, mostly to the first few "popular" libraries.
    refs = [set() for _ in range(n)]
    for i in range(2, n):
        refs[rng.randrange(0, i) if i > 2 else 0].add(i)
        refs[i].add(i)  # self-references are common in Nix
    for i in range(n):
        for _ in range(rng.randint(*p["extra_refs"])):
            lo = max(i + 1, 2)
            if lo >= n:
                break
            j = rng.randrange(lo, min(n, lo + p["popular"])) if rng.random() < 0.5 else rng.randrange(lo, n)
            refs[i].add(j)
    # Sizes: log-uniform, scaled to the byte budget.
    raw = [p["smallest"] * (p["largest"] / p["smallest"]) ** rng.random() for _ in range(n)]
    raw[0] = raw[1] = p["smallest"]
    factor = p["bytes"] / sum(raw)
    sizes = [max(4096, int(s * factor)) for s in raw]
    words = ["".join(rng.choice("etaoinshrdlcumwfgypbvkjxqz") for _ in range(rng.randint(2, 9))) for _ in range(4096)]
    lines = [(" ".join(rng.choice(words) for _ in range(rng.randint(3, 14))) + "\n").encode() for _ in range(65536)]
    stats = {"paths": n, "files": 0, "bytes": 0, "random_bytes": 0, "text_bytes": 0, "largest_path": max(sizes)}
    for i in range(n):
        root = names[i]
        os.makedirs(os.path.join(root, "nix-support"))
        os.makedirs(os.path.join(root, "lib"))
        os.makedirs(os.path.join(root, "share", "doc"))
        with open(os.path.join(root, "nix-support", "references"), "w") as f:
            f.write("".join(names[j] + "\n" for j in sorted(refs[i])))
        left, k = sizes[i], 0
        while left > 0:
            size = min(left, max(4096, int(p["file_cap"] * rng.random() ** 3)))
            left -= size
            half = size // 2
            text = bytearray()
            while len(text) < size - half:
                text += rng.choice(lines)
            body = rng.randbytes(half) + bytes(text[: size - half])
            sub = "lib" if k % 2 == 0 else os.path.join("share", "doc")
            with open(os.path.join(root, sub, f"file{k:03d}"), "wb") as f:
                f.write(body)
            stats["files"] += 1
            stats["bytes"] += size
            stats["random_bytes"] += half
            stats["text_bytes"] += size - half
            k += 1
        if i == 1:
            os.makedirs(os.path.join(root, "bin"))
            with open(os.path.join(root, "bin", "run"), "w") as f:
                f.write("#!/bin/sh\n" + "".join(f"# {names[j]}\n" for j in sorted(refs[i])))
            os.chmod(os.path.join(root, "bin", "run"), 0o755)
        if i % 5 == 0:
            os.symlink("file000", os.path.join(root, "lib", "link"))
    # The graph names the store dir @STORE@: the generated dir is moved, and copied.
    base = [os.path.basename(x) for x in names]
    graph = [{"path": "@STORE@/" + base[i], "references": ["@STORE@/" + base[j] for j in sorted(refs[i])]}
             for i in range(n)]
    with open(os.path.join(out, "graph.json"), "w") as f:
        json.dump(graph, f)
    stats["path0"], stats["path1"] = base[0], base[1]
    print(json.dumps(stats))

if sys.argv[1] == "key":
    print(key(int(sys.argv[2])))
else:
    write(sys.argv[2], int(sys.argv[3]))
PY

# bench_store SCALE: prints the dir holding store/, graph.json and stats.json.
bench_store() {
  local scale=$1 k dir
  k=$(python3 "$bench_work/gen_store.py" key "$scale")
  if [ "$use_cache" = 1 ]; then
    local cache_dir=${XDG_CACHE_HOME:-$HOME/.cache}/strata-bench
    dir=$cache_dir/layered-store-$k
    if [ ! -f "$dir/stats.json" ]; then
      mkdir -p "$cache_dir" || bench_die "cannot create $cache_dir"
      local partial
      partial=$(mktemp -d "$cache_dir/partial.XXXXXX")
      bench_cleanup+=("$partial")
      echo "bench: generating the x$scale store (once; cached in $dir)" >&2
      python3 "$bench_work/gen_store.py" write "$partial/gen" "$scale" >"$partial/gen.stats" ||
        bench_die "generating the store failed"
      mv "$partial/gen.stats" "$partial/gen/stats.json"
      rm -rf "$dir"
      mv "$partial/gen" "$dir" || bench_die "cannot move the store into $dir"
    else
      echo "bench: using the cached x$scale store $dir" >&2
    fi
  else
    dir=$bench_work/store-x$scale
    echo "bench: generating the x$scale store into $dir" >&2
    mkdir -p "$dir.tmp"
    python3 "$bench_work/gen_store.py" write "$dir" "$scale" >"$dir.tmp/stats.json" || bench_die "generating the store failed"
    mv "$dir.tmp/stats.json" "$dir/stats.json"
    rmdir "$dir.tmp"
  fi
  echo "$dir"
}

gen=$(bench_store 1)
gen2=$(bench_store 2)
stat1() { jq -r ".$1" "$gen/stats.json"; }

# The store the builds read: a copy of the cached one made of hard links (no data copied),
# so that a "change" can replace a file by rename without touching the cache; the graph is
# rewritten for its store dir.
store=$bench_work/s/store
mkdir -p "$bench_work/s"
if ! cp -al "$gen/store" "$store" 2>/dev/null; then
  echo "bench: hard links to the cached store failed (another file system?); copying it" >&2
  rm -rf "$store"
  cp -a "$gen/store" "$store"
fi
sed "s|@STORE@|$store|g" "$gen/graph.json" >"$bench_work/graph.json"
path0=$store/$(stat1 path0)
path1=$store/$(stat1 path1)
spec() { # file, closureGraph (or "")
  jq -n --arg store "$store" --arg env "$path0" --arg cmd "$path1/bin/run" --arg graph "$2" '
    {name: "bench/layered", tag: "v1", storeDir: $store, contents: [$env], config: {Cmd: [$cmd]}}
    + (if $graph == "" then {} else {closureGraph: $graph} end)' >"$1"
}
spec "$bench_work/spec.json" "$bench_work/graph.json"
spec "$bench_work/spec-scan.json" ""

# One full build gives the layering: which path has its own layer, which is in the tail.
echo "bench: a first build for the layering" >&2
"$strata" layered "$bench_work/spec.json" --no-cache -o "$bench_work/first.tar" --json -q >"$bench_work/first.json" ||
  bench_die "strata layered failed"
layer_count=$(jq '.layers | length' "$bench_work/first.json")
image_bytes=$(stat -c %s "$bench_work/first.tar")
store_bytes=$(stat1 bytes)
# own: the 50th most popular path (a single-path layer); tail: the last of the shared layer.
own_path=$(jq -r '.store_layers[49][0]' "$bench_work/first.json")
tail_path=$(jq -r '.store_layers[-1][-1]' "$bench_work/first.json")
tail_count=$(jq '.store_layers[-1] | length' "$bench_work/first.json")
file_bytes() { find "$@" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; } # regular files under the paths
tail_bytes=$(file_bytes $(jq -r '.store_layers[-1][]' "$bench_work/first.json"))
rm -f "$bench_work/first.tar"

# change PATH: replaces one of its files by a new one (rename: the cached store's link
# stays as it was), so the next build must read PATH again.
cat >"$bench_work/change.sh" <<'SH'
set -eu
f=$(find "$1/lib" -type f -name 'file*' | sort | sed -n 1p)
chmod u+w "$1/lib"
{ cat "$f"; date +%s%N; } >"$f.new"
mv -f "$f.new" "$f"
chmod a-w "$1/lib"
SH
q() { printf '%q' "$1"; }
layered() { # spec cache-dir output
  echo "$(q "$strata") layered $(q "$1") --cache-dir $(q "$2") -o $(q "$3") -q"
}
fresh=$bench_work/cache-fresh warm=$bench_work/cache-warm out=$bench_work/out
mkdir -p "$out"
bench_add full "rm -rf $(q "$fresh") $(q "$out/full.tar")" "$(layered "$bench_work/spec.json" "$fresh" "$out/full.tar")"
bench_add cached "bash $(q "$bench_work/change.sh") $(q "$own_path"); rm -f $(q "$out/cached.tar")" \
  "$(layered "$bench_work/spec.json" "$warm" "$out/cached.tar")"
bench_add tail "bash $(q "$bench_work/change.sh") $(q "$tail_path"); rm -f $(q "$out/tail.tar")" \
  "$(layered "$bench_work/spec.json" "$warm" "$out/tail.tar")"
bench_add scanned "bash $(q "$bench_work/change.sh") $(q "$own_path"); rm -f $(q "$out/scanned.tar")" \
  "$(layered "$bench_work/spec-scan.json" "$warm" "$out/scanned.tar")"
load_before=$(cut -d' ' -f1 /proc/loadavg)
bench_rounds "$runs" # the warm-up runs fill the warm cache
load_after=$(cut -d' ' -f1 /proc/loadavg)
summary() { # PREFIX NAME
  local result
  result=$(bench_summary "$2")
  read -r "${1}_med" "${1}_min" "${1}_max" "${1}_cpu" <<<"$result"
}
summary full full
summary cached cached
summary tail tail
summary scanned scanned

# What the cached rebuild read, from its --json statistics (one more, untimed run).
bash "$bench_work/change.sh" "$own_path"
"$strata" layered "$bench_work/spec.json" --cache-dir "$warm" -o "$out/check.tar" --json -q >"$bench_work/check.json"
cached_read=$(jq .stats.file_bytes_read "$bench_work/check.json")
cached_hits=$(jq .stats.layers_from_cache "$bench_work/check.json")
own_bytes=$(file_bytes "$own_path")
"$strata" layered "$bench_work/spec-scan.json" --cache-dir "$warm" -o "$out/check-scan.tar" --json -q >"$bench_work/check-scan.json"
[ "$(jq -c .store_layers "$bench_work/check.json")" = "$(jq -c .store_layers "$bench_work/check-scan.json")" ] ||
  bench_die "the scanned closure is layered differently from the closureGraph's: the 'scanned' row compares unlike builds"

# Stream peak memory, no cache (every layer: a digest pass, then the bytes), x1 and x2.
echo "bench: stream peak memory" >&2
stream_rss() { # spec
  /usr/bin/time -f %M -o "$bench_work/rss" "$strata" stream "$1" --no-cache --json >/dev/null 2>"$bench_work/stream.json" ||
    bench_die "strata stream failed: $(cat "$bench_work/stream.json")"
  tail -n 1 "$bench_work/rss"
}
stream_t0=$EPOCHREALTIME
rss1=$(stream_rss "$bench_work/spec.json")
stream_t1=$EPOCHREALTIME
stream1_bytes=$(jq '[.layers[].size] | add' "$bench_work/stream.json")
sed "s|@STORE@|$gen2/store|g" "$gen2/graph.json" >"$bench_work/graph2.json"
jq -n --arg store "$gen2/store" --arg env "$gen2/store/$(jq -r .path0 "$gen2/stats.json")" \
  --arg cmd "$gen2/store/$(jq -r .path1 "$gen2/stats.json")/bin/run" --arg graph "$bench_work/graph2.json" '
  {name: "bench/layered2", tag: "v1", storeDir: $store, closureGraph: $graph, contents: [$env], config: {Cmd: [$cmd]}}' \
  >"$bench_work/spec2.json"
rss2=$(stream_rss "$bench_work/spec2.json")
stream2_bytes=$(jq '[.layers[].size] | add' "$bench_work/stream.json")

# --- report ----------------------------------------------------------------------------
verdict() { if [ "$(bench_calc "($1) ? 1 : 0")" = 1 ]; then echo "met"; else echo "MISSED"; fi; }
pct() { bench_calc "sprintf(\"%.1f%%\", $1 * 100 / $2)"; }
row() { printf '%-62s %8s %7s %7s %7s %8s\n' "$@"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
if [ -n "${STRATA:-}" ]; then version="binary $strata"; else version="built from $(git -C "$src" describe --always --dirty 2>/dev/null || echo "$src")"; fi

echo
echo "strata layered benchmark"
echo "store:   $(stat1 paths) paths, $(stat1 files) files, $(bench_mib "$store_bytes") (random: $(bench_mib "$(stat1 random_bytes)"), text: $(bench_mib "$(stat1 text_bytes)")), largest path $(bench_mib "$(stat1 largest_path)")"
echo "         $gen"
echo "image:   $layer_count layers (maxLayers 100), gzip, $(bench_mib "$image_bytes") docker-archive; shared tail: $tail_count paths, $(bench_mib "$tail_bytes")"
echo "machine: $(nproc) CPUs ($cpu), strata $version"
echo "method:  1 warm-up run of each, then $runs round(s), each running every command once (interleaved);"
echo "         page cache warm; median wall time; load average $load_before before, $load_after after"
echo "         a 'change' replaces one file of the path (new bytes, new inode) before each run"
echo
row "command" "median s" "min s" "max s" "cpu s" "÷ full"
row "full build (--cache-dir FRESH)" "$full_med" "$full_min" "$full_max" "$full_cpu" "100%"
row "cached rebuild, 1 path changed ($(bench_mib "$own_bytes"), own layer)" "$cached_med" "$cached_min" "$cached_max" "$cached_cpu" "$(pct "$cached_med" "$full_med")"
row "cached rebuild, 1 path changed in the shared tail layer" "$tail_med" "$tail_min" "$tail_max" "$tail_cpu" "$(pct "$tail_med" "$full_med")"
row "cached rebuild, 1 path changed, closure scanned (no graph)" "$scanned_med" "$scanned_min" "$scanned_max" "$scanned_cpu" "$(pct "$scanned_med" "$full_med")"
echo
echo "cached rebuild read $cached_read bytes of store files (the changed path's files: $own_bytes bytes), $cached_hits of $((layer_count - 1)) store layers from the cache"
echo "stream (no cache) > /dev/null: x1 image ($(bench_mib "$stream1_bytes") of layers) $(bench_calc "sprintf(\"%.1f\", $rss1 / 1024)") MiB peak RSS in $(bench_calc "sprintf(\"%.1f\", $stream_t1 - $stream_t0)") s;"
echo "                               x2 image ($(bench_mib "$stream2_bytes") of layers) $(bench_calc "sprintf(\"%.1f\", $rss2 / 1024)") MiB peak RSS"
echo
echo "targets (issue 3):"
printf '  cached rebuild / full build = %s (target <= 10%%): %s\n' "$(pct "$cached_med" "$full_med")" "$(verdict "$cached_med <= $full_med * 0.10")"
printf '  stream peak RSS = %s MiB (x1), %s MiB (x2) (target < 64 MiB whatever the size): %s\n' \
  "$(bench_calc "sprintf(\"%.1f\", $rss1 / 1024)")" "$(bench_calc "sprintf(\"%.1f\", $rss2 / 1024)")" \
  "$(verdict "$rss1 < 65536 && $rss2 < 65536")"
if [ "$(bench_calc "($load_before > $(nproc) || $load_after > $(nproc)) ? 1 : 0")" = 1 ]; then
  echo "warning: the machine was busy (load average above its $(nproc) CPUs): wall times are inflated"
fi
