#!/usr/bin/env python3
"""Two threads (MainThread and "worker") each burning ~1 s of CPU.

Used for per-thread split examples (py-spy --threads). Deterministic work
amounts; wall time depends on the machine and the GIL.
"""
import threading
import time


def spin(seconds):
    """Busy loop for roughly `seconds` of wall time."""
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += sum(i * i for i in range(200))
    return n


def worker():
    spin(1.0)


def main_work():
    spin(1.0)


def main():
    t = threading.Thread(target=worker, name="worker")
    t.start()
    main_work()
    t.join()
    print("done")


if __name__ == "__main__":
    main()
