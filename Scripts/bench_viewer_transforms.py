#!/usr/bin/env python3
"""Interleaved timing of `perftop view --batch` on the 1.55M-node folded input: the first
screen alone (A) against the first screen plus transform keys (B), A B A B, 5 pairs each; the
transform's cost is the median of B - A over the pairs (a key that pushes a step costs the
transform, the viewer's re-ordering and carrying the selection over; `ru` adds undo, which
should add nothing: the session keeps the previous profile).

    python3 Scripts/gen_bench_inputs.py /tmp/perftop-bench     # big.folded, 1.55M nodes
    swift build -c release --product perftop
    python3 Scripts/bench_viewer_transforms.py .build/release/perftop /tmp/perftop-bench/big.folded [KEYS...]
"""
import statistics, subprocess, sys, time
exe, path = sys.argv[1], sys.argv[2]
cases = sys.argv[3:] or ["r", "ru", "R", "x", "d", "f", "z", "C", "M"]
def run(keys):
    t = time.perf_counter()
    subprocess.run([exe, "view", path, "--batch", "--keys", keys], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t
run("")  # warm the page cache
for k in cases:
    d, a_s = [], []
    for _ in range(5):
        a = run(""); b = run(k)
        d.append(b - a); a_s.append(a)
    print("%-4s first screen median %.3f s; + keys median %+.3f s (pairs: %s)" % (k, statistics.median(a_s), statistics.median(d), " ".join("%+.3f" % x for x in d)), flush=True)
