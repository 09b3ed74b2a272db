#!/usr/bin/env python3
"""Deterministic (seeded) generator of a large pprof profile.proto for perftop benchmarks.

Writes protobuf wire format by hand (no protobuf package needed), laid out the way Go's
runtime/pprof writes it: sample_type, samples, mappings, locations, functions, then the string
table last (so a reader's sniffer never sees the string table in the first 64 KiB), plus
period_type/period/time/duration.

Shape: --functions functions in --files files (Go-like names "pkg7.(*T3).method_123"), locations
with one line each except ~10% that carry 2-3 inlined lines, and samples whose stacks are walks
(depth 4-64, mostly shallow) from 8 roots through a random call graph in which each location
calls 1-4 others, its first callee 75% of the time, so stacks share prefixes and hot paths the
way a real call tree does. Two values per sample (samples/count, cpu/nanoseconds); ~1/4 of the samples carry
a goroutine-style label. Samples are generated until the raw message reaches --mb MB.

Usage: gen_pprof.py OUT [--mb 80] [--functions 20000] [--locations 40000] [--seed 42] [--gzip]
"""
import argparse
import gzip
import random
import sys
import time


def varint(v, out):
    if v < 0:
        v += 1 << 64
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def tag(field, wire, out):
    varint(field << 3 | wire, out)


def field_varint(field, v, out):
    if v:
        tag(field, 0, out)
        varint(v, out)


def field_bytes(field, b, out):
    tag(field, 2, out)
    varint(len(b), out)
    out += b


def packed(field, values, out):
    body = bytearray()
    for v in values:
        varint(v, body)
    field_bytes(field, body, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=80)
    ap.add_argument("--functions", type=int, default=20000)
    ap.add_argument("--locations", type=int, default=40000)
    ap.add_argument("--files", type=int, default=800)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--gzip", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    t0 = time.time()

    strings = [""]
    index = {"": 0}

    def s(text):
        i = index.get(text)
        if i is None:
            i = index[text] = len(strings)
            strings.append(text)
        return i

    out = bytearray()
    # sample_type: samples/count, cpu/nanoseconds
    for t, u in (("samples", "count"), ("cpu", "nanoseconds")):
        vt = bytearray()
        field_varint(1, s(t), vt)
        field_varint(2, s(u), vt)
        field_bytes(1, vt, out)

    files = [f"/src/pkg{i % 97}/file_{i}.go" for i in range(a.files)]
    funcs = []  # (name idx, file idx, start line)
    for i in range(a.functions):
        pkg = rng.randrange(97)
        kind = rng.random()
        if kind < 0.5:
            name = f"pkg{pkg}.func_{i}"
        elif kind < 0.9:
            name = f"pkg{pkg}.(*T{rng.randrange(50)}).method_{i}"
        else:
            name = f"pkg{pkg}.func_{i}.func{rng.randrange(1, 4)}"
        funcs.append((s(name), s(files[rng.randrange(a.files)]), rng.randrange(1, 2000)))

    locations = []  # list of [(function id, line)]
    for i in range(a.locations):
        n = 1 if rng.random() < 0.9 else rng.choice((2, 3))
        lines = []
        for _ in range(n):
            f = rng.randrange(a.functions)
            lines.append((f + 1, funcs[f][2] + rng.randrange(0, 200)))
        locations.append(lines)

    label_key = s("goroutine")
    labels = [s(str(1000 + g)) for g in range(64)]
    period = 10_000_000
    target = int(a.mb * 1e6)
    # A call graph: each location calls 1-4 others, the first one most of the time, so stacks
    # (walks from a few roots) share prefixes and hot paths the way a real call tree does.
    callees = [[rng.randrange(1, a.locations + 1) for _ in range(rng.randrange(1, 5))]
               for _ in range(a.locations + 1)]
    roots = [rng.randrange(1, a.locations + 1) for _ in range(8)]
    samples = 0
    tail_estimate = a.locations * 16 + a.functions * 12 + sum(len(x) + 2 for x in strings)
    while len(out) + tail_estimate < target:
        depth = min(64, int(rng.expovariate(1 / 16)) + 4)
        stack = [roots[min(int(rng.expovariate(1.0)), len(roots) - 1)]]
        while len(stack) < depth:
            options = callees[stack[-1]]
            stack.append(options[0] if rng.random() < 0.75 else options[rng.randrange(len(options))])
        count = 1 if rng.random() < 0.7 else rng.randrange(2, 40)
        body = bytearray()
        packed(1, reversed(stack), body)
        packed(2, (count, count * period), body)
        if rng.random() < 0.25:
            lab = bytearray()
            field_varint(1, label_key, lab)
            field_varint(2, labels[rng.randrange(len(labels))], lab)
            field_bytes(3, lab, body)
        field_bytes(2, body, out)
        samples += 1

    # mapping
    m = bytearray()
    field_varint(1, 1, m)
    field_varint(2, 0x400000, m)
    field_varint(3, 0x4000000, m)
    field_varint(5, s("/usr/local/bin/bench-server"), m)
    field_varint(7, 1, m)
    field_varint(8, 1, m)
    field_varint(9, 1, m)
    field_varint(10, 1, m)
    field_bytes(3, m, out)
    # locations
    for i, lines in enumerate(locations):
        loc = bytearray()
        field_varint(1, i + 1, loc)
        field_varint(2, 1, loc)
        field_varint(3, 0x400000 + i * 16, loc)
        for fid, line in lines:
            ln = bytearray()
            field_varint(1, fid, ln)
            field_varint(2, line, ln)
            field_bytes(4, ln, loc)
        field_bytes(4, loc, out)
    # functions
    for i, (name, file, start) in enumerate(funcs):
        fn = bytearray()
        field_varint(1, i + 1, fn)
        field_varint(2, name, fn)
        field_varint(3, name, fn)
        field_varint(4, file, fn)
        field_varint(5, start, fn)
        field_bytes(5, fn, out)
    # period_type, period, time, duration, then the string table last
    pt = bytearray()
    field_varint(1, s("cpu"), pt)
    field_varint(2, s("nanoseconds"), pt)
    field_bytes(11, pt, out)
    field_varint(12, period, out)
    field_varint(9, 1_700_000_000_000_000_000, out)
    field_varint(10, 60_000_000_000, out)
    for text in strings:
        field_bytes(6, text.encode(), out)

    data = bytes(out)
    if a.gzip:
        data = gzip.compress(data, compresslevel=6, mtime=0)
    with open(a.out, "wb") as f:
        f.write(data)
    print(f"{a.out}: {len(out) / 1e6:.1f} MB raw ({len(data) / 1e6:.1f} MB written), {samples} samples, "
          f"{a.locations} locations, {a.functions} functions, {len(strings)} strings, {time.time() - t0:.1f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
