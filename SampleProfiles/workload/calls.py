"""Many calls, deep recursion: call counts wider than a terminal column.

`walk` recurses 200 deep from each of 12000 top-level calls, so pstats records
it as 2412000/12000 (total/primitive calls); `leaf` runs once per call of walk.
"""


def leaf(n):
    return n & 1


def walk(n):
    if n == 0:
        return 0
    return leaf(n) + walk(n - 1)


def main():
    total = 0
    for _ in range(12000):
        total += walk(200)
    return total


if __name__ == "__main__":
    main()
