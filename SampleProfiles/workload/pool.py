#!/usr/bin/env python3
"""A pool of three worker threads running the same code: checksums of many small records.

Used for merging threads (py-spy --threads): the workers' stacks are the same below their
thread roots, so merged they add up into one tree. Deterministic work amounts; wall time
depends on the machine and the GIL.
"""
import hashlib
from concurrent.futures import ThreadPoolExecutor


def checksum(record):
    return hashlib.sha256(record).hexdigest()


def parse(i):
    return ("record-%d;" % i * 8).encode()


def process(chunk):
    out = []
    for i in chunk:
        out.append(checksum(parse(i)))
    return len(out)


def main():
    chunks = [range(k * 40000, (k + 1) * 40000) for k in range(12)]
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="pool") as ex:
        total = sum(ex.map(process, chunks))
    print(total)


if __name__ == "__main__":
    main()
