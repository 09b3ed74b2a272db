#!/usr/bin/env python3
"""Writes a big `perf script` file for benchmarking by repeating corpus captures.

    python3 Scripts/gen_perf.py OUT.txt [--mb 200] [--corpus ../shared/corpus]

Uses the corpus captures whose records are all `cycles` events (FlameGraph's
example-perf-stacks.txt.gz, perf-java-stacks-01, perf-rust-Yamakaky-dcpu and inferno's
cpp-stacks-std-function), so every record is read rather than filtered out. Each copy is
separated by a blank line; the output is deterministic.
"""
import argparse
import gzip
import os


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=200)
    ap.add_argument("--corpus", default=os.environ.get("PERFTOP_CORPUS", os.path.join(here, "..", "..", "shared", "corpus")))
    args = ap.parse_args()
    c = args.corpus
    parts = [gzip.open(os.path.join(c, "FlameGraph/example-perf-stacks.txt.gz")).read()]
    for p in ["FlameGraph/test/perf-java-stacks-01.txt", "FlameGraph/test/perf-rust-Yamakaky-dcpu.txt",
              "inferno/tests/data/collapse-perf/cpp-stacks-std-function.txt"]:
        parts.append(open(os.path.join(c, p), "rb").read())
    block = b"".join(p.rstrip(b"\n") + b"\n\n" for p in parts)
    target = int(args.mb * 1e6)
    with open(args.out, "wb") as fh:
        n = 0
        while n < target:
            fh.write(block)
            n += len(block)
    print("%s: %.1f MB (%d copies of %d bytes)" % (args.out, n / 1e6, n // len(block), len(block)))


if __name__ == "__main__":
    main()
