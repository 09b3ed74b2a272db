#!/usr/bin/env bash
# Repeated runs of the ETL workload before and after the blocklist fix, for
# `perftop diff before/* --vs after/*` and the diff tests. Called by
# `../make.sh runs` (not part of the default, quick `make.sh`).
#
# Each run N records the workload twice, once with py-spy (raw, 250 Hz) and once
# with cProfile, into {before,after}/runN.pyspy.txt and runN.prof. Some runs are
# made under load: a CPU hog (`python3 -c 'while 1: pass'`) runs beside them so
# that run-to-run machine noise is real. LOADED_* say which; README.md records it.
# Scripts run from src/{before,after} as `etl.py`, so both sides record the same
# relative file name and no absolute path of this checkout is embedded.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

PY="$(python3 -c 'import sys; print(sys.executable)')"
RUNS_BEFORE=${RUNS_BEFORE:-10}
RUNS_AFTER=${RUNS_AFTER:-4}
LOADED_BEFORE=" 3 4 7 10 "   # every null split of the test has loaded runs on both sides
LOADED_AFTER=" 2 3 "
MAX_BYTES=$((300 * 1024))

hog=""
stop_hog() { if [ -n "$hog" ]; then kill "$hog" 2>/dev/null || true; wait "$hog" 2>/dev/null || true; hog=""; fi; }
trap stop_hog EXIT

record() {  # side run loaded
  local side="$1" n="$2" loaded="$3" out="$PWD/$1"
  mkdir -p "$out"
  if [ "$loaded" = yes ]; then "$PY" -c 'while 1: pass' & hog=$!; sleep 0.5; fi
  ( cd "src/$side" &&
    py-spy record -r 250 -f raw -o "$out/run$n.pyspy.txt" -- "$PY" etl.py >/dev/null 2>&1 &&
    "$PY" -m cProfile -o "$out/run$n.prof" etl.py >/dev/null )
  stop_hog
  for f in "$out/run$n.pyspy.txt" "$out/run$n.prof"; do
    [ "$(wc -c <"$f")" -lt "$MAX_BYTES" ] || { echo "error: $f over $MAX_BYTES bytes" >&2; exit 1; }
  done
  echo "  $side/run$n (loaded: $loaded)"
}

echo "python: $PY ($("$PY" --version 2>&1)), py-spy $(py-spy --version | cut -d' ' -f2)"
# Interleave the sides so that slow drifts of the machine hit both alike.
max=$(( RUNS_BEFORE > RUNS_AFTER ? RUNS_BEFORE : RUNS_AFTER ))
for n in $(seq "${FIRST_RUN:-1}" "$max"); do
  if [ "$n" -le "$RUNS_BEFORE" ]; then
    case "$LOADED_BEFORE" in *" $n "*) l=yes ;; *) l=no ;; esac
    record before "$n" "$l"
  fi
  if [ "$n" -le "$RUNS_AFTER" ]; then
    case "$LOADED_AFTER" in *" $n "*) l=yes ;; *) l=no ;; esac
    record after "$n" "$l"
  fi
done
echo "done"
