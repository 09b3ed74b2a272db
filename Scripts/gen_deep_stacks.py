#!/usr/bin/env python3
"""Folded stacks DEPTH frames deep, every frame a distinct function (the worst case for an
ancestor walk), plus a few shorter lines sharing the prefix and one that recurses.

    python3 Scripts/gen_deep_stacks.py OUT DEPTH     e.g. ... /tmp/deep-100k.folded 100000
"""
import sys

out, depth = sys.argv[1], int(sys.argv[2])
frames = [f"mod{i % 97}.fn_{i} (mod{i % 97}.py:{i % 500 + 1})" for i in range(depth)]
with open(out, "w") as f:
    f.write(";".join(frames) + " 5\n")
    f.write(";".join(frames[: depth // 2]) + " 3\n")
    f.write(";".join(frames[: depth // 3] + frames[: depth // 3]) + " 2\n")
