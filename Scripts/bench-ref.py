#!/usr/bin/env python3
"""Reference commands for Scripts/bench.sh (whole commands a user would run instead of perftop):

    bench-ref.py pstats FILE     pstats.Stats(FILE).sort_stats("cumulative").print_stats(20)
    bench-ref.py json FILE       json.load(FILE) alone
"""
import json
import pstats
import sys

what, path = sys.argv[1], sys.argv[2]
if what == "pstats":
    pstats.Stats(path, stream=sys.stdout).sort_stats("cumulative").print_stats(20)
elif what == "json":
    with open(path, "rb") as f:
        json.load(f)
else:
    sys.exit("usage: bench-ref.py pstats|json FILE")
