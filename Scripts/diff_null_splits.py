#!/usr/bin/env python3
"""False calls of `perftop diff A... --vs B...` on unchanged code.

Splits the committed runs of the same code (SampleProfiles/runs/before) into two
sides every way (or a fixed-seed sample of the ways) and counts the diffs in which
any function, or the total, is called faster or slower. README "Diff statistics"
quotes its numbers.

  python3 Scripts/diff_null_splits.py --ext pyspy.txt --sizes 5 5 --limit 40
"""
import argparse
import itertools
import json
import os
import random
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--ext", default="pyspy.txt", help="pyspy.txt or prof")
ap.add_argument("--sizes", nargs=2, type=int, default=[5, 5], help="runs a side")
ap.add_argument("--runs", type=int, default=10, help="runs in SampleProfiles/runs/before")
ap.add_argument("--limit", type=int, default=0, help="sample this many splits (0: all)")
ap.add_argument("--perftop", default=os.path.join(root, ".build/debug/perftop"))
a = ap.parse_args()

splits = []
ids = range(1, a.runs + 1)
for x in itertools.combinations(ids, a.sizes[0]):
    rest = [i for i in ids if i not in x]
    for y in itertools.combinations(rest, a.sizes[1]):
        splits.append((x, y))
if a.limit:
    random.Random(1).shuffle(splits)
    splits = splits[:a.limit]
run = lambda i: os.path.join(root, "SampleProfiles/runs/before/run%d.%s" % (i, a.ext))
bad = 0
for x, y in splits:
    out = subprocess.run([a.perftop, "diff"] + [run(i) for i in x] + ["--vs"] + [run(i) for i in y] + ["--json"],
                         capture_output=True, text=True, check=True).stdout
    d = json.loads(out)
    calls = [(f["name"], f["verdict"]) for f in d["functions"] if f["verdict"] in ("faster", "slower")]
    if d["total"]["verdict"] in ("faster", "slower"):
        calls.append(("(total)", d["total"]["verdict"]))
    if calls:
        bad += 1
        print(x, "vs", y, calls)
print("%s, %d against %d runs: %d of %d diffs had a false call (method: %s)"
      % (a.ext, a.sizes[0], a.sizes[1], bad, len(splits), d["method"]["description"]))
sys.exit(0)
