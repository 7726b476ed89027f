#!/usr/bin/env python3
"""check_layers.py — fails when a source file includes across a forbidden edge.

The allowed edges are the table in ARCHITECTURE.md ("The table"), read from there so that the
list is kept in one place: each row names a folder and the folders its files may include (the
build refuses most crossings by itself, per library; this check is per folder, finer). A row
may name a folder that does not exist yet (one being written elsewhere): it is skipped. A file
belongs to the longest folder of the table that contains it; so does each header it includes
(resolved as the spellings mean: from the file's own folder, the repository root, or
compiler/ — the build's include trees hold links at those paths).
Headers generated at build time (ANTLR's) count as the folder `grammar`. Exits 1 and lists every
crossing; ctest runs it as `style.layers`.

    check_layers.py [REPO_ROOT]
"""
import os
import re
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
arch = open(os.path.join(root, "ARCHITECTURE.md"), encoding="utf-8").read()

rules = {}
in_table = False
for line in arch.splitlines():
    if line.startswith("<!-- layers"):
        in_table = True
        continue
    if in_table:
        if not line.startswith("|"):
            if rules:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("folder", "---") or set(cells[0]) <= set("-"):
            continue
        folder = cells[0].strip("`")
        allowed = {a.strip().strip("`") for a in cells[2].split(",") if a.strip()}
        rules[folder] = allowed
if not rules:
    sys.exit("check_layers: no layer table found in ARCHITECTURE.md")


def owner(rel):
    """The longest folder of the table that holds `rel` (a path relative to the root)."""
    best = None
    for f in rules:
        if rel == f or rel.startswith(f + "/"):
            if best is None or len(f) > len(best):
                best = f
    return best


include_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
problems = []
checked = 0
present = 0
for folder in sorted(rules):
    base = os.path.join(root, folder)
    if not os.path.isdir(base):
        continue  # a row for a folder that does not exist yet
    present += 1
    for dirpath, _, files in os.walk(base):
        for name in files:
            if not name.endswith((".h", ".cpp", ".def", ".hpp", ".cc")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            me = owner(rel)
            if me != folder:
                continue  # a deeper folder of the table owns it
            for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
                m = include_re.match(line)
                if not m:
                    continue
                inc = m.group(1)
                target = None
                for cand in (os.path.join(dirpath, inc), os.path.join(root, inc), os.path.join(root, "compiler", inc)):
                    if os.path.exists(cand):
                        target = owner(os.path.relpath(os.path.abspath(cand), root))
                        break
                if target is None:
                    target = "grammar"  # generated at build time (CfpLexer.h, CfpParser.h)
                checked += 1
                if target not in rules[me]:
                    problems.append(f"{rel}:{n}: `{folder}` may not include `{inc}` (floor `{target}`)")

for p in problems:
    print(p)
if problems:
    print(f"check_layers: {len(problems)} include(s) cross a forbidden edge (ARCHITECTURE.md, Floors)")
    sys.exit(1)
missing = len(rules) - present
print(f"check_layers: {checked} includes in {present} folders, all along allowed edges"
      + (f" ({missing} folder(s) of the table not present yet)" if missing else ""))
