#!/usr/bin/env bash
# Sandbox start-up cost. Part 1: /bin/true in an unpacked busybox rootfs, run by
#   strata sandbox-exec (later: strata run)
#   unshare -Urmpf --mount-proc chroot ROOT   (the floor: no net ns, no /dev, no seccomp)
#   bwrap --unshare-all --bind ROOT / --proc /proc --dev /dev
# with hyperfine in one invocation; prints medians and ratios to the floor.
# Targets: strata <= 1.5x the unshare floor, and faster than bwrap.
# Env: STRATA (default build/strata), RUNS (default 300).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
strata=${STRATA:-$src/build/strata}
runs=${RUNS:-300}
for tool in hyperfine unshare bwrap busybox; do
  command -v "$tool" >/dev/null || { echo "sandbox bench: $tool is not installed (scripts/setup)" >&2; exit 1; }
done
[ -x "$strata" ] || { echo "sandbox bench: no strata binary at $strata (scripts/build strata)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
(cd "$root/bin" && for a in $(./busybox --list); do [ -e "$a" ] || ln -s busybox "$a"; done)

"$strata" sandbox-exec --rootfs "$root" -- /bin/true  # fails loudly before timing anything
mode=$("$strata" sandbox-exec --json --rootfs "$root" -- /bin/true | sed -n 's/.*"id_mode":"\([a-z]*\)".*/\1/p')

hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/result.json" \
  -n strata "$strata sandbox-exec --rootfs $root -- /bin/true" \
  -n unshare "unshare -Urmpf --mount-proc chroot $root /bin/true" \
  -n bwrap "bwrap --unshare-all --bind $root / --proc /proc --dev /dev /bin/true" >/dev/null

/usr/bin/python3 - "$work/result.json" "$mode" <<'PY'
import json, statistics, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
median = {name: statistics.median(r["times"]) * 1000 for name, r in results.items()}
low = {name: min(r["times"]) * 1000 for name, r in results.items()}
floor = median["unshare"]
print(f"sandbox start-up, /bin/true in a busybox rootfs (strata id mode: {sys.argv[2]})")
print(f"{'':10} {'median ms':>10} {'min ms':>8} {'x floor':>8}")
for name in ("strata", "unshare", "bwrap"):
    print(f"{name:10} {median[name]:10.2f} {low[name]:8.2f} {median[name] / floor:8.2f}")
ratio, vs_bwrap = median["strata"] / floor, median["strata"] / median["bwrap"]
print(f"strata / unshare floor = {ratio:.2f} (target <= 1.5): {'met' if ratio <= 1.5 else 'NOT met'}")
print(f"strata / bwrap = {vs_bwrap:.2f} (target < 1): {'met' if vs_bwrap < 1 else 'NOT met'}")
PY
