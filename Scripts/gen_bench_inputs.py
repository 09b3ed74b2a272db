#!/usr/bin/env python3
"""Deterministic (seeded) generator of large benchmark inputs for perftop.

Writes into OUTDIR:
  big.folded  folded/collapsed stacks like a py-spy raw dump: one distinct
              stack per line ("f1;f2;...;fn COUNT"), depth 5-60 (mostly
              shallow), ~20k distinct frames named like
              "pkg3.m7:func_123 (pkg3/file_12.py:345)", counts 1-50,
              stacks grown from earlier stacks' prefixes so lines share
              prefixes the way a real call tree does. Generated until the file
              reaches --folded-mb MB.
  big.pstats  a cProfile-compatible marshal'd pstats dict
              {(file, line, name): (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}
              with --pstats-functions functions and ~3 caller edges each.
              Loaded back with pstats.Stats as a check.

At the default 100 MB this gives about 500k distinct stacks (frames ~30
characters, mostly shallow stacks with a long tail to depth 60).

Usage: gen_bench_inputs.py OUTDIR [--folded-mb 100] [--pstats-functions 100000] [--seed 42]
"""
import argparse
import marshal
import os
import pstats
import random
import sys
import time

N_FRAMES = 20000


def frame_names(rng, n):
    names = []
    for i in range(n):
        pkg = rng.randrange(40)
        mod = rng.randrange(25)
        f = rng.randrange(60)
        line = rng.randrange(1, 2000)
        if i % 50 == 0:
            names.append("<listcomp> (pkg%d/f%d.py:%d)" % (pkg, f, line))
        else:
            names.append("m%d.func_%d (pkg%d/f%d.py:%d)"
                         % (mod, i, pkg, f, line))
    return names


def gen_folded(path, megabytes, seed):
    rng = random.Random(seed)
    names = frame_names(rng, N_FRAMES)
    # Each frame calls a small, fixed set of callees: a consistent call graph.
    callees = [[rng.randrange(N_FRAMES) for _ in range(rng.randint(2, 40))]
               for _ in range(N_FRAMES)]
    roots = [rng.randrange(N_FRAMES) for _ in range(50)]
    target = megabytes * 1024 * 1024
    seen = set()
    pool = []  # earlier stacks, to grow new ones from their prefixes
    written = lines = 0
    buf = []
    with open(path, "w", encoding="ascii", newline="\n") as out:
        while written < target:
            # Depth 5-60, mostly shallow with a long tail of deep stacks.
            if rng.random() < 0.015:
                depth = rng.randint(10, 60)
            else:
                depth = min(60, 3 + int(rng.expovariate(1.2)))
            if pool and rng.random() < 0.9:
                base = pool[rng.randrange(len(pool))]
                keep = rng.randint(1, min(len(base), depth))
                stack = list(base[:keep])
            else:
                stack = [roots[rng.randrange(len(roots))]]
            while len(stack) < depth:
                stack.append(rng.choice(callees[stack[-1]]))
            t = tuple(stack)
            if t in seen:
                continue
            seen.add(t)
            if len(pool) < 200000:
                pool.append(t)
            else:
                pool[rng.randrange(len(pool))] = t
            count = 1 + int(49 * rng.random() ** 3)
            line = ";".join([names[f] for f in t]) + " %d\n" % count
            buf.append(line)
            written += len(line)
            lines += 1
            if len(buf) >= 4096:
                out.write("".join(buf))
                buf.clear()
        out.write("".join(buf))
    return lines, written


def gen_pstats(path, n_funcs, seed):
    rng = random.Random(seed + 1)
    keys = []
    for i in range(n_funcs):
        if i % 20 == 0:
            keys.append(("~", 0, "<built-in method mod%d.func_%d>" % (i % 97, i)))
        else:
            keys.append(("pkg%d/mod%d/file_%d.py" % (i % 40, (i // 40) % 25, i % 61),
                         1 + (i * 7919) % 3000, "func_%d" % i))
    stats = {}
    n_edges = 0
    for i, key in enumerate(keys):
        callers = {}
        if i >= 10:  # the first few functions are roots (no callers)
            for _ in range(rng.randint(1, 5)):
                c = keys[rng.randrange(n_funcs)]
                if c in callers:
                    continue
                e_nc = 1 + int(1000 * rng.random() ** 4)
                e_tt = e_nc * rng.uniform(1e-7, 5e-5)
                e_ct = e_tt + e_nc * rng.uniform(0, 2e-4)
                e_cc = e_nc if c != key else 0
                callers[c] = (e_nc, e_cc, e_tt, e_ct)
            if rng.random() < 0.015:  # some recursion
                e_nc = rng.randint(1, 200)
                callers[key] = (e_nc, 0, e_nc * 1e-6, e_nc * 3e-6)
        nc = sum(v[0] for v in callers.values()) or 1
        cc = sum(v[1] for v in callers.values()) or 1
        tt = sum(v[2] for v in callers.values()) or rng.uniform(1e-4, 1e-2)
        ct = max(tt, sum(v[3] for v in callers.values()))
        stats[key] = (cc, nc, tt, ct, callers)
        n_edges += len(callers)
    with open(path, "wb") as fh:
        marshal.dump(stats, fh)
    st = pstats.Stats(path, stream=open(os.devnull, "w"))
    assert len(st.stats) == n_funcs, (len(st.stats), n_funcs)
    return n_edges, st.total_calls


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate big.folded and big.pstats.")
    ap.add_argument("outdir")
    ap.add_argument("--folded-mb", type=float, default=100)
    ap.add_argument("--pstats-functions", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)

    t0 = time.time()
    p = os.path.join(args.outdir, "big.folded")
    lines, size = gen_folded(p, args.folded_mb, args.seed)
    print("%s: %d bytes, %d distinct stacks (%.1fs)" % (p, size, lines, time.time() - t0))

    t0 = time.time()
    p = os.path.join(args.outdir, "big.pstats")
    edges, calls = gen_pstats(p, args.pstats_functions, args.seed)
    print("%s: %d bytes, %d functions, %d caller edges, total_calls %d (%.1fs)"
          % (p, os.path.getsize(p), args.pstats_functions, edges, calls, time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
