#!/usr/bin/env python3
"""Lock-bound: four threads take turns on one lock held while working. For `perftop report --summary`."""
import threading
import time

lock = threading.Lock()


def worker():
    for _ in range(6):
        with lock:
            time.sleep(0.04)


def main():
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
