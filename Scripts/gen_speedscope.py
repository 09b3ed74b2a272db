#!/usr/bin/env python3
"""Writes a big py-spy-like speedscope file for the JSON reader benchmark.

Deterministic (seeded): the same arguments give the same bytes. Shape, as py-spy writes it:
`{"$schema", "profiles": [one "sampled" profile per thread, unit seconds, weight 1/rate],
"shared": {"frames": [{name, file, line, col: null}]}, "activeProfileIndex": null, "exporter"}`,
with `profiles` *before* `shared` (the hard order for a streaming reader) and a
`thread (TID): NAME` pseudo-frame at the root of every sample.

Stacks come from a random walk over a synthetic call graph with hot callees (Zipf-like), so
consecutive samples share prefixes and hot paths repeat, as in real sampling.

    python3 Scripts/gen_speedscope.py OUT.json [--samples 600000] [--frames 95000] [--threads 3] [--seed 1]
        [--depth 24] [--unique-ratio 10]
"""
import argparse
import json
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--samples", type=int, default=600_000)
    ap.add_argument("--frames", type=int, default=95_000)
    ap.add_argument("--threads", type=int, default=3)
    ap.add_argument("--depth", type=int, default=24, help="mean stack depth")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--unique-ratio", type=int, default=10,
                    help="samples per distinct stack (1: every sample a new random stack, the worst case)")
    a = ap.parse_args()
    rng = random.Random(a.seed)

    # Frames: functions with 1-5 executing lines each, spread over files.
    nfiles = max(1, a.frames // 30)
    files = [f"/srv/app/pkg{i % 97}/module_{i}.py" for i in range(nfiles)]
    frames = []        # (name, file, line)
    func_frames = []   # function -> list of frame indices
    while len(frames) < a.frames - a.threads:
        fid = len(func_frames)
        file = files[rng.randrange(nfiles)]
        name = rng.choice(["handle", "process", "_run", "compute", "parse", "load", "visit", "emit",
                           "__call__", "wrapper", "inner", "step", "update", "flush"]) + f"_{fid}"
        first = rng.randrange(1, 3000)
        lines = sorted(rng.sample(range(first, first + 200), rng.randint(1, 5)))
        idx = []
        for ln in lines:
            if len(frames) >= a.frames - a.threads:
                break
            idx.append(len(frames))
            frames.append((name, file, ln))
        func_frames.append(idx)
    nfunc = len(func_frames)
    # Call graph: each function calls 1-6 others; the first callee is the hot one.
    callees = [[rng.randrange(nfunc) for _ in range(rng.randint(1, 6))] for _ in range(nfunc)]
    callee_w = [[1.0 / (k + 1) ** 1.5 for k in range(len(c))] for c in callees]
    thread_frames = []
    for t in range(a.threads):
        thread_frames.append(len(frames))
        frames.append((f"thread ({7000 + t}): {'MainThread' if t == 0 else f'worker-{t}'}", "", 0))

    per_thread = [a.samples // a.threads + (1 if t < a.samples % a.threads else 0) for t in range(a.threads)]
    rate = 100
    with open(a.out, "w") as out:
        out.write('{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[')
        for t in range(a.threads):
            # A pool of distinct stacks per thread, made by a random walk (neighbours share
            # prefixes); samples then draw from the pool, skewed towards hot stacks and often
            # repeating the previous one, as a program sits in loops.
            entry = rng.randrange(nfunc)
            stack = []  # functions, root first
            pool = []
            for _ in range(max(1, per_thread[t] // a.unique_ratio)):
                pop = 0
                while stack and rng.random() < 0.55 and pop < len(stack):
                    pop += 1
                del stack[len(stack) - pop:]
                target = max(2, int(rng.gauss(a.depth, a.depth / 4)))
                if not stack:
                    stack.append(entry)
                while len(stack) < target:
                    f = stack[-1]
                    stack.append(rng.choices(callees[f], callee_w[f])[0])
                if len(stack) > target:
                    del stack[target:]
                # Line per frame: the callers' lines are stable, the leaf's varies.
                idx = [thread_frames[t]]
                for k, f in enumerate(stack):
                    ff = func_frames[f]
                    idx.append(ff[(f * 7 + k) % len(ff)] if k < len(stack) - 1 else ff[rng.randrange(len(ff))])
                pool.append("[" + ",".join(map(str, idx)) + "]")
            samples = []
            cur = 0
            for _ in range(per_thread[t]):
                if rng.random() >= 0.6:
                    cur = int(len(pool) * rng.random() ** 3)
                samples.append(pool[cur])
            name = json.dumps(f'Thread {7000 + t} "{"MainThread" if t == 0 else f"worker-{t}"}"')
            if t:
                out.write(",")
            n = len(samples)
            out.write('{"type":"sampled","name":%s,"unit":"seconds","startValue":0.0,"endValue":%s,"samples":['
                      % (name, repr(n / rate)))
            out.write(",".join(samples))
            out.write('],"weights":[' + ",".join(["0.01"] * n) + "]}")
        out.write('],"shared":{"frames":[')
        out.write(",".join(json.dumps({"name": n, "file": f, "line": l, "col": None}, separators=(",", ":"))
                           for (n, f, l) in frames))
        out.write(']},"activeProfileIndex":null,"exporter":"py-spy@0.4.3","name":"gen_speedscope.py"}')


if __name__ == "__main__":
    main()
