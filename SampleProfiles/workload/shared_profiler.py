"""Threads that share one cProfile.Profile, each enabling it for itself.

cProfile keeps one call stack per profiler, not per thread, so when the threads interleave
the recorded caller edges are the profiler's, not the program's. Under CPython 3.11 the
comprehension in `produce` ends up with itself as its only recorded caller (an orphan that
calls only itself), and cumulative times that its recorded callees do not account for.

    python3.11 workload/shared_profiler.py threads-shared.prof
"""
import cProfile
import sys
import threading

prof = cProfile.Profile()


def checksum(rows):
    return sum(sum(r) for r in rows)


def produce(n, out):
    prof.enable()
    rows = [[x * x for x in range(300)] for _ in range(n)]
    out.append(checksum(rows))
    prof.disable()


def main(path):
    out = []
    threads = [threading.Thread(target=produce, args=(3000, out)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    prof.dump_stats(path)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "threads-shared.prof")
