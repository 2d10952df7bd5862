"""Checks strata's layering against reference.py on a few hundred random graphs with sizes:
auto-layer with random budgets, popularity, and random layeringPipelines built from every
operator. Usage: compare.py STRATA [GRAPHS] [SEED]"""

import json
import os
import random
import subprocess
import sys
import tempfile

import reference

NAMES = ["glibc", "zlib", "bash", "curl", "app", "lib", "lib-extra", "lib+x", "data"]


def random_graph(rng, store="/nix/store"):
    n = rng.randint(1, 28)
    paths = set()
    while len(paths) < n:
        h = "".join(rng.choice(reference.BASE32) for _ in range(32))
        version = rng.choice(["", "-1", "-2"])  # "lib" and "lib+x": one name a prefix of another
        paths.add(f"{store}/{h}-{rng.choice(NAMES)}{version}")
    order = list(paths)
    rng.shuffle(order)  # order[i] may reference only order[j], j > i: no cycles
    density = rng.choice([0.05, 0.15, 0.3, 0.6])
    sizes = rng.choice([[100, 200, 300], [1, 2], list(range(1, 10000))])
    graph = []
    for i, p in enumerate(order):
        refs = [q for q in order[i + 1:] if rng.random() < density]
        if rng.random() < 0.5:
            refs.append(p)  # self-reference, as Nix often records
        graph.append({"path": p, "references": sorted(refs), "narSize": rng.choice(sizes)})
    graph.sort(key=lambda node: node["path"])
    return graph


def random_pipeline(rng, paths):
    pick = lambda: rng.choice(paths)
    k = rng.randint(1, 6)
    choices = [
        [["popularity_contest"], ["limit_layers", k]],
        [["popularity_contest"], ["reverse"], ["limit_layers", k]],
        [["split_paths", [pick()]], ["over", "main", ["pipe", [["subcomponent_in", [pick()]],
                                                            ["over", "rest", ["popularity_contest"]]]]],
         ["flatten"], ["map", ["remove_paths", pick()]], ["limit_layers", k]],
        [["subcomponent_out", [pick()]], ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", k]]]]],
        [["subcomponent_in", [pick(), pick()]], ["flatten"], ["map", ["split_every", k]]],
        [["split_every", k], ["reverse"]],
        [["split_paths", [{"children_of": pick()}, pick()]], ["flatten"], ["map", ["popularity_contest"]],
         ["flatten"], ["limit_layers", k]],
        [["remove_paths", [pick(), pick()]], ["popularity_contest"], ["limit_layers", k]],
        [["split_paths", [pick()]], ["over", "rest", ["split_every", k]]],
        [["split_paths", [pick()]], ["over", "common", ["popularity_contest"]]],
        [["subcomponent_out", [pick()]], ["over", "main", ["split_paths", [{"children_of": [pick()]}]]],
         ["over", "rest", ["popularity_contest"]]],
    ]
    return rng.choice(choices)


def strata_layers(strata, graph_file, args):
    r = subprocess.run([strata, "closure", "--graph", graph_file, "--layers", *args],
                       capture_output=True, text=True)
    if r.returncode == 2:
        return "refused"
    if r.returncode != 0:
        raise SystemExit(f"strata failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout)


def reference_layers(fn):
    try:
        return fn()
    except reference.PipelineError:
        return "refused"


def main():
    strata = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    rng = random.Random(seed)
    checks = refused = 0
    with tempfile.TemporaryDirectory() as tmp:
        graph_file = os.path.join(tmp, "graph.json")
        for g in range(count):
            graph = random_graph(rng)
            with open(graph_file, "w") as f:
                json.dump(graph, f)
            paths = [n["path"] for n in graph]
            budget = rng.randint(1, len(graph) + 2)
            cases = [
                (["auto", "--budget", str(budget)], lambda: reference.auto_layer(graph, set(), budget)),
                (["popularity", "--budget", str(budget)], lambda: reference.popularity_layers(graph, budget)),
            ]
            for _ in range(3):
                pipeline = random_pipeline(rng, paths)
                cases.append(([json.dumps(pipeline)], lambda p=pipeline: reference.run_pipeline(graph, p)))
            for args, expected in cases:
                ours, theirs = strata_layers(strata, graph_file, args), reference_layers(expected)
                if ours != theirs:
                    print(f"MISMATCH on graph {g} (seed {seed}), --layers {' '.join(args)}")
                    print("graph:", json.dumps(graph))
                    print("strata:   ", json.dumps(ours))
                    print("reference:", json.dumps(theirs))
                    sys.exit(1)
                checks += 1
                refused += ours == "refused"
    print(f"{checks} passed, 0 failed ({count} random graphs, {refused} pipelines refused by both)")


if __name__ == "__main__":
    main()
