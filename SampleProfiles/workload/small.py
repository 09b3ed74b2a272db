#!/usr/bin/env python3
"""A tiny deterministic workload for the golden pstats/callgrind cases (Tests/Golden).

No imports, so the profile stays small: recursion (fib), a method, a generator and built-ins.
"""


class Counter:
    def __init__(self):
        self.total = 0

    def add(self, n):
        self.total += n


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def squares(n):
    return sum(i * i for i in range(n))


def main():
    c = Counter()
    for i in range(12):
        c.add(fib(i))
    c.add(squares(2000))
    print(sorted([c.total, 3, 1])[0])


if __name__ == "__main__":
    main()
