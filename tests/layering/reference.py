"""A second, deliberately naive implementation of strata's store layering, written from
nixpkgs' documented semantics with Python sets and lists, to check the C++ one against
(compare.py). Nothing here is fast or clever on purpose.

A graph is a list of nodes {"path", "references", "narSize"} as Nix's
exportReferencesGraph writes it (sorted by path)."""

BASE32 = "0123456789abcdfghijklmnpqrsvwxyz"


class PipelineError(Exception):
    pass


def path_key(path):
    before, _, after = path.partition("-")
    return (after, before)


def package_name(path):
    parts = path.split("-")
    return "-".join(parts[1:] + parts[:1])


def references_of(graph):
    return {n["path"]: {r for r in n["references"] if r != n["path"]} for n in graph}


def closure_of(paths, refs):
    seen, todo = set(), list(paths)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(refs[p])
    return seen


# --- auto-layer -----------------------------------------------------------------------

def auto_layer(graph, ignored, limit):
    refs = references_of(graph)
    users = {p: set() for p in refs}
    for p, rs in refs.items():
        for r in rs:
            users[r].add(p)
    size = {n["path"]: n["narSize"] for n in graph}
    order = [n["path"] for n in sorted(graph, key=lambda n: n["narSize"])]
    key = {p: frozenset() for p in refs}
    while order:
        primary = order.pop()
        below = closure_of([primary], refs) - {primary}
        above = closure_of([primary], users) - {primary}
        new = dict(key)
        new[primary] = frozenset([primary])
        for d in below:
            k = new[d] - above
            if not (k & below):
                k = k | {primary}
            new[d] = k
        if len(set(new.values())) > limit:
            break
        key = new
    layers = []
    for k in set(key.values()):
        members = sorted((p for p in key if key[p] == k), key=path_key)
        closure_size = sum(size[p] for p in closure_of(members, refs))
        layers.append((closure_size, [path_key(p) for p in members], members))
    layers.sort(key=lambda t: (t[0], t[1]))
    out = []
    for _, _, members in layers:
        kept = [p for p in members if p not in ignored]
        if kept:
            out.append(kept)
    return out


# --- popularity -----------------------------------------------------------------------

def popularity(verts, edges):
    """popularity_contest: the forest of every root expanded into a tree, scored."""
    children = {v: [b for (a, b) in edges if a == v] for v in verts}
    has_parent = {b for (_, b) in edges}
    memo = {}

    def contest(nodes):
        score = {}
        for c in nodes:
            score[c] = score.get(c, 0) + 1
            if c not in memo:
                memo[c] = contest(children[c])
            for p, s in memo[c].items():
                score[p] = score.get(p, 0) + s + 1
        return score

    score = contest([v for v in verts if v not in has_parent])
    return sorted(verts, key=lambda v: (-score[v], package_name(v)))


def popularity_layers(graph, budget):
    verts = [n["path"] for n in graph]
    edges = {(p, r) for p, rs in references_of(graph).items() for r in rs}
    order = popularity(verts, edges)
    layers = [[p] for p in order[: budget - 1]]
    if order[budget - 1:]:
        layers.append(order[budget - 1:])
    return layers


# --- layeringPipeline -----------------------------------------------------------------
# Values: ("graph", verts, edges), ("record", [(key, value)]), ("list", [values]).

def G(verts, edges):
    return ("graph", list(verts), set(edges))


def induced(g, keep):
    _, verts, edges = g
    return G([v for v in verts if v in keep], {(a, b) for (a, b) in edges if a in keep and b in keep})


def reach(g, starts, backwards=False):
    _, verts, edges = g
    seen, todo = set(), list(starts)
    while todo:
        v = todo.pop()
        if v in seen:
            continue
        seen.add(v)
        for (a, b) in edges:
            if backwards and b == v:
                todo.append(a)
            if not backwards and a == v:
                todo.append(b)
    return seen


def want(v, kind):
    if v[0] != kind:
        raise PipelineError(f"wanted {kind}, got {v[0]}")


def split_paths(specs, g):
    _, verts, edges = g
    present = set(verts)
    chosen = set()
    for spec in specs:
        if isinstance(spec, str):
            if spec in present:
                chosen.add(spec)
        else:
            parents = spec["children_of"]
            parents = [parents] if isinstance(parents, str) else parents
            for p in parents:
                if p in present:
                    chosen |= {b for (a, b) in edges if a == p}
    if not chosen:
        return ("record", [("rest", g)])
    roots = [v for v in verts if not any(b == v for (_, b) in edges)]
    if len(roots) == 1:
        root, work = roots[0], g
        if root in chosen:
            return ("record", [("main", g)])
    else:
        root = "__root__"
        work = G(verts + [root], edges | {(root, r) for r in roots})
    split_off = reach(work, chosen)
    cut = G(work[1], {(a, b) for (a, b) in work[2] if b not in chosen})
    rest = reach(cut, [root])
    common = split_off & rest
    parts = [("main", induced(cut, split_off - common)), ("common", induced(cut, common)),
             ("rest", induced(cut, rest - common - {"__root__"}))]
    return ("record", [(k, v) for (k, v) in parts if v[1]])


def leaves(v):
    if v[0] == "graph":
        return [v]
    items = [x for _, x in v[1]] if v[0] == "record" else v[1]
    return [leaf for x in items for leaf in leaves(x)]


def step(s, v):
    op, args = s[0], s[1:]
    if op == "popularity_contest":
        want(v, "graph")
        return ("list", [G([p], set()) for p in popularity(v[1], v[2])])
    if op == "limit_layers":
        want(v, "list")
        n = args[0]
        head, tail = v[1][: n - 1], v[1][n - 1:]
        verts, edges = [], set()
        for x in tail:
            want(x, "graph")
            verts += x[1]
            edges |= x[2]
        return ("list", head + [G(verts, edges)])
    if op == "split_every":
        want(v, "graph")
        n = args[0]
        return ("list", [induced(v, set(v[1][i:i + n])) for i in range(0, len(v[1]), n)])
    if op in ("subcomponent_in", "subcomponent_out"):
        want(v, "graph")
        main = reach(v, [p for p in args[0] if p in v[1]], backwards=op == "subcomponent_in")
        return ("record", [("main", induced(v, main)), ("rest", induced(v, set(v[1]) - main))])
    if op == "split_paths":
        want(v, "graph")
        return split_paths(args[0], v)
    if op == "over":
        want(v, "record")
        keys = [k for k, _ in v[1]]
        if args[0] not in keys:
            raise PipelineError("no such key")
        return ("record", [(k, step(args[1], x) if k == args[0] else x) for k, x in v[1]])
    if op == "pipe":
        for inner in args[0]:
            v = step(inner, v)
        return v
    if op == "map":
        want(v, "list")
        return ("list", [step(args[0], x) for x in v[1]])
    if op == "flatten":
        if v[0] == "graph":
            raise PipelineError("flatten of a graph")
        return ("list", leaves(v))
    if op == "remove_paths":
        want(v, "graph")
        gone = {args[0]} if isinstance(args[0], str) else set(args[0])
        return induced(v, set(v[1]) - gone)
    if op == "reverse":
        want(v, "list")
        return ("list", list(reversed(v[1])))
    raise PipelineError("unknown operator " + op)


def run_pipeline(graph, pipeline):
    verts = [n["path"] for n in sorted(graph, key=lambda n: n["narSize"])]
    edges = {(p, r) for p, rs in references_of(graph).items() for r in rs}
    v = step(["pipe", pipeline], G(verts, edges))
    if v[0] == "graph":
        raise PipelineError("ends with a graph")
    return [leaf[1] for leaf in leaves(v) if leaf[1]]
