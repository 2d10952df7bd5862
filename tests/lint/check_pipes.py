#!/usr/bin/env python3
"""The test and set-up scripts run under `set -o pipefail`. A pipeline whose reader stops
early (`grep -q`, `head`, `awk '… exit'`) kills its writer with SIGPIPE once the writer
has more to say than the pipe holds, and the pipeline then fails: a check that flakes
under load (e2e.merge_images and e2e.nix_lib did), or, behind `!`, one that cannot fail.
Readers must read to the end: `grep … >/dev/null`, `sed -n 1p`, awk with a flag.

usage: check_pipes.py REPO   (prints each offending line; exit 1 if any)"""
import pathlib
import re
import sys

EARLY_READER = re.compile(r"(?<!\|)\|\s*(grep\s+-[A-Za-z]*[qm]|head\b|awk\s+'[^']*\bexit\b)")


def shell_scripts(repo):
    for path in sorted(repo.rglob("*")):
        top = path.relative_to(repo).parts[0]
        if not path.is_file() or top == ".git" or top.startswith("build"):
            continue
        if path.suffix == ".sh" or (path.suffix == "" and path.parent.name in ("scripts", ".ci")
                                    and path.read_bytes().startswith(b"#!")):
            yield path


def main():
    repo = pathlib.Path(sys.argv[1])
    bad = []
    for path in shell_scripts(repo):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if not line.lstrip().startswith("#") and EARLY_READER.search(line):
                bad.append(f"{path.relative_to(repo)}:{number}: {line.strip()}")
    for line in bad:
        print(line)
    if bad:
        print(f"{len(bad)} pipeline(s) whose reader stops early (see {__file__})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
