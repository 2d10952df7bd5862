"""Writes a deterministic closure graph JSON of N store paths shaped like a large Nix
closure: a few hub libraries everything uses, many small leaf-ish packages, references
only to earlier paths (a DAG), NAR sizes spread over five orders of magnitude.
Usage: gen_graph.py N OUT [SEED]"""

import json
import random
import sys

B32 = "0123456789abcdfghijklmnpqrsvwxyz"


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    paths = []
    for i in range(n):
        h = "".join(rng.choice(B32) for _ in range(32))
        paths.append(f"/nix/store/{h}-pkg{i}-{rng.randint(1, 9)}.{rng.randint(0, 20)}")
    hubs = list(range(min(20, n)))
    nodes = []
    for i, p in enumerate(paths):
        refs = set()
        if i > 0:
            for _ in range(rng.randint(0, 3)):
                refs.add(paths[rng.choice(hubs[: min(len(hubs), i)])])
            for _ in range(rng.randint(0, 6)):
                lo = max(0, i - rng.choice([10, 100, 1000, i]))
                refs.add(paths[rng.randint(lo, i - 1)])
        refs.add(p)
        size = int(rng.lognormvariate(11, 2.2)) + 120
        nodes.append({"path": p, "references": sorted(refs), "narSize": size})
    nodes.sort(key=lambda x: x["path"])
    with open(out, "w") as f:
        json.dump(nodes, f)


if __name__ == "__main__":
    main()
