#!/usr/bin/env python3
"""Independent reference for the golden pairs under Tests/Golden (no perftop code).

Each case `Tests/Golden/<format>/<case>.<ext>` has a `<case>.folded` beside it: the profile as
collapsed stacks, in the canonical form the golden test compares perftop's output with:

- one line `frame;frame;... WEIGHT` per distinct stack (root first), sorted, weights summed over
  identical stacks; the weight is the reader's default metric (pprof: `default_sample_type`, else
  the last sample type; cpuprofile: time in microseconds; the others: their only or first metric);
- threads and processes merged: thread/process pseudo-frames are dropped (py-spy's
  `thread (...)`/`process ...:"..."` frames, austin's `P<pid>;T<tid>`, one profile per thread);
- lines as the file records them: no merging of a function's lines into one frame;
- frame text as perftop's `Exporter.frameText` writes it: `name (file:line)`, `name (file)` when
  there is no line, `name` when there is no file; `;` inside a frame becomes `:`;
- stacks with no frames and stacks whose weight is 0 are left out (a collapsed line needs a frame);
- a first comment line `# golden: ...` says where the file came from.

The Tachyon binary's zstd variant needs the `zstd` command-line tool (apt-get install zstd).

The parsers below are written from ../shared/FORMATS.md and the formats' own documentation, not
from perftop's readers. pstats and callgrind record no stacks (perftop estimates the tree), so for
those this script does not write the .folded (the test's snapshot of perftop's estimate is
reviewed by hand, see Tests/Golden/README.md); it writes the independent function figures instead:
`<case>.pstats.json` (Scripts/pstats_reference.py, CPython's own pstats; for Tachyon's sampled
dump, which pstats cannot load, the samples per key read from the marshal dict) and
`<case>.callgrind-self.json` (self cost per function of the first event, summed from the file).

Usage:
    golden_folded.py             write every reference file under Tests/Golden
    golden_folded.py --check     compare them with the committed files (exit 1 on a difference)
    golden_folded.py FORMAT FILE print FILE's collapsed form to standard output
"""
import gzip
import json
import os
import re
import struct
import subprocess
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "Tests", "Golden")


# ---------------------------------------------------------------------------------------------
# Shared helpers

def frame_text(name, file=None, line=None):
    """perftop's documented frame text: `name (file:line)` / `name (file)` / `name`."""
    if not file:
        return name
    if line is None:
        return "%s (%s)" % (name, file)
    return "%s (%s:%d)" % (name, file, line)


class Stacks:
    def __init__(self):
        self.w = defaultdict(float)

    def add(self, frames, weight):
        if not frames or weight == 0:
            return
        key = ";".join(f.replace(";", ":").replace("\n", " ") for f in frames)
        self.w[key] += weight


def fmt_number(v):
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def render(stacks, header):
    lines = ["%s %s" % (k, fmt_number(v)) for k, v in stacks.w.items() if v != 0]
    lines.sort()
    return "# golden: " + header + "\n" + "".join(l + "\n" for l in lines)


def read_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def text_lines(path):
    data = read_bytes(path)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16")
    else:
        text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.splitlines()


NUM = re.compile(r"^[0-9]+(\.[0-9]+)?$")


# ---------------------------------------------------------------------------------------------
# Folded / collapsed (FORMATS.md §2)

THREAD_FRAME = re.compile(r"^thread \((0x[0-9A-Fa-f]+|[0-9]+)\)(: .*)?$")
PROCESS_FRAME = re.compile(r'^process [0-9]+:".*"$')


TACHYON_TID = re.compile(r"^tid:[0-9]+$")


def tachyon_frame(f):
    parts = f.rsplit(":", 2)
    if len(parts) == 3 and parts[2].isdigit():
        return frame_text(parts[1], parts[0], int(parts[2]) or None)
    return f


def parse_collapsed(path):
    s = Stacks()
    for raw in text_lines(path):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        stack, sep, count = line.rpartition(" ")
        if not sep or not NUM.match(count):
            continue                      # an ignored line (or an empty stack: just a number)
        before, sep2, prev = stack.rpartition(" ")
        if sep2 and NUM.match(prev) and before:
            stack = before                # differential `stack before after`: the last number
        frames = [f for f in stack.split(";")
                  if not THREAD_FRAME.match(f) and not PROCESS_FRAME.match(f)]
        if frames and TACHYON_TID.match(frames[0]):
            # Tachyon `--collapsed` (FORMATS.md §2): a `tid:N` root, `file:function:line` frames,
            # special frames bare.
            frames = [tachyon_frame(f) for f in frames[1:]]
        s.add(frames, float(count))
    return s


# ---------------------------------------------------------------------------------------------
# Austin text (FORMATS.md §5.1)

def austin_frame(f):
    parts = f.rsplit(":", 2)
    if len(parts) != 3:
        return f
    file, name, line = parts
    if not name and file:
        name = "<unknown>"        # austin 3.7 writes no name for some (non-ASCII) functions
    ln = int(line) if line.isdigit() and int(line) > 0 else None
    return frame_text(name, file, ln)


def parse_austin(path):
    s = Stacks()
    for raw in text_lines(path):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        stack, sep, metric = line.rpartition(" ")
        if not sep:
            continue
        value = float(metric.split(",")[0])   # full mode: time,idle,memory -> time
        parts = stack.split(";")
        if len(parts) < 2 or not parts[0].startswith("P") or not parts[1].startswith("T"):
            continue
        s.add([austin_frame(f) for f in parts[2:]], value)
    return s


# ---------------------------------------------------------------------------------------------
# MOJO (FORMATS.md §5.2)

class Mojo:
    def __init__(self, data):
        self.d = data
        self.i = 0

    def byte(self):
        b = self.d[self.i]
        self.i += 1
        return b

    def varint(self):
        b = self.byte()
        neg = b & 0x40
        v = b & 0x3F
        shift = 6
        while b & 0x80:
            b = self.byte()
            v |= (b & 0x7F) << shift
            shift += 7
        return -v if neg else v

    def string(self):
        j = self.d.index(0, self.i)
        s = self.d[self.i:j].decode("utf-8", "replace")
        self.i = j + 1
        return s


def parse_mojo(path):
    data = read_bytes(path)
    assert data[:3] == b"MOJ", "not a MOJO file"
    m = Mojo(data)
    m.i = 3
    version = m.varint()
    strings = {}      # (pid, key) -> str
    frames = {}       # (pid, key) -> frame text
    s = Stacks()
    cur = None        # [pid, frames, time]
    pid = 0

    def flush():
        if cur is not None:
            s.add(cur[1], cur[2])

    def lookup(key):
        if (pid, key) in strings:
            return strings[(pid, key)]
        if (0, key) in strings:
            return strings[(0, key)]
        return {0: "", 1: "<unknown>"}.get(key, "<unknown>")

    while m.i < len(data):
        ev = m.byte()
        if ev == 1:                       # METADATA
            m.string(); m.string()
        elif ev == 2:                     # STACK
            flush()
            pid = m.varint()
            if version >= 3:
                m.varint()                # iid
            m.string()                    # tid
            cur = [pid, [], 0.0]
        elif ev == 3:                     # FRAME
            key = m.varint()
            fname = lookup(m.varint())
            scope = lookup(m.varint())
            line = m.varint()
            if version >= 2:
                m.varint(); m.varint(); m.varint()
            frames[(pid, key)] = frame_text(scope, fname, line if line > 0 else None)
        elif ev == 4:                     # FRAME_INVALID
            cur[1].append(frame_text("INVALID"))     # as austin text's `:INVALID:` frame
        elif ev == 5:                     # FRAME_REF
            key = m.varint()
            cur[1].append(frames.get((pid, key), frames.get((0, key), "<unknown>")))
        elif ev == 6:                     # FRAME_KERNEL
            cur[1].append(m.string())
        elif ev == 7:                     # GC
            cur[1].append(frame_text("GC"))          # as austin text's `:GC:` frame
        elif ev == 8:                     # IDLE
            pass
        elif ev == 9:                     # METRIC_TIME
            cur[2] += m.varint()
        elif ev == 10:                    # METRIC_MEMORY (not the time metric)
            m.varint()
        elif ev == 11:                    # STRING
            key = m.varint()
            strings[(pid, key)] = m.string()
        elif ev == 12:                    # STRING_REF
            m.varint()
        else:
            raise ValueError("MOJO event %d at offset %d not handled by the reference" % (ev, m.i - 1))
    flush()
    return s


# ---------------------------------------------------------------------------------------------
# speedscope (FORMATS.md §3)

def is_memray_speedscope(profiles):
    return (len(profiles) == 2 and [p.get("name") for p in profiles] == ["Memory", "Allocations"]
            and all(p["type"] == "sampled" for p in profiles)
            and profiles[0]["samples"] == profiles[1]["samples"])


def parse_speedscope(path):
    d = json.loads(read_bytes(path))
    fr = d["shared"]["frames"]
    # `line` is 1-based: pyinstrument writes 0 for "no line" (<built-in> functions).
    texts = [frame_text(f["name"], f.get("file"), f.get("line") or None) for f in fr]
    # py-spy `--threads` puts its thread pseudo-frame into the shared frames (merged away).
    grouping = set(i for i, f in enumerate(fr)
                   if THREAD_FRAME.match(f["name"]) or PROCESS_FRAME.match(f["name"]))
    s = Stacks()
    profiles = d["profiles"]
    if is_memray_speedscope(profiles):
        # memray (FORMATS.md §11): "Memory" (bytes) and "Allocations" (none) are two metrics of
        # one profile, not two threads; the default metric is the first, Memory.
        profiles = profiles[:1]
    for p in profiles:
        if p["type"] == "sampled":
            for st, w in zip(p["samples"], p["weights"]):
                s.add([texts[i] for i in st if i not in grouping], float(w))
        else:
            stack = []
            last = p.get("startValue", 0)
            for e in p["events"]:
                if stack:
                    s.add([texts[i] for i in stack], e["at"] - last)
                last = e["at"]
                if e["type"] == "O":
                    stack.append(e["frame"])
                elif stack and stack[-1] == e["frame"]:
                    stack.pop()
                else:
                    raise ValueError("unbalanced evented profile (the golden cases are well formed)")
    return s


# ---------------------------------------------------------------------------------------------
# Chrome .cpuprofile, new and old (head/timestamps) forms (FORMATS.md §4.1)

SPECIAL = {"(root)"}


def parse_cpuprofile(path):
    d = json.loads(read_bytes(path))
    parent, info = {}, {}
    if "nodes" in d:
        for n in d["nodes"]:
            info[n["id"]] = n.get("callFrame", n)
            for c in n.get("children", []):
                parent[c] = n["id"]
            if "parent" in n:
                parent[n["id"]] = n["parent"]
        old = False
    else:
        def walk(n, up):
            info[n["id"]] = n
            if up is not None:
                parent[n["id"]] = up
            for c in n.get("children", []):
                walk(c, n["id"])
        walk(d["head"], None)
        old = True

    def stack(nid):
        out = []
        while nid is not None:
            cf = info[nid]
            name = cf.get("functionName") or "(anonymous)"
            if not (nid not in parent and name == "(root)"):
                line = cf.get("lineNumber", -1)
                out.append(frame_text(name, cf.get("url") or None, line + 1 if line >= 0 else None))
            nid = parent.get(nid)
        return out[::-1]

    if old:
        times = [float(t) for t in d["timestamps"]]
        end = float(d["endTime"]) * 1e6
    else:
        times, t = [], float(d["startTime"])
        for dt in d["timeDeltas"]:
            t += dt
            times.append(t)
        end = float(d["endTime"])
    s = Stacks()
    samples = d["samples"]
    # Sample i lasts until the next time stamp (old files have one more stamp than samples);
    # the last one until endTime.
    for i, nid in enumerate(samples):
        w = times[i + 1] - times[i] if i + 1 < len(times) else end - times[i]
        s.add(stack(nid), max(w, 0.0))
    return s


# ---------------------------------------------------------------------------------------------
# Chrome Trace Event (FORMATS.md §4.2): B/E and X events, per (pid, tid)

VIZ_NAME = re.compile(r"^(.*) \((.*):([0-9]+)\)$")


def trace_frame(e):
    name = e.get("name", "")
    m = VIZ_NAME.match(name)
    if m:
        return frame_text(m.group(1), m.group(2), int(m.group(3)))
    args = e.get("args") or {}
    if isinstance(args, dict) and "filename" in args:
        ln = args.get("line")
        return frame_text(name, args["filename"], ln if isinstance(ln, int) and ln > 0 else None)
    return name


def parse_trace_event(path):
    """B/E and X events per (pid, tid), in time order with FORMATS.md §4.2's tie rules: at one
    time an end goes before a begin unless it closes that very begin (a zero-duration event: the
    X's own end, or an E of the begin's name while no B of that name is open);
    begins at one time open the longer X first, a B (length unknown) before an X, else in file
    order. An E closes the innermost open B of its name (an E with no name: the top frame) and
    the frames above it; an X's end closes its own begin likewise; an unmatched end is ignored;
    frames still open at the last event are closed there."""
    d = json.loads(read_bytes(path))
    events = d["traceEvents"] if isinstance(d, dict) else d
    threads = defaultdict(lambda: ([], []))
    for seq, e in enumerate(events):
        ph = e.get("ph")
        begins, ends = threads[(e.get("pid"), e.get("tid"))]
        if ph == "B":
            begins.append(dict(ts=float(e["ts"]), dur=float("inf"), seq=seq, name=e.get("name"), x=None,
                               text=trace_frame(e)))
        elif ph == "E":
            ends.append(dict(ts=float(e["ts"]), seq=seq, name=e.get("name"), x=None))
        elif ph == "X" and "dur" in e:
            ts, dur = float(e["ts"]), float(e["dur"])
            begins.append(dict(ts=ts, dur=dur, seq=seq, name=e.get("name"), x=seq, text=trace_frame(e)))
            ends.append(dict(ts=ts + dur, seq=seq, name=e.get("name"), x=seq))
    s = Stacks()
    for begins, ends in threads.values():
        begins.sort(key=lambda b: (b["ts"], -b["dur"], b["seq"]))
        ends.sort(key=lambda x: (x["ts"], x["seq"]))

        def closes(end, b):
            return end["x"] == b["x"] if b["x"] is not None else (end["x"] is None and end["name"] == b["name"])

        stack, last, i, j = [], None, 0, 0
        while i < len(begins) or j < len(ends):
            if j >= len(ends):
                take_begin = True
            elif i >= len(begins):
                take_begin = False
            else:
                b, t = begins[i], ends[j]["ts"]
                # An E "closes that very begin" when it matches it and nothing open yet.
                take_begin = b["ts"] < t or (b["ts"] == t and any(
                    closes(x, b) and (x["x"] is not None or not any(
                        f["x"] is None and f["name"] == x["name"] for f in stack))
                    for x in ends[j:] if x["ts"] == t))
            ev = begins[i] if take_begin else ends[j]
            if stack and last is not None:
                s.add([f["text"] for f in stack], ev["ts"] - last)
            last = ev["ts"]
            if take_begin:
                stack.append(ev)
                i += 1
                continue
            j += 1
            for k in range(len(stack) - 1, -1, -1):
                f = stack[k]
                if (ev["x"] is not None and f["x"] == ev["x"]) or (
                        ev["x"] is None and f["x"] is None and (ev["name"] is None or f["name"] == ev["name"])):
                    del stack[k:]
                    break
    return s


# ---------------------------------------------------------------------------------------------
# pyinstrument -r json (FORMATS.md §9.1)

def parse_pyinstrument(path):
    d = json.loads(read_bytes(path))
    s = Stacks()

    def walk(f, above):
        name = f["function"]
        if f.get("class_name"):
            name = f["class_name"] + "." + name
        line = f.get("line_no") or None
        me = above + [frame_text(name, f.get("file_path") or None, line)]
        kids = f.get("children", [])
        own = f["time"] - sum(c["time"] for c in kids)
        s.add(me, max(own, 0.0))
        for c in kids:
            if c["function"] == "[self]" and not c.get("file_path"):
                s.add(me, c["time"])     # pyinstrument's name for the parent's own time
            else:
                walk(c, me)

    walk(d["root_frame"], [])
    return s


# ---------------------------------------------------------------------------------------------
# Firefox profiler, processed form (FORMATS.md §9.4)

# speedscope's firefox.ts reads a raw frame's location with this regex: `name (url:line:col)`.
GECKO_LOCATION = re.compile(r"^(.*)\s+\((.*?)(?::(\d+))?(?::(\d+))?\)$")
URL_LINE_COL = re.compile(r"^(.*?)(?::(\d+))?(?::(\d+))?$")


def gecko_location(loc, row_line):
    """perftop's documented reading: `name (url:line:col)`; a bare `url:line:col` (a top-level
    script) keeps the location as its name, with the url and line; anything else is a name."""
    if loc == "(root)" or re.match(r"^0x[0-9a-fA-F]+$", loc):
        return loc
    m = GECKO_LOCATION.match(loc)
    if m:
        line = int(m.group(3)) if m.group(3) else row_line
        return frame_text(m.group(1) or "(anonymous)", m.group(2) or None, line if line else None)
    if "://" in loc and " " not in loc:
        m = URL_LINE_COL.match(loc)
        line = int(m.group(2)) if m.group(2) else row_line
        return frame_text(loc, m.group(1) or None, line if line else None)
    return loc or "<unknown>"


def gecko_raw_threads(profile):
    """Threads of a raw (schema + data rows) gecko profile and its nested process profiles."""
    for t in profile.get("threads", []):
        yield t
    for sub in profile.get("processes", []):
        yield from gecko_raw_threads(sub)


def parse_gecko_raw(profile):
    s = Stacks()
    for t in gecko_raw_threads(profile):
        if isinstance(t, str):
            t = json.loads(t)             # old files store each thread as a JSON string
        strings = t["stringTable"]
        ss, st, sf = t["samples"]["schema"], t["stackTable"]["schema"], t["frameTable"]["schema"]
        stacks, frames = t["stackTable"]["data"], t["frameTable"]["data"]

        def text(fi):
            row = frames[fi]
            line = row[sf["line"]] if "line" in sf and sf["line"] < len(row) else None
            return gecko_location(strings[row[sf["location"]]], line)

        for row in t["samples"]["data"]:
            k = row[ss["stack"]]
            out = []
            while k is not None:
                out.append(text(stacks[k][st["frame"]]))
                k = stacks[k][st["prefix"]]
            s.add(out[::-1], 1.0)
    return s


def parse_gecko(path):
    d = json.loads(read_bytes(path))
    if "profile" in d and "meta" not in d:
        d = d["profile"]                  # the devtools wrapper {"fileType", "profile", ...}
    if "preprocessedProfileVersion" not in d.get("meta", {}):
        return parse_gecko_raw(d)
    shared = d.get("shared", {}).get("stringArray")
    s = Stacks()
    for t in d["threads"]:
        strings = shared if shared is not None else t.get("stringArray") or t.get("stringTable")
        st, ft, fn, sm = t["stackTable"], t["frameTable"], t["funcTable"], t["samples"]
        def text(frame):
            f = ft["func"][frame]
            line = ft["line"][frame]
            if line is None:
                line = fn["lineNumber"][f]
            file = fn["fileName"][f]
            return frame_text(strings[fn["name"][f]], strings[file] if file is not None else None,
                              line if line else None)
        weights = sm.get("weight")
        for i, leaf in enumerate(sm["stack"]):
            frames, k = [], leaf
            while k is not None:
                frames.append(text(st["frame"][k]))
                k = st["prefix"][k]
            s.add(frames[::-1], float(weights[i]) if weights else 1.0)
    return s


# ---------------------------------------------------------------------------------------------
# pprof profile.proto (FORMATS.md §6), with a tiny protobuf decoder

def pb_fields(buf):
    i, n = 0, len(buf)
    while i < n:
        key, i = pb_varint(buf, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = pb_varint(buf, i)
        elif wt == 2:
            ln, i = pb_varint(buf, i)
            v = buf[i:i + ln]
            i += ln
        elif wt == 1:
            v = struct.unpack_from("<Q", buf, i)[0]; i += 8
        elif wt == 5:
            v = struct.unpack_from("<I", buf, i)[0]; i += 4
        else:
            raise ValueError("protobuf wire type %d" % wt)
        yield field, wt, v


def pb_varint(buf, i):
    v, shift = 0, 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def pb_ints(wt, v, signed=False):
    if wt == 2:
        out, i = [], 0
        while i < len(v):
            x, i = pb_varint(v, i)
            out.append(x)
    else:
        out = [v]
    if signed:
        out = [x - (1 << 64) if x >= 1 << 63 else x for x in out]
    return out


def parse_pprof(path):
    data = read_bytes(path)
    strings, sample_types, samples, locations, functions, mappings = [], [], [], {}, {}, {}
    default_type = 0
    for f, wt, v in pb_fields(data):
        if f == 6:
            strings.append(v.decode("utf-8", "replace"))
        elif f == 1:
            vt = dict((ff, vv) for ff, _, vv in pb_fields(v))
            sample_types.append(vt.get(1, 0))
        elif f == 2:
            locs, vals = [], []
            for ff, w2, vv in pb_fields(v):
                if ff == 1:
                    locs += pb_ints(w2, vv)
                elif ff == 2:
                    vals += pb_ints(w2, vv, signed=True)
            samples.append((locs, vals))
        elif f == 4:
            lid, lines, addr, mid = 0, [], 0, 0
            for ff, w2, vv in pb_fields(v):
                if ff == 1:
                    lid = vv
                elif ff == 2:
                    mid = vv
                elif ff == 3:
                    addr = vv
                elif ff == 4:
                    ln = dict((a, b) for a, _, b in pb_fields(vv))
                    lines.append((ln.get(1, 0), ln.get(2, 0)))
            locations[lid] = (lines, addr, mid)
        elif f == 3:
            md = dict((ff, vv) for ff, _, vv in pb_fields(v))
            mappings[md.get(1, 0)] = md.get(5, 0)
        elif f == 5:
            fd = dict((ff, vv) for ff, _, vv in pb_fields(v))
            functions[fd.get(1, 0)] = (fd.get(2, 0), fd.get(4, 0))
        elif f == 14:
            default_type = v
    col = len(sample_types) - 1
    if default_type:
        col = [i for i, t in enumerate(sample_types) if t == default_type][0]
    s = Stacks()
    for locs, vals in samples:
        frames = []
        for lid in locs:                  # leaf first
            lines, addr, mid = locations[lid]
            if not lines:                 # unsymbolized: the address, in its mapping's file
                frames.append(frame_text("0x%x" % addr, strings[mappings.get(mid, 0)] or None))
            for fid, line in lines:       # innermost inlined first
                name, file = functions[fid]
                frames.append(frame_text(strings[name], strings[file] or None, line or None))
        s.add(frames[::-1], float(vals[col]))
    return s


# ---------------------------------------------------------------------------------------------
# perf script (FORMATS.md §7)

EVENT_LINE = re.compile(r"^(.*?)\s+([0-9]+)(?:/([0-9]+))?\s+(?:\[[0-9]+\]\s+)?(?:[0-9]+\.[0-9]+:\s+)?(?:([0-9]+)\s+)?([^\s:]+(?::[a-zA-Z]*)?):")


def perf_frame(line):
    body = line.strip()
    addr, _, rest = body.partition(" ")
    m = re.match(r"^(.*?)\s*\(([^()]*)\)$", rest)
    sym, dso = (m.group(1), m.group(2)) if m else (rest, "")
    sym = re.sub(r"\+0x[0-9a-fA-F]+$", "", sym)
    # perftop's convention: the DSO is the frame's file (none when perf says `[unknown]`)
    file = dso if dso and dso != "[unknown]" else None
    if sym in ("", "[unknown]"):
        # inferno's with_module_fallback: the DSO's base name in brackets, unless it is unknown too
        return frame_text("[%s]" % os.path.basename(dso) if file else "[unknown]", file)
    return frame_text(sym, file)


def parse_perf_script(path):
    s = Stacks()
    first_event = None
    record = []

    def finish():
        if not record:
            return
        m = EVENT_LINE.match(record[0])
        if m:
            period, event = m.group(4), m.group(5)
            nonlocal first_event
            if first_event is None:
                first_event = event
            if event == first_event:
                frames = [perf_frame(l) for l in record[1:]]
                s.add(frames[::-1], float(period) if period else 1.0)
        record.clear()

    for line in text_lines(path):
        if line.startswith("#"):
            continue
        if not line.strip():
            finish()
            continue
        record.append(line)
    finish()
    return s


# ---------------------------------------------------------------------------------------------
# Function figures for the formats with no stacks

def callgrind_self(path):
    """Self cost of the first event per function (name, file), summed from the cost lines."""
    names = {"fl": {}, "fn": {}, "fi": {}, "fe": {}, "cfl": {}, "cfn": {}, "cfi": {}}
    kind_of = {"fl": "fl", "fi": "fl", "fe": "fl", "cfl": "fl", "cfi": "fl", "fn": "fn", "cfn": "fn"}
    table = {"fl": {}, "fn": {}}

    def resolve(kind, value):
        k = kind_of[kind]
        m = re.match(r"^\(([0-9]+)\)\s*(.*)$", value)
        if m:
            if m.group(2):
                table[k][m.group(1)] = m.group(2)
            return table[k].get(m.group(1), "")
        return value

    self_cost = defaultdict(int)
    fl = fn = None
    in_call = False
    for raw in text_lines(path):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^(c?f[lin]|fe|ob|cob)=(.*)$", line)
        if m:
            kind, value = m.groups()
            if kind in ("ob", "cob"):
                continue
            v = resolve(kind, value)
            if kind == "fl":
                fl = v
            elif kind == "fn":
                fn = v
            continue
        if line.startswith("calls="):
            in_call = True
            continue
        if re.match(r"^[a-z]+:", line):
            continue
        if re.match(r"^([+-]?[0-9]+|\*|0x[0-9a-fA-F]+)(\s|$)", line):
            parts = line.split()
            if in_call:
                in_call = False           # the inclusive cost of the call, not self cost
                continue
            if len(parts) >= 2:
                self_cost[(fn, fl)] += int(parts[1], 0)
    # yappi names functions `name file:line` (its own file): the name and its definition line.
    merged = defaultdict(int)
    for (n, f), c in self_cost.items():
        line = None
        head, _, tail = (n or "").rpartition(":")
        if f and tail.isdigit() and head.endswith(" " + f):
            n, line = head[:-len(f) - 1], int(tail)
        merged[(n, f, line)] += c
    return [{"name": n, "file": f, "line": l, "self": c}
            for (n, f, l), c in sorted(merged.items(), key=lambda x: (x[0][0] or "", x[0][1] or "", x[0][2] or 0))]


# ---------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------
# Tachyon binary (FORMATS.md §8.1)

def leb128(d, i):
    v = shift = 0
    while True:
        b = d[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def zigzag(z):
    return (z >> 1) ^ -(z & 1)


def tachyon_tables(d, end, str_off, frame_off, nstr, nframe, fields):
    i, strings = str_off, []
    for _ in range(nstr):
        n, i = leb128(d, i)
        strings.append(d[i:i + n].decode("utf-8", "replace"))
        i += n
    if i != frame_off:
        return None
    frames = []
    for _ in range(nframe):
        fn, i = leb128(d, i)
        name, i = leb128(d, i)
        line, i = leb128(d, i)
        if fields == 7:
            for _ in range(3):
                _, i = leb128(d, i)
            i += 1                        # opcode
        frames.append((strings[fn], strings[name], zigzag(line)))
    return frames if i == end else None


def tachyon_frame_text(file, name, line):
    # `<GC>`/`<native>` (file "~", no location) print bare, as in Tachyon's own collapsed output.
    if file == "~" or (line < 0 and name.startswith("<")):
        return frame_text(name)
    return frame_text(name, file, line if line > 0 else None)


def parse_tachyon(path):
    d = read_bytes(path)
    if d[:4] == b"HCAT":
        E = "<"
    elif d[:4] == b"TACH":
        E = ">"
    else:
        raise ValueError("not a Tachyon binary file")
    size = len(d)
    nstr, nframe, fsize = struct.unpack_from(E + "IIQ", d, size - 32)
    assert fsize == size, "footer file size"
    stats_end = size - 32
    if d[size - 48:size - 40] == b"TACHSTAT":
        ver, ssize = struct.unpack_from(E + "II", d, size - 40)
        stats_end = size - 32 - ssize
    layouts = []
    cur = struct.unpack_from(E + "QQIQQI", d, 20)     # interval, count, threads, str, frame, compression
    layouts.append((cur[1], cur[3], cur[4], cur[5]))
    leg = struct.unpack_from(E + "QIIQQI", d, 20)
    layouts.append((leg[1], leg[3], leg[4], leg[5]))
    for count, str_off, frame_off, comp in layouts:
        if not (64 <= str_off <= frame_off <= size - 32 and comp in (0, 1)):
            continue
        frames = None
        for fields in (7, 3):
            try:
                frames = tachyon_tables(d, stats_end, str_off, frame_off, nstr, nframe, fields)
            except (IndexError, UnicodeError):
                frames = None
            if frames is not None:
                break
        if frames is not None:
            break
    else:
        raise ValueError("no header layout fits")
    data = d[64:str_off]
    if comp == 1:
        # One zstd frame with no content size: the zstd command-line tool streams it.
        data = subprocess.run(["zstd", "-dc"], input=data, check=True, capture_output=True).stdout
    texts = [None if f.endswith("_sync_coordinator.py") else tachyon_frame_text(f, n, l)
             for f, n, l in frames]
    s = Stacks()
    stacks = {}                            # (tid, iid) -> current stack, innermost first
    samples = 0
    i = 0

    def emit(stack, n):
        frames_ = [texts[k] for k in reversed(stack) if texts[k] is not None]
        s.add(frames_, float(n))

    while i < len(data):
        tid, iid, enc = struct.unpack_from(E + "QIB", data, i)
        i += 13
        st = stacks.get((tid, iid), [])
        if enc == 0:
            n, i = leb128(data, i)
            for _ in range(n):
                _, i = leb128(data, i)
                i += 1
            emit(st, n)
            samples += n
            continue
        _, i = leb128(data, i)
        i += 1                             # status: wall mode counts every sample
        if enc == 1:
            depth, i = leb128(data, i)
            new = []
            for _ in range(depth):
                k, i = leb128(data, i)
                new.append(k)
            st = new
        elif enc == 2:
            shared, i = leb128(data, i)
            n, i = leb128(data, i)
            new = []
            for _ in range(n):
                k, i = leb128(data, i)
                new.append(k)
            st = new + (st[len(st) - shared:] if shared else [])
        elif enc == 3:
            pop, i = leb128(data, i)
            n, i = leb128(data, i)
            new = []
            for _ in range(n):
                k, i = leb128(data, i)
                new.append(k)
            st = new + st[pop:]
        else:
            raise ValueError("record encoding %d at %d" % (enc, i - 1))
        stacks[(tid, iid)] = st
        emit(st, 1)
        samples += 1
    assert samples == count, "decoded %d samples, header says %d" % (samples, count)
    return s


# ---------------------------------------------------------------------------------------------
# Tachyon JSONL (FORMATS.md §8.2): flat per-frame aggregates, no stacks. Each frame's self
# samples become a one-frame stack (the only stacks the file supports).

def parse_tachyon_jsonl(path):
    strings, frames, selfw = {}, {}, defaultdict(float)
    for raw in text_lines(path):
        if not raw.strip():
            continue
        r = json.loads(raw)
        t = r.get("type")
        if t in ("string_table", "str_def"):
            for e in r.get("strings", r.get("defs", [])):
                strings[e["str_id"]] = e["value"]
        elif t in ("frame_table", "frame_def"):
            for e in r.get("frames", r.get("defs", [])):
                frames[e["frame_id"]] = e
        elif t == "agg" and r.get("kind") == "frame":
            for e in r["entries"]:
                selfw[e["frame_id"]] += e["self"]
    s = Stacks()
    for fid, w in selfw.items():
        f = frames[fid]
        file, name, line = strings[f["path_str_id"]], strings[f["func_str_id"]], f.get("line", 0)
        if f.get("synthetic") or (line <= 0 and file in ("~", "") and name.startswith("<")):
            text = frame_text(name)
        else:
            text = frame_text(name, file, line if line > 0 else None)
        s.add([text], float(w))
    return s


# ---------------------------------------------------------------------------------------------
# python -X importtime (FORMATS.md §10): post-order lines, 2 spaces per level; self µs per module

IMPORT_LINE = re.compile(r"^import time:\s+([0-9]+) \|\s+([0-9]+) \| ( *)(\S.*)$")


def parse_importtime(path):
    pending = defaultdict(list)        # level -> [(name, self, children)]
    for raw in text_lines(path):
        m = IMPORT_LINE.match(raw.rstrip("\r\n"))
        if not m:
            continue                   # the header, `cached` rows (no time) and program output
        level = len(m.group(3)) // 2
        node = (m.group(4).rstrip(), int(m.group(1)), pending.pop(level + 1, []))
        pending[level].append(node)
    s = Stacks()

    def walk(node, up):
        path_ = up + [node[0]]
        s.add(path_, float(node[1]))
        for c in node[2]:
            walk(c, path_)

    for lvl in sorted(pending):
        for n in pending[lvl]:        # only level 0 at a complete log's end
            walk(n, [])
    return s


# ---------------------------------------------------------------------------------------------
# memray transforms (FORMATS.md §11): csv (bytes per row; stacks leaf first) and gprof2dot

def parse_memray_csv(path):
    import csv
    import io
    s = Stacks()
    text = "\n".join(text_lines(path))
    for row in csv.DictReader(io.StringIO(text)):
        frames = []
        for f in row["stack_trace"].split("|") if row["stack_trace"] else []:
            name, file, line = f.rsplit(";", 2)
            frames.append(frame_text(name, file or None, int(line) if line.isdigit() and int(line) > 0 else None))
        s.add(frames[::-1], float(row["size"]))
    return s


def parse_gprof2dot(path):
    d = json.loads(read_bytes(path))
    texts = [frame_text(f["name"], f.get("module") or None) for f in d["functions"]]
    s = Stacks()
    for e in d["events"]:
        s.add([texts[k] for k in reversed(e["callchain"])], float(e["cost"][0]))
    return s


def parse_scalene(path):
    """Scalene JSON (FORMATS.md §11): each line's CPU (python + native + system percent) is
    shared among the recorded `stacks` that end on that line, by their counts; a line no
    stack ends on is a one-frame stack of its function (the `functions` entry whose lineno is
    the line's start_function_line, else `<module>`)."""
    d = json.loads(read_bytes(path))
    by_leaf = defaultdict(list)
    for frames, stats in d.get("stacks", []):
        parsed = []
        for f in frames:
            f = f.rstrip(";")
            head, line = f.rsplit(":", 1)
            file, name = head.rsplit(" ", 1)
            parsed.append((file, name, int(line)))
        if parsed and stats.get("count", 0) > 0:
            by_leaf[(parsed[-1][0], parsed[-1][2])].append((parsed, stats["count"]))
    s = Stacks()
    for file, info in d["files"].items():
        names = {f["lineno"]: f["line"] for f in info.get("functions", [])}
        for l in info.get("lines", []):
            cpu = l.get("n_cpu_percent_python", 0) + l.get("n_cpu_percent_c", 0) + l.get("n_sys_percent", 0)
            if cpu <= 0:
                continue
            ends = by_leaf.get((file, l["lineno"]), [])
            counted = sum(c for _, c in ends)
            if counted > 0:
                for frames, c in ends:
                    s.add([frame_text(n, f, ln) for f, n, ln in frames], cpu * c / counted)
            else:
                s.add([frame_text(names.get(l.get("start_function_line"), "<module>"), file, l["lineno"])], cpu)
    return s


# ---------------------------------------------------------------------------------------------
# Tachyon's sampled pstats (FORMATS.md §8.3): CPython's pstats cannot load it (the marker entry),
# so the function figures come straight from the marshal dict.

def is_sampled_pstats(path):
    import marshal
    with open(path, "rb") as f:
        d = marshal.load(f)
    return isinstance(d, dict) and d.get(("__sampled__",)) is True


def sampled_pstats(path):
    import marshal
    with open(path, "rb") as f:
        d = marshal.load(f)
    assert d.get(("__sampled__",)) is True, "not a sampled pstats dump"
    funcs = []
    for k, v in d.items():
        if k == ("__sampled__",):
            continue
        direct, cumulative, tt, ct, callers = v
        funcs.append(dict(file=k[0], line=k[1], name=k[2], direct=direct, cumulative=cumulative,
                          tt=tt, ct=ct, callers=len(callers)))
    funcs.sort(key=lambda r: (r["file"], r["line"], r["name"]))
    return dict(sampled=True, total_samples=sum(r["direct"] for r in funcs),
                total_tt=sum(r["tt"] for r in funcs), functions=funcs)


PARSERS = {
    "collapsed": parse_collapsed,
    "austin": parse_austin,
    "mojo": parse_mojo,
    "speedscope": parse_speedscope,
    "cpuprofile": parse_cpuprofile,
    "trace-event": parse_trace_event,
    "pyinstrument": parse_pyinstrument,
    "gecko": parse_gecko,
    "pprof": parse_pprof,
    "perf-script": parse_perf_script,
    "tachyon": parse_tachyon,
    "tachyon-jsonl": parse_tachyon_jsonl,
    "importtime": parse_importtime,
    "memray-csv": parse_memray_csv,
    "gprof2dot": parse_gprof2dot,
    "scalene": parse_scalene,
}
REFERENCE_SUFFIXES = (".folded", ".pstats.json", ".callgrind-self.json")


def cases():
    for fmt in sorted(os.listdir(GOLDEN)):
        d = os.path.join(GOLDEN, fmt)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith(REFERENCE_SUFFIXES):
                continue
            yield fmt, os.path.join(d, name)


def stem(path):
    base = os.path.basename(path)
    return os.path.join(os.path.dirname(path), base.split(".")[0])


def outputs(fmt, path):
    """(output path, text) pairs this script owns for one case."""
    rel = os.path.relpath(path, GOLDEN)
    if fmt in PARSERS:
        return [(stem(path) + ".folded",
                 render(PARSERS[fmt](path), "%s reference (Scripts/golden_folded.py) of %s" % (fmt, rel)))]
    if fmt == "callgrind":
        return [(stem(path) + ".callgrind-self.json",
                 json.dumps(callgrind_self(path), indent=1, ensure_ascii=False) + "\n")]
    if fmt == "pstats" and is_sampled_pstats(path):
        return [(stem(path) + ".pstats.json",
                 json.dumps(sampled_pstats(path), indent=1, ensure_ascii=False) + "\n")]
    if fmt == "pstats":
        out = subprocess.run([sys.executable, os.path.join(ROOT, "Scripts", "pstats_reference.py"),
                              "--single", "-o", "/dev/stdout", path], check=True,
                             capture_output=True, text=True).stdout
        return [(stem(path) + ".pstats.json", out)]
    # Formats added without a parser here (importtime, memray, tachyon) are checked by their
    # own tests; say so rather than stop before the formats that follow.
    print("no reference parser for format directory '%s': skipped %s" % (fmt, rel), file=sys.stderr)
    return []


def main(argv):
    if len(argv) == 3 and argv[1] in PARSERS:
        sys.stdout.write(render(PARSERS[argv[1]](argv[2]), argv[1] + " " + argv[2]))
        return 0
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        print(__doc__, file=sys.stderr)
        return 2
    bad = 0
    for fmt, path in cases():
        for out, text in outputs(fmt, path):
            rel = os.path.relpath(out, ROOT)
            if check:
                try:
                    with open(out, encoding="utf-8") as f:
                        old = f.read()
                except FileNotFoundError:
                    old = None
                if old != text:
                    bad += 1
                    print("DIFFERS: %s" % rel)
                else:
                    print("ok: %s" % rel)
            else:
                with open(out, "w", encoding="utf-8") as f:
                    f.write(text)
                print("wrote %s" % rel)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
