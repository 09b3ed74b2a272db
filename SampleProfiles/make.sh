#!/usr/bin/env bash
# Regenerates the sample profiles in this directory from workload/*.py.
# Numbers differ from run to run (sampling, machine speed); the shape
# (dedupe as the hot spot, MainThread + worker in threads.*) does not.
#
# Needs: python3 on PATH, py-spy (pip install py-spy),
#        austin 3.7 (pip install 'austin-dist==3.7.*', optional).
# Sampling profilers need ptrace rights (run as root, or with CAP_SYS_PTRACE).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# `./make.sh runs`: the repeated before/after runs under load in runs/ (slow; not part of the default).
if [ "${1:-}" = runs ]; then exec ./runs/make_runs.sh; fi

MAX_BYTES=$((300 * 1024))
# Resolve the real interpreter behind python3 (e.g. a pyenv shim), so the
# sampling profilers see the Python process itself rather than a wrapper.
PY="$(python3 -c 'import sys; print(sys.executable)')"
echo "python: $PY ($("$PY" --version 2>&1))"

if ! command -v py-spy >/dev/null 2>&1; then
  "$PY" -m pip install --quiet py-spy
fi
if ! command -v austin >/dev/null 2>&1; then
  "$PY" -m pip install --quiet 'austin-dist==3.7.*' || true
fi

# austin (text and MOJO) and py-spy's speedscope record absolute source paths; cut this folder's
# prefix so the files read the same on every machine (workload/etl.py). A byte replace is safe
# for MOJO too: its strings are NUL-terminated, with no length field to fix up.
strip_prefix() {
  "$PY" -c 'import sys; p, pre = sys.argv[1], sys.argv[2].encode() + b"/"
b = open(p, "rb").read(); open(p, "wb").write(b.replace(pre, b""))' "$1" "$PWD"
}

check_size() {
  local f="$1" sz
  sz=$(wc -c <"$f")
  if [ "$sz" -ge "$MAX_BYTES" ]; then
    echo "error: $f is $sz bytes (limit $MAX_BYTES); lower the sampling rate" >&2
    exit 1
  fi
  echo "  $f: $sz bytes"
}

echo "cProfile -> etl.prof"
"$PY" -m cProfile -o etl.prof workload/etl.py >/dev/null
check_size etl.prof

echo "cProfile -> calls.prof"
"$PY" -m cProfile -o calls.prof workload/calls.py >/dev/null
check_size calls.prof

echo "threads sharing one cProfile.Profile -> threads-shared.prof (CPython 3.11)"
# The record shape depends on how the threads interleave: retry until the comprehension's only
# recorded caller is itself. Run with a relative file name, as -m cProfile records it.
for _ in 1 2 3 4 5 6 7 8 9 10; do
  "$PY" -c 'import sys; sys.argv = ["workload/shared_profiler.py", "threads-shared.prof"]; exec(compile(open(sys.argv[0]).read(), sys.argv[0], "exec"), {"__name__": "__main__"})'
  "$PY" -c 'import pstats, sys; st = pstats.Stats("threads-shared.prof").stats; sys.exit(0 if any(set(v[4]) == {k} for k, v in st.items()) else 1)' && break
done
check_size threads-shared.prof
"$PY" ../Scripts/pstats_reference.py --single -o ../Tests/Reference/threads-shared.prof.pstats.json threads-shared.prof

echo "py-spy raw -> etl.pyspy.txt (+ .gz)"
py-spy record -r 250 -f raw -o etl.pyspy.txt -- "$PY" workload/etl.py >/dev/null
check_size etl.pyspy.txt
gzip -n -9 -c etl.pyspy.txt >etl.pyspy.txt.gz
check_size etl.pyspy.txt.gz

echo "the same workload with the hot spot fixed (a set), for perftop diff"
# Run it as workload/etl.py from a scratch folder, so both runs record the same file name.
here="$PWD"; tmp="$(mktemp -d)"; mkdir "$tmp/workload"; cp workload/fixed/etl.py "$tmp/workload/etl.py"
( cd "$tmp" && "$PY" -m cProfile -o "$here/etl-fixed.prof" workload/etl.py >/dev/null )
( cd "$tmp" && py-spy record -r 250 -f raw -o "$here/etl-fixed.pyspy.txt" -- "$PY" workload/etl.py >/dev/null )
rm -rf "$tmp"
check_size etl-fixed.pyspy.txt

echo "I/O-bound and lock-bound workloads (py-spy --idle), for perftop report --summary"
py-spy record -r 100 --idle -f raw -o io_bound.pyspy.txt -- "$PY" workload/io_bound.py >/dev/null
py-spy record -r 100 --idle -f raw -o lock_bound.pyspy.txt -- "$PY" workload/lock_bound.py >/dev/null

echo "py-spy raw --threads -> threads.pyspy.txt"
py-spy record -r 250 -f raw --threads -o threads.pyspy.txt -- "$PY" workload/threads.py >/dev/null
check_size threads.pyspy.txt

echo "py-spy raw --threads, three threads running the same code -> pool.pyspy.txt"
py-spy record -r 250 -f raw --threads -o pool.pyspy.txt -- "$PY" workload/pool.py >/dev/null
check_size pool.pyspy.txt

echo "py-spy speedscope -> etl.speedscope.json"
py-spy record -r 250 -f speedscope -o etl.speedscope.json -- "$PY" workload/etl.py >/dev/null
strip_prefix etl.speedscope.json
check_size etl.speedscope.json

if command -v austin >/dev/null 2>&1; then
  # austin prints a banner and statistics on stderr; keep it out of the way
  # unless it fails. 2 ms keeps the text output under the size limit.
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  echo "austin text -> etl.austin"
  austin -i 2ms -o etl.austin "$PY" workload/etl.py >/dev/null 2>"$log" || { cat "$log" >&2; exit 1; }
  strip_prefix etl.austin
  check_size etl.austin
  echo "austin binary (MOJO) -> etl.mojo"
  austin -b -i 2ms -o etl.mojo "$PY" workload/etl.py >/dev/null 2>"$log" || { cat "$log" >&2; exit 1; }
  strip_prefix etl.mojo
  check_size etl.mojo
  echo "austin full mode (idle flag per sample) -> io_bound.austin"
  austin -f -i 5ms -o io_bound.austin "$PY" workload/io_bound.py >/dev/null 2>"$log" || { cat "$log" >&2; exit 1; }
  strip_prefix io_bound.austin
  check_size io_bound.austin
else
  echo "austin not available; skipping etl.austin / etl.mojo" >&2
fi

echo "the recursive workload (deep stacks, direct and mutual recursion, four threads) -> recursive.*"
# Run from workload/ with a relative script name, so the recordings name recursive.py and
# stages.py, not this checkout's absolute path. --idle keeps the naps (time.sleep) in.
"$PY" workload/gen_stages.py >workload/stages.py
# py-spy and austin run the script through exec, as `-m cProfile` does: a script run directly
# records its absolute path (Python 3.9+).
RUNREL='import sys; f = sys.argv[1]; sys.argv = sys.argv[1:]; exec(compile(open(f).read(), f, "exec"), {"__name__": "__main__"})'
(
  cd workload
  "$PY" -m cProfile -o ../recursive.prof recursive.py >/dev/null
  py-spy record -r 100 --idle -f raw -o ../recursive.pyspy.txt -- "$PY" -c "$RUNREL" recursive.py >/dev/null
  py-spy record -r 100 --idle -f speedscope -o ../recursive.speedscope.json -- "$PY" -c "$RUNREL" recursive.py >/dev/null
  if command -v austin >/dev/null 2>&1; then
    # austin writes every sample of every thread on its own line (~3 KB at this depth): gzip it.
    austin -i 10ms -o ../recursive.austin "$PY" -c "$RUNREL" recursive.py >/dev/null 2>/dev/null
    gzip -n -9 -f ../recursive.austin
  fi
)
for f in recursive.prof recursive.pyspy.txt recursive.speedscope.json recursive.austin.gz; do
  [ -f "$f" ] && check_size "$f"
done
if grep -q "$PWD" recursive.prof recursive.pyspy.txt recursive.speedscope.json || { [ -f recursive.austin.gz ] && zcat recursive.austin.gz | grep -q "$PWD"; }; then
  echo "error: a recursive.* recording embeds this checkout's path" >&2; exit 1
fi

# The first-screen test's reference: each profile's top self-time function, from the raw files.
"$PY" ../Scripts/top_self_reference.py

# Sanity check: dedupe must be the top self-time frame in the py-spy profile.
top=$(awk '{n=$NF; sub(/ [0-9]+$/, ""); k=split($0, a, ";"); f=a[k]; sub(/ \(.*$/, "", f); self[f]+=n}
           END {for (f in self) print self[f], f}' etl.pyspy.txt | sort -rn | head -1)
echo "top self-time frame in etl.pyspy.txt: $top"
case "$top" in
  *" dedupe") ;;
  *) echo "error: expected dedupe as top self-time frame" >&2; exit 1 ;;
esac
echo "done"
