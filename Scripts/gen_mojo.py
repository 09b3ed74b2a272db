#!/usr/bin/env python3
"""Writes a deterministic austin MOJO (version 3) recording for benchmarking the MOJO reader.

    python3 Scripts/gen_mojo.py OUT.mojo [--samples 82000] [--seed 7]

The shape follows what austin 3.7 writes for a busy multi-threaded Python program: METADATA
first, then per sample a STACK (pid, iid, hex tid), the STRING and FRAME definitions of frames
not seen before (keys are pointer-like 40-bit numbers, so references take 6 bytes), one FRAME_REF
per frame root first, and a METRIC_TIME. Stacks come from random walks over a synthetic call
graph (about 3000 functions in 150 files), 14 to 54 frames deep, with a skewed choice of walks
so a few hot paths dominate, like real profiles. Threads (8 by default) are sampled in random
order, and like a real program each thread's stack changes little from one of its samples to
the next: it stays the same (60%), changes its last few frames (30%) or moves to another walk
(10%). `--random` makes every sample an independent walk instead (a worst case for the reader's
prefix reuse and a much bigger tree). With the defaults the file is about 22 MB.
"""
import argparse
import random


def varint(n):
    out = bytearray()
    b = 0
    if n < 0:
        b |= 0x40
        n = -n
    b |= n & 0x3F
    n >>= 6
    if n:
        b |= 0x80
    out.append(b)
    while n:
        b = n & 0x7F
        n >>= 7
        if n:
            b |= 0x80
        out.append(b)
    return bytes(out)


def cstr(s):
    return s.encode() + b"\0"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--samples", type=int, default=82000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--random", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    files = ["/srv/app/pkg%d/module_%d.py" % (i % 12, i) for i in range(150)]
    functions = []
    for i in range(3000):
        functions.append((rng.choice(files), "Class%d.method_%d" % (i % 97, i) if i % 3 else "func_%d" % i))
    callees = [rng.sample(range(3000), rng.randint(2, 6)) for _ in range(3000)]
    lines = {}

    def frame_key(fn, line):
        k = (fn, line)
        if k not in lines:
            lines[k] = rng.getrandbits(40) | (1 << 39)
        return lines[k]

    # A pool of walks; samples pick from it with a skewed distribution.
    walks = []
    for _ in range(6000):
        depth = rng.randint(14, 54)
        fn = rng.randrange(20)
        walk = []
        for _ in range(depth):
            walk.append((fn, 10 + rng.randrange(5)))
            fn = rng.choice(callees[fn])
        walks.append(walk)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(walks))]

    out = bytearray(b"MOJ" + varint(3))
    for k, v in [("austin", "3.7.0"), ("interval", "100"), ("mode", "wall")]:
        out += b"\x01" + cstr(k) + cstr(v)
    strings = {}
    defined = set()
    pid = 41234
    threads = ["%x" % (0x7F0000000000 + 0x1000 * t) for t in range(args.threads)]
    current = {}
    for _ in range(args.samples):
        tid = rng.choice(threads)
        r = rng.random()
        walk = current.get(tid)
        if args.random or walk is None or r >= 0.9:
            walk = rng.choices(walks, weights=weights)[0]
        elif r >= 0.6:
            keep = max(1, len(walk) - rng.randint(1, 5))
            walk = walk[:keep]
            fn = walk[-1][0]
            for _ in range(rng.randint(1, 5)):
                fn = rng.choice(callees[fn])
                walk = walk + [(fn, 10 + rng.randrange(5))]
        current[tid] = walk
        out += b"\x02" + varint(pid) + varint(0) + cstr(tid)
        refs = bytearray()
        for fn, line in walk:
            key = frame_key(fn, line)
            if key not in defined:
                defined.add(key)
                f, name = functions[fn]
                for s in (f, name):
                    if s not in strings:
                        strings[s] = rng.getrandbits(40) | (1 << 39)
                        out += b"\x0b" + varint(strings[s]) + cstr(s)
                out += b"\x03" + varint(key) + varint(strings[f]) + varint(strings[name]) + varint(line)
                out += varint(line) + varint(0) + varint(0)
            refs += b"\x05" + varint(key)
        out += refs + b"\x09" + varint(rng.randint(80, 400))
    out += b"\x01" + cstr("duration") + cstr(str(args.samples * 100))
    with open(args.out, "wb") as fh:
        fh.write(out)
    print("%s: %d samples, %.1f MB" % (args.out, args.samples, len(out) / 1e6))


if __name__ == "__main__":
    main()
