#!/usr/bin/env python3
"""Writes the benchmark tree: a deterministic (fixed seed) tree of files of mixed sizes,
half of the bytes random (incompressible), half text-like (compressible), in nested dirs.

    gen_tree.py key          prints the cache key (generator version + parameters)
    gen_tree.py write DIR    writes the tree into DIR (must not exist); prints its stats

Change GENERATOR_VERSION whenever the output would change, so cached trees are renewed.
"""
import hashlib
import json
import os
import random
import sys

GENERATOR_VERSION = 1
PARAMS = {
    "seed": 20240601,
    # (count, smallest, largest): sizes drawn log-uniformly in [smallest, largest]
    "size_classes": [(11000, 32, 16 << 10), (400, 16 << 10, 512 << 10), (12, 1 << 20, 8 << 20)],
    "top_dirs": 8, "sub_dirs": 6, "leaf_dirs": 5,
    "symlinks": 200,
    "executable_share": 0.1,
    "vocabulary": 4096,
    "lines": 65536,
}


def cache_key():
    text = json.dumps({"version": GENERATOR_VERSION, "params": PARAMS}, sort_keys=True)
    return f"v{GENERATOR_VERSION}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def log_uniform(rng, lo, hi):
    return int(round(lo * (hi / lo) ** rng.random()))


def make_vocabulary(rng, n):
    letters = "etaoinshrdlcumwfgypbvkjxqz_"
    weights = [13, 9, 8, 8, 7, 7, 6, 6, 6, 4, 4, 3, 3, 2, 2, 2, 2, 2, 2, 1.5, 1, 0.8, 0.2, 0.2, 0.1, 0.1, 1]
    words = set()
    while len(words) < n:
        words.add("".join(rng.choices(letters, weights, k=log_uniform(rng, 2, 14))))
    return sorted(words)


def make_lines(rng, vocabulary, n):
    """Source-code / config-like lines built from a Zipf-weighted vocabulary."""
    zipf = [1.0 / (i + 1) for i in range(len(vocabulary))]
    lines = []
    for _ in range(n):
        indent = " " * (2 * rng.randrange(0, 5))
        words = rng.choices(vocabulary, zipf, k=rng.randrange(2, 12))
        shape = rng.random()
        if shape < 0.3:
            line = f"{indent}{words[0]} = {' '.join(words[1:])};"
        elif shape < 0.5:
            line = f"{indent}{words[0]}({', '.join(words[1:])}) {{"
        elif shape < 0.6:
            line = f"{indent}# {' '.join(words)} {rng.randrange(0, 1 << 16)}"
        else:
            line = indent + " ".join(words)
        lines.append(line + "\n")
    return lines


class TextSource:
    def __init__(self, rng):
        self.rng = rng
        self.lines = make_lines(rng, make_vocabulary(rng, PARAMS["vocabulary"]), PARAMS["lines"])
        total, self.cum_weights = 0.0, []
        for i in range(len(self.lines)):
            total += 1.0 / (i + 1) ** 0.5
            self.cum_weights.append(total)

    def make(self, size):
        out, total = [], 0
        while total < size:
            chunk = self.rng.choices(self.lines, cum_weights=self.cum_weights, k=64)
            out.extend(chunk)
            total += sum(len(c) for c in chunk)
        return "".join(out).encode()[:size]


def make_dirs(rng):
    dirs = []
    for a in range(PARAMS["top_dirs"]):
        top = f"pkg{a:02d}"
        dirs.append(top)
        for b in range(PARAMS["sub_dirs"]):
            sub = f"{top}/{['lib', 'share', 'bin', 'include', 'etc', 'doc'][b % 6]}{b // 6 or ''}"
            dirs.append(sub)
            for c in range(PARAMS["leaf_dirs"]):
                dirs.append(f"{sub}/module-{c:02d}-{rng.randrange(16 ** 6):06x}")
    return dirs


def write(root):
    rng = random.Random(PARAMS["seed"])
    text = TextSource(rng)
    dirs = make_dirs(rng)
    os.makedirs(root)
    for d in dirs:
        os.makedirs(os.path.join(root, d), exist_ok=True)

    sizes = [log_uniform(rng, lo, hi) for count, lo, hi in PARAMS["size_classes"] for _ in range(count)]
    rng.shuffle(sizes)
    extensions = [".so", ".h", ".py", ".txt", ".json", ".conf", ".dat", ""]
    files = [f"{rng.choice(dirs)}/f{i:05d}-{rng.randrange(16 ** 4):04x}{rng.choice(extensions)}"
             for i in range(len(sizes))]

    # Balance bytes between the two kinds: largest first, each to the kind with fewer bytes.
    random_files, kind_bytes = set(), {"random": 0, "text": 0}
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        kind = "random" if kind_bytes["random"] <= kind_bytes["text"] else "text"
        kind_bytes[kind] += sizes[i]
        if kind == "random":
            random_files.add(i)

    for i, (path, size) in enumerate(zip(files, sizes)):
        data = rng.randbytes(size) if i in random_files else text.make(size)
        full = os.path.join(root, path)
        with open(full, "wb") as f:
            f.write(data)
        os.chmod(full, 0o755 if rng.random() < PARAMS["executable_share"] else 0o644)

    links = 0
    for i in range(PARAMS["symlinks"]):
        target = files[rng.randrange(len(files))]
        link = os.path.join(rng.choice(dirs), f"link{i:03d}")
        rel = os.path.relpath(os.path.join(root, target), os.path.dirname(os.path.join(root, link)))
        if not os.path.lexists(os.path.join(root, link)):
            os.symlink(rel, os.path.join(root, link))
            links += 1
    for d in [root] + [os.path.join(root, d) for d in dirs]:
        os.chmod(d, 0o755)

    return {"key": cache_key(), "files": len(files), "dirs": len(dirs), "symlinks": links,
            "bytes": sum(sizes), "random_bytes": kind_bytes["random"], "text_bytes": kind_bytes["text"],
            "largest": max(sizes), "median_size": sorted(sizes)[len(sizes) // 2]}


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "key":
        print(cache_key())
    elif len(sys.argv) == 3 and sys.argv[1] == "write":
        print(json.dumps(write(sys.argv[2]), sort_keys=True))
    else:
        sys.exit("usage: gen_tree.py key | write DIR")


if __name__ == "__main__":
    main()
