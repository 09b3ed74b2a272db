#!/usr/bin/env python3
"""Writes Tests/Reference/top-self.json: for every sample profile in SampleProfiles/ and every
golden input in Tests/Golden/, the function with the most self time and its share of the total,
computed without perftop: stacks through Scripts/golden_folded.py's own parsers (self = the
weight of the stacks a function ends, lines merged, stacks with no frame left out as perftop
leaves them out of its total), pstats through CPython's `pstats` (tottime / total tottime),
callgrind from the self costs golden_folded.py sums from the file.

The viewer's first-screen test (Tests/TUITests/FirstScreenTests.swift) checks that the 80x24
first screen names that function with that share. Regenerate after re-recording a sample:
    python3 Scripts/top_self_reference.py
"""
import json
import os
import pstats
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_folded as gf  # noqa: E402


class CountingStacks(gf.Stacks):
    """golden_folded's stacks, also counting the weight of samples with no frame (py-spy's ` 5`
    lines, austin samples of a thread with no Python frame), which it leaves out."""
    def __init__(self):
        super().__init__()
        self.frameless = 0.0

    def add(self, frames, weight):
        if not frames:
            self.frameless += weight
        super().add(frames, weight)


gf.Stacks = CountingStacks

ROOT = gf.ROOT
SAMPLES = os.path.join(ROOT, "SampleProfiles")
OUT = os.path.join(ROOT, "Tests", "Reference", "top-self.json")


def sample_format(name):
    base = name[:-3] if name.endswith(".gz") else name
    if base.endswith(".prof"):
        return "pstats"
    if base.endswith(".pyspy.txt"):
        return "collapsed"
    if base.endswith(".austin"):
        return "austin"
    if base.endswith(".mojo"):
        return "mojo"
    if base.endswith(".speedscope.json"):
        return "speedscope"
    return None


def frame_function(text):
    """`name (file:line)` -> (name, file); `name (file)` -> (name, file); `name` -> (name, "")."""
    if text.endswith(")") and " (" in text:
        name, _, loc = text[:-1].rpartition(" (")
        # Drop `:line` and `:line:col` from the location: lines are merged into functions.
        parts = loc.split(":")
        while len(parts) > 1 and parts[-1].isdigit():
            parts.pop()
        return name, ":".join(parts)
    return text, ""


def from_stacks(stacks):
    self_w = defaultdict(float)
    total = 0.0
    for key, w in stacks.w.items():
        leaf = key.split(";")[-1]
        self_w[frame_function(leaf)] += w
        total += w
    return [(n, w) for (n, _), w in self_w.items()], total, total + getattr(stacks, "frameless", 0.0)


def from_pstats(path):
    if gf.is_sampled_pstats(path):
        d = gf.sampled_pstats(path)
        return [(f["name"], f["tt"]) for f in d["functions"]], d["total_tt"]
    st = pstats.Stats(path).stats
    return [(k[2], v[2]) for k, v in st.items()], sum(v[2] for v in st.values())


def from_callgrind(path):
    rows = gf.callgrind_self(path)
    return [(r["name"], r["self"]) for r in rows], sum(r["self"] for r in rows)


def top(pairs, total, with_frameless=None):
    """`share`: of the samples with frames; `share_all`: of every sample, frameless ones too
    (perftop leaves py-spy's frameless lines out of a folded file's total, with a warning, and
    keeps other formats' frameless samples in)."""
    best = max(w for _, w in pairs)
    # Functions within a relative 1e-9 of the best are ties: any of them is right.
    names = sorted({n for n, w in pairs if w >= best - abs(best) * 1e-9})
    everything = total if with_frameless is None else with_frameless
    return {"names": names, "share": best / total if total else 0.0,
            "share_all": best / everything if everything else 0.0}


def reference(fmt, path):
    if fmt == "pstats":
        return top(*from_pstats(path))
    if fmt == "callgrind":
        return top(*from_callgrind(path))
    if fmt in gf.PARSERS:
        return top(*from_stacks(gf.PARSERS[fmt](path)))
    return None


def main():
    out = {}
    for name in sorted(os.listdir(SAMPLES)):
        fmt = sample_format(name)
        if fmt:
            out["SampleProfiles/" + name] = dict(format=fmt, **reference(fmt, os.path.join(SAMPLES, name)))
    for fmt, path in gf.cases():
        ref = reference(fmt, path)
        if ref is None:
            print("no reference for %s" % path, file=sys.stderr)
            continue
        out[os.path.relpath(path, ROOT)] = dict(format=fmt, **ref)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    print("wrote %s (%d profiles)" % (os.path.relpath(OUT, ROOT), len(out)))


if __name__ == "__main__":
    main()
