#!/usr/bin/env python3
"""Independent reference dump of pstats files, using ONLY Python's `pstats`.

For each input file this writes what CPython's own `pstats.Stats` sees:

    total_tt, total_calls, prim_calls,
    functions: [{file, line, name, cc, nc, tt, ct,
                 callers: [{file, line, name, nc, cc, tt, ct} | {file, line, name, calls}]}]
    print_stats_top: first 10 rows of sort_stats('tottime') as [file, line, name, tt]

Tuple layout is the cProfile one: stats[func] = (cc, nc, tt, ct, callers) with
cc = primitive calls, nc = total calls; callers[func] = (nc, cc, tt, ct) for
cProfile, or a plain int call count for the pure-Python `profile` module.
Functions and callers are sorted by (file, line, name). Names/files that are
code objects are written as `<code object NAME, file "F", line L>`.

Files this interpreter cannot load (e.g. marshal data from another Python
version) are reported as {"skipped": "reason"}.

Usage:
    pstats_reference.py [--root DIR] [--single] -o OUT.json FILE...

Without --single the output is an object keyed by each file's path (relative
to --root when given). With --single (exactly one FILE) the output is that
file's object itself.
"""
import argparse
import json
import os
import platform
import pstats
import sys

TUPLE_KEYS = ("nc", "cc", "tt", "ct")  # caller-edge tuple layout


def _fmt(x):
    """JSON-safe, repr-free form of a func-key component."""
    if isinstance(x, (str, int, float)) or x is None:
        return x
    if hasattr(x, "co_name") and hasattr(x, "co_filename"):
        return '<code object %s, file "%s", line %d>' % (
            x.co_name, x.co_filename, x.co_firstlineno)
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    return str(x)


def _key(func):
    f, l, n = (_fmt(p) for p in func)
    return {"file": f, "line": l, "name": n}


def _sort_key(d):
    line = d["line"]
    return (str(d["file"]), line if isinstance(line, (int, float)) else -1,
            str(line), str(d["name"]))


def _num(v):
    return v if isinstance(v, (int, float)) else _fmt(v)


def _caller(func, value):
    d = _key(func)
    if isinstance(value, tuple):
        if len(value) == 4:
            for k, v in zip(TUPLE_KEYS, value):
                d[k] = _num(v)
        else:
            d["values"] = [_num(v) for v in value]
    else:
        d["calls"] = _num(value)
    return d


def describe(path):
    try:
        st = pstats.Stats(path, stream=open(os.devnull, "w"))
    except Exception as e:  # noqa: BLE001 - any load failure is a skip
        return {"skipped": "pstats.Stats could not load it with Python %s: %s: %s"
                % (platform.python_version(), type(e).__name__, e)}
    functions = []
    for func, value in st.stats.items():
        cc, nc, tt, ct, callers = value
        d = _key(func)
        d.update(cc=_num(cc), nc=_num(nc), tt=_num(tt), ct=_num(ct))
        d["callers"] = sorted((_caller(cf, cv) for cf, cv in callers.items()),
                              key=_sort_key)
        functions.append(d)
    functions.sort(key=_sort_key)

    st.sort_stats("tottime")
    top = []
    for func in st.fcn_list[:10]:
        f, l, n = (_fmt(p) for p in func)
        top.append([f, l, n, _num(st.stats[func][2])])

    return {
        "python": platform.python_version(),
        "total_tt": st.total_tt,
        "total_calls": st.total_calls,
        "prim_calls": st.prim_calls,
        "function_count": len(functions),
        "functions": functions,
        "print_stats_top": top,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--root", help="key files by path relative to this directory")
    ap.add_argument("--single", action="store_true",
                    help="write the single file's object instead of a keyed map")
    args = ap.parse_args(argv)
    if args.single and len(args.files) != 1:
        ap.error("--single needs exactly one file")

    if args.single:
        out = describe(args.files[0])
    else:
        out = {}
        for p in sorted(args.files):
            label = os.path.relpath(p, args.root) if args.root else p
            out[label.replace(os.sep, "/")] = describe(p)
    with open(args.output, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1, sort_keys=False, ensure_ascii=False)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
