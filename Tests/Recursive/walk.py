"""A recursive workload for the transform tests (recorded by record.sh with py-spy).

A tree walk that recurses directly (walk -> walk), mutual recursion (even -> odd -> even),
standard-library work under the recursion (json, copy) and four threads, one of them sleeping.
"""
import copy
import json
import sys
import threading
import time

sys.setrecursionlimit(10000)


def make_tree(depth, fan):
    if depth == 0:
        return {"leaf": depth}
    return {"kids": [make_tree(depth - 1, fan) for _ in range(fan)]}


def visit(node):
    # The dominant leaf work: serialize a small node.
    return len(json.dumps(node))


def walk(node, depth):
    if "leaf" in node:
        return visit(node)
    total = 0
    for kid in node["kids"]:
        total += walk(kid, depth + 1)
    return total


def even(n, payload):
    if n == 0:
        return len(copy.deepcopy(payload))
    return odd(n - 1, payload)


def odd(n, payload):
    if n == 0:
        return 1
    return even(n - 1, payload)


def walker(stop):
    tree = make_tree(14, 2)
    while not stop.is_set():
        walk(tree, 0)


def ping_pong(stop):
    payload = [{"k": list(range(20))} for _ in range(20)]
    while not stop.is_set():
        even(30, payload)


def sleeper(stop):
    while not stop.is_set():
        time.sleep(0.01)


def main(seconds):
    stop = threading.Event()
    threads = [threading.Thread(target=f, args=(stop,), name=n)
               for f, n in ((walker, "walker"), (ping_pong, "ping_pong"), (sleeper, "sleeper"))]
    for t in threads:
        t.start()
    deadline = time.time() + seconds
    while time.time() < deadline:
        walk(make_tree(10, 2), 0)
    stop.set()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
