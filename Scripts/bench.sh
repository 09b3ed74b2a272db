#!/usr/bin/env bash
# Reruns every figure in BENCHMARKS.md on this machine: generates the deterministic inputs
# (seeded) into $DIR, then times perftop next to a reference tool on the same file.
# Usage: Scripts/bench.sh [DIR] [PAIRS]   (default /tmp/perftop-bench, 5; needs ~1.8 GB of disk)
# The table rows come first: each perftop command against its reference in turns
# (Scripts/bench-pairs.sh: A B A B, the median of the per-pair ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-/tmp/perftop-bench}
PAIRS=${2:-5}
mkdir -p "$DIR"
swift build -c release >/dev/null
BIN=.build/release
gen() { [ -f "$DIR/$1" ] || python3 "Scripts/$2" "${@:3}" >/dev/null; }
gen big.folded gen_bench_inputs.py "$DIR"
gen big.speedscope.json gen_speedscope.py "$DIR/big.speedscope.json"
gen big.mojo gen_mojo.py "$DIR/big.mojo"
gen big.perf.txt gen_perf.py --mb 200 "$DIR/big.perf.txt"
gen big.pb gen_pprof.py --mb 80 "$DIR/big.pb"
gen mid.pb gen_pprof.py --mb 9.5 "$DIR/mid.pb"
# Deep, four-thread, recursive stacks (Scripts/gen_deep.py): folded at 105 MB, and the other
# formats converted from a 262 MB folded file of the same shape (another seed).
gen deep.folded gen_deep.py folded "$DIR/deep.folded" --mb 100
gen deep-src.folded gen_deep.py folded "$DIR/deep-src.folded" --mb 250 --seed 8
for f in sampled cpuprofile trace gecko pyinstrument evented; do
    gen "deep.$f.json" gen_deep.py convert "$f" "$DIR/deep-src.folded" "$DIR/deep.$f.json"
done
# A ~109 MB trace of the same shape, for the first-screen goal at ~100 MB (its 440 MB source goes).
if [ ! -f "$DIR/deep2.trace.json" ]; then
    python3 Scripts/gen_deep.py folded "$DIR/deep-src2.folded" --mb 440 --seed 9 >/dev/null
    python3 Scripts/gen_deep.py convert trace "$DIR/deep-src2.folded" "$DIR/deep2.trace.json" >/dev/null
    rm -f "$DIR/deep-src2.folded"
fi
[ -f "$DIR/deep.pb" ] || $BIN/perftop convert "$DIR/deep.folded" --threads split --lines --to pprof -o "$DIR/deep.pb"

# Median wall time of 3 runs and the largest peak RSS, via GNU time. Peaks are in MB of 10^6
# bytes, as file sizes are (GNU time counts KiB); with FILE= set, also as a multiple of its size.
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
    if [ -n "${FILE:-}" ]; then
        awk -v l="$label" -v t="$med" -v k="$rss" -v b="$(stat -c %s "$FILE")" \
            'BEGIN { printf "| %s | %s s | %.0f MB (%.2fx) |\n", l, t, k * 1024 / 1e6, k * 1024 / b }'
    else
        awk -v l="$label" -v t="$med" -v k="$rss" 'BEGIN { printf "| %s | %s s | %.0f MB |\n", l, t, k * 1024 / 1e6 }'
    fi
}

P="$BIN/perftop"
pair() { Scripts/bench-pairs.sh "$PAIRS" "$@"; }
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }
echo "## Whole commands against their references ($PAIRS pairs; perftop | reference | ratio)"
echo "| input | perftop | reference | ratio | pairs |"
echo "|---|---|---|---|---|"
pair "folded $(mb "$DIR/big.folded") MB shallow: report / wc -l" "$P report $DIR/big.folded --limit 5" "wc -l $DIR/big.folded"
pair "folded $(mb "$DIR/deep.folded") MB deep: report / wc -l" "$P report $DIR/deep.folded --limit 5" "wc -l $DIR/deep.folded"
pair "speedscope $(mb "$DIR/big.speedscope.json") MB py-spy: report / json.load" "$P report $DIR/big.speedscope.json --limit 5" "python3 Scripts/bench-ref.py json $DIR/big.speedscope.json"
pair "speedscope $(mb "$DIR/deep.sampled.json") MB deep: report / json.load" "$P report $DIR/deep.sampled.json --limit 5" "python3 Scripts/bench-ref.py json $DIR/deep.sampled.json"
pair "pstats 100k functions: report / print_stats(20)" "$P report $DIR/big.pstats --limit 20" "python3 Scripts/bench-ref.py pstats $DIR/big.pstats"
pair "pprof $(mb "$DIR/mid.pb") MB: report / go tool pprof -top" "$P report $DIR/mid.pb --limit 5" "go tool pprof -top $DIR/mid.pb"
pair "pprof $(mb "$DIR/big.pb") MB: view --batch / go tool pprof -top" "$P view $DIR/big.pb --batch" "go tool pprof -top $DIR/big.pb"
echo
echo "## Deep readers against the folded reader on the same stacks"
echo "(the JSON files are converted from deep-src.folded, deep.pb from deep.folded: the same samples;"
echo " per MB = ratio x folded MB / file MB, which makes compact formats look slow: gecko holds"
echo " the stacks of a 262 MB folded file in 13 MB)"
echo "| input | perftop report | folded report (same stacks) | ratio | pairs |"
echo "|---|---|---|---|---|"
for f in deep.sampled.json deep.evented.json deep.cpuprofile.json deep.trace.json deep.gecko.json deep.pyinstrument.json; do
    pair "$f $(mb "$DIR/$f") MB / deep-src.folded $(mb "$DIR/deep-src.folded") MB" "$P report $DIR/$f --limit 5" "$P report $DIR/deep-src.folded --limit 5"
done
pair "deep.pb $(mb "$DIR/deep.pb") MB / deep.folded $(mb "$DIR/deep.folded") MB" "$P report $DIR/deep.pb --limit 5" "$P report $DIR/deep.folded --limit 5"
echo
echo "## First screen (view --batch, 80x24): median of 3, peak RSS against the file size"
echo "| input | time | peak RSS (x file) |"
echo "|---|---:|---:|"
for f in big.folded deep.folded big.speedscope.json deep.sampled.json deep.evented.json deep.cpuprofile.json deep.trace.json \
         deep2.trace.json deep.gecko.json deep.pyinstrument.json big.pb big.mojo big.perf.txt; do
    FILE="$DIR/$f" measure "view --batch $f ($(mb "$DIR/$f") MB)" "$P" view "$DIR/$f" --batch
done
echo
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
# High cardinality: a million distinct stacks (2 new nodes and 2 new frames each), all kept,
# then under a 2-second window and under a 300 MB cap.
[ -f "$DIR/distinct.txt" ] || python3 -c 'for i in range(10**6): print(f"main (app.py:1);dispatch (app.py:10);handler_{i} (handlers.py:{i%900+1});leaf_{i} (leaf.py:{i%500+1}) 1")' > "$DIR/distinct.txt"
$BIN/perftop-bench --ingest "$DIR/distinct.txt" 1
$BIN/perftop-bench --ingest "$DIR/distinct.txt" 1 --window 2
$BIN/perftop-bench --ingest "$DIR/distinct.txt" 1 300M
echo
echo "## Viewer (headless, 80x24)"
$BIN/perftop-bench --viewer "$DIR/big.folded"
echo
echo "## Viewer transforms (first screen + key, less first screen; 5 pairs)"
python3 Scripts/bench_viewer_transforms.py "$P" "$DIR/big.folded" r C x d z ru
