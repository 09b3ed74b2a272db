#!/usr/bin/env bash
# Reruns every figure in BENCHMARKS.md on this machine: generates the deterministic inputs
# (seeded) into $DIR, then times perftop next to a reference tool on the same file.
# Usage: Scripts/bench.sh [DIR]   (default /tmp/perftop-bench; needs ~600 MB of disk)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-/tmp/perftop-bench}
mkdir -p "$DIR"
swift build -c release >/dev/null
BIN=.build/release
gen() { [ -f "$DIR/$1" ] || python3 "Scripts/$2" "${@:3}" >/dev/null; }
gen big.folded gen_bench_inputs.py "$DIR"
gen big.speedscope.json gen_speedscope.py "$DIR/big.speedscope.json"
gen big.mojo gen_mojo.py "$DIR/big.mojo"
gen big.perf.txt gen_perf.py --mb 200 "$DIR/big.perf.txt"
gen big.pb gen_pprof.py --mb 80 "$DIR/big.pb"

# Median wall time of 3 runs and the largest peak RSS, via GNU time.
measure() {
    local label=$1; shift
    local ts=() rss=0
    for _ in 1 2 3; do
        local out
        /usr/bin/time -f "%e %M" -o "$DIR/.time" "$@" >/dev/null 2>&1
        out=$(tail -1 "$DIR/.time")
        ts+=("${out% *}")
        local r=${out#* }
        [ "$r" -gt "$rss" ] && rss=$r
    done
    local med
    med=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 2p)
    printf '| %s | %s s | %s MB |\n' "$label" "$med" "$((rss / 1024))"
}

echo "## perftop-bench (in-process load + tree, 5 runs)"
$BIN/perftop-bench --dir "$DIR" --runs 5
echo
echo "## Whole command lines (median of 3, peak RSS)"
echo "| command | time | peak RSS |"
echo "|---|---:|---:|"
for f in big.folded big.speedscope.json big.mojo big.perf.txt big.pb; do
    measure "perftop report $f" $BIN/perftop report "$DIR/$f" --limit 5
done
measure "wc -l big.folded" wc -l "$DIR/big.folded"
measure "wc -l big.perf.txt" wc -l "$DIR/big.perf.txt"
measure "python3 json.load big.speedscope.json" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$DIR/big.speedscope.json"
echo
echo "## Live ingestion (austin lines through a pipe, snapshots at 10 Hz)"
$BIN/perftop-bench --ingest SampleProfiles/etl.austin 1000
$BIN/perftop-bench --ingest SampleProfiles/etl.austin 81200
echo
echo "## Viewer (headless, 80x24)"
$BIN/perftop-bench --viewer "$DIR/big.folded"
