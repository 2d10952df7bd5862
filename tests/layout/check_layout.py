#!/usr/bin/env python3
"""Checks the layout rules DESIGN.md states ("The folders and what each may use"):
every #include "..." in a library folder names an existing header of a folder that
folder may use, and no tracked file points at a sibling folder of the
checkout (a path a fresh clone does not have)."""
import os
import re
import subprocess
import sys

# folder -> the folders its files may include (its own is always allowed)
ALLOWED = {
    "sys": [],
    "ns": ["sys"],
    "image": ["sys"],
    "image/closure": ["image", "sys"],
    "image/nix": ["image/closure", "image", "sys"],
    "image/dockertools": ["image/nix", "image/closure", "image", "sys"],
    "image/registry": ["image", "sys"],
    "mount": ["image", "sys"],
    "engine": ["image/dockertools", "image/nix", "image/closure", "image", "mount", "ns", "sys"],
    "cli": ["engine", "image/dockertools", "image/nix", "image/closure", "image/registry", "image", "mount", "ns",
            "sys"],
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(path):
    """The library folder a source path belongs to (None: not a library's)."""
    best = None
    for folder in ALLOWED:
        if path.startswith(folder + "/") and (best is None or len(folder) > len(best)):
            best = folder
    return best


def main(root):
    problems = []
    for folder in ALLOWED:
        for name in sorted(os.listdir(os.path.join(root, folder))):
            if not name.endswith((".h", ".cpp")):
                continue
            rel = f"{folder}/{name}"
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    if not os.path.isfile(os.path.join(root, target)):
                        problems.append(f"{rel}:{lineno}: includes {target}, which does not exist")
                        continue
                    used = folder_of(target)
                    if used is None or used == folder:
                        continue
                    if used not in ALLOWED[folder]:
                        problems.append(f"{rel}:{lineno}: {folder}/ may not include {used}/ ({target})")
    tracked = subprocess.run(["git", "-C", root, "ls-files"], capture_output=True, text=True)
    files = tracked.stdout.split() if tracked.returncode == 0 else []
    outside = "../" + "shared"
    for rel in files:
        try:
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    if outside in line:
                        problems.append(f"{rel}:{lineno}: refers to {outside}, which is outside the repository")
        except (IsADirectoryError, FileNotFoundError):
            pass
    for p in problems:
        print(p)
    print(f"layout: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")))
