"""A deep, recursive, multi-threaded workload (issue 20's "where did the time go" case).

Each of four threads (the main thread and three workers) walks a thin tree with a
recursive `walk` (direct recursion, 24 levels), then descends through the mutually
recursive `even` / `odd` (indirect recursion, 20 levels), and at the bottom runs a
batch through the 200 generated stages of stages.py. `stage_117` dominates self time;
the rest of the time fans out over the other stages and the batch loop. Workers nap
between batches (time.sleep), so an idle-aware profiler sees some sleeping.
Stacks are 50-60 frames deep. Deterministic work, about 2-3 s of CPU.
"""
import threading
import time


def load_stages(path="stages.py"):
    """The generated stages, compiled under the name given (relative to the working directory)
    rather than imported, which would record the checkout's absolute path in every profile."""
    ns = {}
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), ns)
    return ns["STAGES"]


STAGES = load_stages()

DEPTH = 24          # levels of the direct recursion in walk
MUTUAL = 20         # levels of even/odd
BATCHES = 6         # batches per thread
ROUNDS = 5          # passes over the stages per leaf


class Node:
    __slots__ = ("children", "value")

    def __init__(self, children, value):
        self.children = children
        self.value = value


def build(depth, value=1):
    """A thin tree: one child per level, two at the last level (so the walk branches once)."""
    if depth == 0:
        return Node([], value)
    fan = 2 if depth == 1 else 1
    return Node([build(depth - 1, value * 3 + k) for k in range(fan)], value)


def run_stages(x):
    for _ in range(ROUNDS):
        for stage in STAGES:
            x = stage(x)
    return x


def even(n, x):
    if n == 0:
        return run_stages(x)
    return odd(n - 1, x + 1)


def odd(n, x):
    if n == 0:
        return run_stages(x)
    return even(n - 1, x + 2)


def walk(node, acc):
    if not node.children:
        return even(MUTUAL, acc + node.value)
    for child in node.children:
        acc = walk(child, acc)
    return acc


def nap():
    time.sleep(0.005)


def run_batch(tree, seed):
    acc = seed
    for _ in range(BATCHES):
        for _ in range(40):
            acc = walk(tree, acc) % 1000003
        nap()
    return acc


def worker(tree, seed, out):
    out.append(run_batch(tree, seed))


def main():
    tree = build(DEPTH)
    out = []
    threads = [threading.Thread(target=worker, args=(tree, s, out), name="walker-%d" % s) for s in (1, 2, 3)]
    for t in threads:
        t.start()
    out.append(run_batch(tree, 0))
    for t in threads:
        t.join()
    return sum(out)


if __name__ == "__main__":
    main()
