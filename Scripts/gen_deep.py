#!/usr/bin/env python3
"""Deep, multi-threaded benchmark inputs, one stack shape for every format (seeded, so the same
arguments give the same bytes).

    gen_deep.py folded OUT [--mb 100] [--threads 4] [--seed 7]
    gen_deep.py convert FORMAT IN.folded OUT      FORMAT: sampled cpuprofile trace gecko pyinstrument evented

`folded` writes py-spy-style collapsed stacks (`thread (0x..);<module> (app/main.py:1);... COUNT`)
of a sampler on recursive code: four threads, each a random walk (a sample pops a few frames of
the one before and grows back to 50-80 frames), through a call graph where about one function
in twelve recurses directly (`visit;visit;...`) or through a partner (`eval;apply;eval;...`).
Frames are `name (file:line)` with the line of the call being made, as py-spy shows them, so a
function appears on several lines. Threads take turns in runs of 1-40 samples.

`convert` turns such a file, sample by sample in file order, into the other formats, each with
one time unit per count so that every reader's default metric equals the folded counts:
cpuprofile (microseconds; single-threaded, so thread frames are dropped), trace events (viztracer
style `X` events named `name (file:line)`, one tid per thread, microseconds), gecko (processed
format as Tachyon writes it, one thread each, sample weights), pyinstrument JSON (one tree, thread
frames dropped, seconds), speedscope evented (one profile per thread, open/close events) and
sampled (py-spy's layout). `perftop convert` makes pprof (and another speedscope) from the same
folded file.
"""
import argparse
import json
import random
import re
import sys

FRAME = re.compile(r"^(.*) \((.*):([0-9]+)\)$")
THREAD = re.compile(r"^thread \(")

VERBS = ["visit", "eval", "apply", "parse", "load", "handle", "compute", "step", "resolve",
         "emit", "_walk", "transform", "reduce", "__call__", "wrapper", "dispatch", "flush"]


def gen_folded(out, megabytes, threads, seed):
    rng = random.Random(seed)
    nfunc = 3000
    funcs = []  # (name, file, first line, number of lines)
    for i in range(nfunc):
        name = "%s_%d" % (VERBS[i % len(VERBS)], i)
        file = "app/pkg%d/mod%d.py" % (i % 23, i % 211)
        funcs.append((name, file, 1 + (i * 37) % 900, rng.randint(1, 4)))
    callees, weights = [], []
    for i in range(nfunc):
        cs = [rng.randrange(nfunc) for _ in range(rng.randint(2, 7))]
        ws = [1.0 / (k + 1) ** 1.3 for k in range(len(cs))]
        callees.append(cs)
        weights.append(ws)
    for i in range(0, nfunc, 12):      # direct recursion
        callees[i].insert(0, i)
        weights[i].insert(0, 8.0)
    for i in range(6, nfunc - 1, 24):  # indirect: i -> i+1 -> i
        callees[i].insert(0, i + 1)
        weights[i].insert(0, 8.0)
        callees[i + 1].insert(0, i)
        weights[i + 1].insert(0, 8.0)
    entry = [rng.randrange(nfunc) for _ in range(threads)]

    def text(f, nxt, leaf_line):
        name, file, first, n = funcs[f]
        line = first + (leaf_line if nxt is None else nxt % n)
        return "%s (%s:%d)" % (name, file, line)

    heads = []
    for t in range(threads):
        heads.append(["thread (0x7F00%08X)" % (0x1000 + t), "<module> (app/main.py:1)", "main (app/main.py:40)",
                      "run (threading.py:1010)" if t else "serve (app/main.py:31)"])
    stacks = [[entry[t]] for t in range(threads)]
    target = megabytes * 1024 * 1024
    written = lines = 0
    buf = []
    t = 0
    with open(out, "w", encoding="ascii", newline="\n") as fh:
        while written < target:
            t = (t + 1) % threads
            for _ in range(rng.randint(1, 40)):
                st = stacks[t]
                keep = max(1, len(st) - 1 - int(rng.expovariate(1 / 6.0)))
                del st[keep:]
                depth = rng.randint(50, 80) - len(heads[t])
                while len(st) < depth:
                    f = st[-1]
                    st.append(rng.choices(callees[f], weights[f])[0])
                leaf_line = rng.randrange(funcs[st[-1]][3])
                frames = heads[t] + [text(st[i], st[i + 1] if i + 1 < len(st) else None, leaf_line)
                                     for i in range(len(st))]
                line = ";".join(frames) + " %d\n" % (1 + int(4 * rng.random() ** 3))
                buf.append(line)
                written += len(line)
                lines += 1
            if len(buf) >= 2048:
                fh.write("".join(buf))
                buf.clear()
        fh.write("".join(buf))
    print("%s: %d lines, %.1f MB" % (out, lines, written / 1e6), file=sys.stderr)


def read_folded(path):
    """(thread text, frames, count) per line; frames are (name, file, line) tuples shared by
    every line that has them, so a few hundred MB of input fits in memory."""
    out, seen = [], {}
    with open(path, encoding="ascii") as fh:
        for line in fh:
            stack, count = line.rstrip("\n").rsplit(" ", 1)
            frames = stack.split(";")
            thread = frames[0] if THREAD.match(frames[0]) else ""
            rest = frames[1:] if thread else frames
            parsed = []
            for f in rest:
                t = seen.get(f)
                if t is None:
                    m = FRAME.match(f)
                    t = seen[f] = (m.group(1), m.group(2), int(m.group(3))) if m else (f, "", 0)
                parsed.append(t)
            out.append((thread, tuple(parsed), int(count)))
    return out


class Interner:
    def __init__(self):
        self.ids, self.items = {}, []

    def __call__(self, x):
        i = self.ids.get(x)
        if i is None:
            i = self.ids[x] = len(self.items)
            self.items.append(x)
        return i


def threads_of(samples):
    order, by = [], {}
    for th, frames, count in samples:
        if th not in by:
            by[th] = []
            order.append(th)
        by[th].append((frames, count))
    return order, by


def write_cpuprofile(samples, out):
    children, info = [[]], [("(root)", "", -1)]
    kids = [{}]
    sample_ids, deltas = [], [0]
    for _, frames, count in samples:
        node = 0
        for f in frames:
            c = kids[node].get(f)
            if c is None:
                c = len(info)
                info.append((f[0], f[1], f[2] - 1))
                kids.append({})
                children.append([])
                kids[node][f] = c
                children[node].append(c)
            node = c
        sample_ids.append(node + 1)
        deltas.append(count)
    end = sum(deltas)
    deltas.pop()
    with open(out, "w") as fh:
        fh.write('{"nodes":[')
        for i, (name, url, line) in enumerate(info):
            if i:
                fh.write(",")
            fh.write('{"id":%d,"callFrame":{"functionName":%s,"scriptId":"%d","url":%s,"lineNumber":%d,'
                     '"columnNumber":%d},"hitCount":0%s}' % (
                         i + 1, json.dumps(name), 0 if i == 0 else 1,
                         json.dumps(url), line, -1 if i == 0 else 4,
                         (',"children":[%s]' % ",".join(str(c + 1) for c in children[i])) if children[i] else ""))
        fh.write('],"startTime":0,"endTime":%d,"samples":[%s],"timeDeltas":[%s]}' % (
            end, ",".join(map(str, sample_ids)), ",".join(map(str, deltas))))


def write_trace(samples, out):
    order, by = threads_of(samples)
    with open(out, "w") as fh:
        fh.write('{"traceEvents":[')
        first = True
        for tid, th in enumerate(order, 1):
            fh.write(('' if first else ',') + '{"ph":"M","name":"thread_name","pid":1,"tid":%d,"args":{"name":%s}}'
                     % (tid, json.dumps(th or "main")))
            first = False
            open_ = []  # (text, start)
            now = 0
            buf = []

            def close(k):
                while len(open_) > k:
                    text, start = open_.pop()
                    buf.append(',{"ph":"X","name":%s,"pid":1,"tid":%d,"ts":%d,"dur":%d}'
                               % (json.dumps(text), tid, start, now - start))

            for frames, count in by[th]:
                texts = ["%s (%s:%d)" % f for f in frames]
                k = 0
                while k < len(open_) and k < len(texts) and open_[k][0] == texts[k]:
                    k += 1
                close(k)
                for t in texts[k:]:
                    open_.append((t, now))
                now += count
                if len(buf) > 4096:
                    fh.write("".join(buf))
                    buf.clear()
            close(0)
            fh.write("".join(buf))
        fh.write('],"displayTimeUnit":"ms"}')


def write_gecko(samples, out):
    order, by = threads_of(samples)
    strings = Interner()
    threads = []
    for tid, th in enumerate(order, 1):
        funcs, frames_, stacks = Interner(), Interner(), Interner()
        st_col, w_col, time_col = [], [], []
        now = 0
        for frames, count in by[th]:
            prefix = None
            for name, file, line in frames:
                fn = funcs((strings(name), strings(file)))
                fr = frames_((fn, line))
                prefix = stacks((prefix, fr))
            st_col.append(prefix)
            w_col.append(count)
            time_col.append(now)
            now += count
        n_f, n_fr, n_st = len(funcs.items), len(frames_.items), len(stacks.items)
        threads.append({
            "name": th or "main", "isMainThread": tid == 1, "processStartupTime": 0, "processShutdownTime": None,
            "registerTime": 0, "unregisterTime": None, "pausedRanges": [], "pid": 1, "tid": tid,
            "processType": "default", "processName": "Python Process",
            "samples": {"stack": st_col, "time": time_col, "weight": w_col, "weightType": "samples",
                        "length": len(st_col)},
            "stackTable": {"frame": [s[1] for s in stacks.items], "prefix": [s[0] for s in stacks.items],
                           "category": [1] * n_st, "subcategory": [0] * n_st, "length": n_st},
            "frameTable": {"address": [-1] * n_fr, "category": [1] * n_fr, "subcategory": [0] * n_fr,
                           "func": [f[0] for f in frames_.items], "innerWindowID": [None] * n_fr,
                           "implementation": [None] * n_fr, "optimizations": [None] * n_fr,
                           "line": [f[1] for f in frames_.items], "column": [None] * n_fr,
                           "inlineDepth": [0] * n_fr, "nativeSymbol": [None] * n_fr, "length": n_fr},
            "funcTable": {"name": [f[0] for f in funcs.items], "isJS": [False] * n_f,
                          "relevantForJS": [False] * n_f, "resource": [-1] * n_f,
                          "fileName": [f[1] for f in funcs.items], "lineNumber": [None] * n_f,
                          "columnNumber": [None] * n_f, "length": n_f},
            "resourceTable": {"lib": [], "name": [], "host": [], "type": [], "length": 0},
            "nativeSymbols": {"libIndex": [], "address": [], "name": [], "functionSize": [], "length": 0},
            "markers": {"data": [], "name": [], "startTime": [], "endTime": [], "phase": [], "category": [],
                        "length": 0},
        })
    meta = {"interval": 1.0, "startTime": 0, "processType": 0, "product": "Python", "symbolicated": True,
            "version": 32, "preprocessedProfileVersion": 57, "importedFrom": "Tachyon Sampling Profiler",
            "categories": [{"name": "Other", "color": "grey", "subcategories": ["Other"]},
                           {"name": "Python", "color": "yellow", "subcategories": ["Other"]}],
            "markerSchema": [], "stackwalk": 0}
    with open(out, "w") as fh:
        json.dump({"meta": meta, "libs": [], "threads": threads, "pages": [],
                   "shared": {"stringArray": strings.items}}, fh, separators=(",", ":"))


def write_pyinstrument(samples, out):
    root = {"function": "<process>", "file_path": "", "line_no": 0, "time": 0, "kids": {}}
    for _, frames, count in samples:
        node = root
        node["time"] += count
        for f in frames:
            c = node["kids"].get(f)
            if c is None:
                c = node["kids"][f] = {"function": f[0], "file_path": f[1], "line_no": f[2], "time": 0, "kids": {}}
            c["time"] += count
            node = c

    def emit(n, w):
        w('{"function":%s,"file_path_short":%s,"file_path":%s,"line_no":%d,"time":%d,"await_time":0.0,'
          '"is_application_code":true,"children":[' % (json.dumps(n["function"]), json.dumps(n["file_path"]),
                                                        json.dumps(n["file_path"]), n["line_no"], n["time"]))
        for i, c in enumerate(n["kids"].values()):
            if i:
                w(",")
            emit(c, w)
        w("]}")

    total = root["time"]
    # The generator's <module> frame is everyone's first frame: make it the root frame.
    top = list(root["kids"].values())
    if len(top) == 1:
        root = top[0]
    sys.setrecursionlimit(10000)
    with open(out, "w") as fh:
        fh.write('{"start_time":0.0,"duration":%d,"sample_count":%d,"target_description":"deep benchmark",'
                 '"cpu_time":%d,"root_frame":' % (total, len(samples), total))
        parts = []
        emit(root, parts.append)
        fh.write("".join(parts))
        fh.write("}")


def write_evented(samples, out):
    order, by = threads_of(samples)
    frames_ = Interner()
    profiles = []
    for th in order:
        events, open_, now = [], [], 0
        for frames, count in by[th]:
            ids = [frames_(f) for f in frames]
            k = 0
            while k < len(open_) and k < len(ids) and open_[k] == ids[k]:
                k += 1
            while len(open_) > k:
                events.append('{"type":"C","frame":%d,"at":%d}' % (open_.pop(), now))
            for i in ids[k:]:
                events.append('{"type":"O","frame":%d,"at":%d}' % (i, now))
                open_.append(i)
            now += count
        while open_:
            events.append('{"type":"C","frame":%d,"at":%d}' % (open_.pop(), now))
        profiles.append('{"type":"evented","name":%s,"unit":"seconds","startValue":0,"endValue":%d,"events":[%s]}'
                        % (json.dumps(th or "main"), now, ",".join(events)))
    shared = ",".join('{"name":%s,"file":%s,"line":%d}' % (json.dumps(n), json.dumps(f), ln)
                      for n, f, ln in frames_.items)
    with open(out, "w") as fh:
        fh.write('{"$schema":"https://www.speedscope.app/file-format-schema.json","exporter":"gen_deep.py",'
                 '"activeProfileIndex":0,"profiles":[%s],"shared":{"frames":[%s]}}' % (",".join(profiles), shared))


def write_sampled(samples, out):
    """py-spy's shape: a sampled profile per thread, `profiles` before `shared`, the thread
    pseudo-frame at the root of each sample."""
    order, by = threads_of(samples)
    frames_ = Interner()
    profiles = []
    for th in order:
        head = [frames_((th, "", 0))] if th else []
        stacks = ["[%s]" % ",".join(map(str, head + [frames_(f) for f in frames])) for frames, _ in by[th]]
        weights = [str(c) for _, c in by[th]]
        profiles.append('{"type":"sampled","name":%s,"unit":"none","startValue":0,"endValue":%d,'
                        '"samples":[%s],"weights":[%s]}' % (json.dumps(th or "main"), len(stacks),
                                                            ",".join(stacks), ",".join(weights)))
    shared = ",".join('{"name":%s,"file":%s,"line":%s}' % (json.dumps(n), json.dumps(f), ln or "null")
                      for n, f, ln in frames_.items)
    with open(out, "w") as fh:
        fh.write('{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[%s],'
                 '"shared":{"frames":[%s]},"activeProfileIndex":null,"exporter":"gen_deep.py"}'
                 % (",".join(profiles), shared))


WRITERS = {"sampled": write_sampled, "cpuprofile": write_cpuprofile, "trace": write_trace, "gecko": write_gecko,
           "pyinstrument": write_pyinstrument, "evented": write_evented}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("folded")
    f.add_argument("out")
    f.add_argument("--mb", type=float, default=100)
    f.add_argument("--threads", type=int, default=4)
    f.add_argument("--seed", type=int, default=7)
    c = sub.add_parser("convert")
    c.add_argument("format", choices=sorted(WRITERS))
    c.add_argument("input")
    c.add_argument("out")
    a = ap.parse_args()
    if a.cmd == "folded":
        gen_folded(a.out, a.mb, a.threads, a.seed)
    else:
        WRITERS[a.format](read_folded(a.input), a.out)


if __name__ == "__main__":
    main()
