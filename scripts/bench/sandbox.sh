#!/usr/bin/env bash
# Benchmark (not a test) of the sandbox, two parts in one run; prints medians and ratios
# against the peers run in the same invocation, and the targets of issue 4.
#
# Part 1, start-up: /bin/true in an unpacked busybox rootfs, run by
#   strata run --overlay plain ROOT        (the rootfs as the root, as the peers use it)
#   unshare -Urmpf --mount-proc chroot ROOT (the floor: no net ns, no /dev, no seccomp)
#   bwrap --unshare-all --bind ROOT / --proc /proc --dev /dev
# timed in an interleaved loop; for information also `strata sandbox-exec --rootfs ROOT` and
# `strata run IMAGE` (an overlay over the image's cached layer and a fresh upper dir).
# Targets: strata run <= 1.5x the unshare floor, and faster than bwrap.
#
# Part 2, a full runAsRoot build on a cached base: a busybox base image, a script that
# adds a user and writes a few files, as
#   strata build SPEC (runAsRoot, fromImage; the base's layer already in the layer store)
#   buildah from BASE / buildah run --isolation chroot / buildah commit (storage driver
#   vfs, a private root under the temp dir; the base pulled into it before timing)
# in an interleaved loop (each round runs both, so a drifting machine load weighs on both
# alike); wall-clock medians and CPU time. Target: strata >= 20x faster than buildah.
#
# Env: STRATA (the binary; default: built with scripts/build), RUNS (part 1, default 300),
# RUNS2 (part 2, default 10), TMPDIR. Exits non-zero only when something fails to run.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bench_work=$(mktemp -d)
work=$bench_work
export BUILDAH_ISOLATION=chroot
buildah_cmd=(buildah --root "$work/buildah/root" --runroot "$work/buildah/run" --storage-driver vfs)
cleanup() {
  "${buildah_cmd[@]}" rm -a >/dev/null 2>&1 || true
  "${buildah_cmd[@]}" rmi -a -f >/dev/null 2>&1 || true
  chmod -R u+rwX "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
source "$src/scripts/bench/lib/bench.sh"
source "$src/tests/e2e/lib/root_script.sh" # make_base_tree
for tool in unshare bwrap busybox buildah python3; do
  bench_need "$tool" "$tool"
done
strata=$(bench_strata "$src")
runs=${RUNS:-300}
runs2=${RUNS2:-10}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

# ---- part 1: start-up ---------------------------------------------------------------
root="$work/root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
(cd "$root/bin" && for a in $(./busybox --list); do [ -e "$a" ] || ln -s busybox "$a"; done)
printf '{"name": "true", "tag": "v1", "copyToRoot": ["%s"]}\n' "$root" >"$work/true.json"
"$strata" build "$work/true.json" -o "$work/true.tar" -q
store="$work/store"

"$strata" run --overlay plain "$root" -- /bin/true # fails loudly before timing anything
"$strata" run --layer-store "$store" "$work/true.tar" -- /bin/true # and caches the layer
mode=$("$strata" run --json --overlay plain "$root" -- /bin/true | sed -n 's/.*"id_mode":"\([a-z]*\)".*/\1/p')

# Interleaved: every round runs each command once, starting one further along each
# round, so a drifting machine load weighs on all alike (a shared machine's load drifts
# within seconds: timing one command after another, as hyperfine does, blurs the ratios).
python3 - "$runs" "$mode" "$strata" "$root" "$store" "$work/true.tar" <<'PY'
import os, statistics, sys, time
runs, mode, strata, root, store, image = int(sys.argv[1]), sys.argv[2], *sys.argv[3:]
commands = [
    ("strata run --overlay plain", [strata, "run", "--overlay", "plain", root, "--", "/bin/true"]),
    ("unshare -Urmpf chroot", ["unshare", "-Urmpf", "--mount-proc", "chroot", root, "/bin/true"]),
    ("bwrap", ["bwrap", "--unshare-all", "--bind", root, "/", "--proc", "/proc", "--dev", "/dev", "/bin/true"]),
    ("(strata sandbox-exec)", [strata, "sandbox-exec", "--rootfs", root, "--", "/bin/true"]),
    ("(strata run IMAGE: overlay)", [strata, "run", "--layer-store", store, image, "--", "/bin/true"]),
]
null = os.open(os.devnull, os.O_WRONLY)
def once(argv):
    path = argv[0] if "/" in argv[0] else next(
        os.path.join(d, argv[0]) for d in os.environ["PATH"].split(":") if os.access(os.path.join(d, argv[0]), os.X_OK))
    t0 = time.perf_counter()
    pid = os.posix_spawn(path, argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, null, 1)])
    _, status = os.waitpid(pid, 0)
    t1 = time.perf_counter()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"sandbox bench: {' '.join(argv)} failed")
    return (t1 - t0) * 1000
times = {name: [] for name, _ in commands}
for _ in range(20):  # warm-up
    for name, argv in commands:
        once(argv)
for r in range(runs):
    for i in range(len(commands)):
        name, argv = commands[(r + i) % len(commands)]
        times[name].append(once(argv))
median = {name: statistics.median(t) for name, t in times.items()}
low = {name: min(t) for name, t in times.items()}
floor = median["unshare -Urmpf chroot"]
print(f"part 1: sandbox start-up, /bin/true in a busybox rootfs, {runs} interleaved rounds (strata id mode: {mode})")
print(f"  {'':28} {'median ms':>10} {'min ms':>8} {'x floor':>8}")
for name, _ in commands:
    print(f"  {name:28} {median[name]:10.2f} {low[name]:8.2f} {median[name] / floor:8.2f}")
strata_run = median["strata run --overlay plain"]
ratio, vs_bwrap = strata_run / floor, strata_run / median["bwrap"]
print(f"  strata run / unshare floor = {ratio:.2f} (target <= 1.5): {'met' if ratio <= 1.5 else 'NOT met'}")
print(f"  strata run / bwrap = {vs_bwrap:.2f} (target < 1): {'met' if vs_bwrap < 1 else 'NOT met'}")
PY

# ---- part 2: a runAsRoot build on a cached base ----------------------------------------
script='adduser -D -u 1000 app
mkdir -p /srv/app/data
echo "listen 8080" >/srv/app/config
echo "hello" >/srv/app/data/greeting
ln -s /srv/app/config /etc/app.conf
chown -R 1000:1000 /srv/app
chmod 750 /srv/app'
make_base_tree "$work/base-tree"
printf '{"name": "base", "tag": "v1", "copyToRoot": ["%s"]}\n' "$work/base-tree" >"$work/base.json"
"$strata" build "$work/base.json" -o "$work/base.tar" -q
python3 -c 'import json, sys; print(json.dumps({"name": "app", "tag": "v1", "fromImage": sys.argv[1], "runAsRoot": sys.argv[2]}))' \
  "$work/base.tar" "$script" >"$work/app.json"
printf '%s\n' "$script" >"$work/script.sh"
"${buildah_cmd[@]}" pull -q "docker-archive:$work/base.tar" >/dev/null # outside the timed part
"$strata" build "$work/app.json" -o "$work/app.tar" --layer-store "$store" -q # the base's layer cached

# Each prepare step syncs: one build's writeback must not land in the other's timing.
bench_add strata "rm -f '$work/app.tar'; sync" \
  "'$strata' build '$work/app.json' -o '$work/app.tar' --layer-store '$store' -q"
bench_add buildah "${buildah_cmd[*]} rm -a; ${buildah_cmd[*]} rmi -f localhost/app:v1 || true; sync" \
  "c=\$(${buildah_cmd[*]} from -q localhost/base:v1) &&
   ${buildah_cmd[*]} run --isolation chroot \"\$c\" -- /bin/sh -e -c \"\$(cat '$work/script.sh')\" &&
   ${buildah_cmd[*]} commit -q \"\$c\" localhost/app:v1"
bench_rounds "$runs2"

read -r s_med s_min s_max s_cpu < <(bench_summary strata)
read -r b_med b_min b_max b_cpu < <(bench_summary buildah)
speedup=$(bench_calc "int($b_med / $s_med * 10 + 0.5) / 10")
echo "part 2: runAsRoot build on a cached busybox base ($runs2 interleaved rounds)"
printf '  %-46s %10s %8s %8s %8s\n' "" "median s" "min s" "max s" "cpu s"
printf '  %-46s %10s %8s %8s %8s\n' "strata build (runAsRoot, cached base)" "$s_med" "$s_min" "$s_max" "$s_cpu"
printf '  %-46s %10s %8s %8s %8s\n' "buildah from + run --isolation chroot + commit" "$b_med" "$b_min" "$b_max" "$b_cpu"
met=$(awk -v r="$speedup" 'BEGIN { print (r >= 20) ? "met" : "NOT met" }')
echo "  buildah / strata = ${speedup}x wall-clock (target >= 20x): $met"
echo "  buildah / strata = $(bench_calc "$b_cpu / ($s_cpu > 0 ? $s_cpu : 0.01)")x CPU time (user + system, 10 ms resolution)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
