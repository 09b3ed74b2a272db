#!/usr/bin/env bash
# A whole command against its reference, in turns (A B A B ..., N pairs, the order flipping every
# pair), under GNU time. Prints one table row: label, A's median and peak RSS, B's median, and the
# median of the N per-pair ratios A/B (a slow phase of the machine slows both halves of a pair).
# Usage: Scripts/bench-pairs.sh N LABEL "COMMAND A" "COMMAND B"
#   e.g. Scripts/bench-pairs.sh 5 "pstats 100k" ".build/release/perftop report big.pstats --limit 20" \
#            "python3 Scripts/pstats_reference.py --print-stats 20 big.pstats"
set -euo pipefail
n=$1 label=$2 a=$3 b=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
run() {  # run CMD OUTFILE: appends "seconds peak-KB"
    # shellcheck disable=SC2086  # the command is split into words on purpose
    /usr/bin/time -f "%e %M" -o "$tmp/t" $1 > /dev/null 2>&1 || { echo "failed: $1" >&2; exit 1; }
    cat "$tmp/t" >> "$2"
}
for r in $(seq "$n"); do
    if [ $((r % 2)) -eq 1 ]; then run "$a" "$tmp/a"; run "$b" "$tmp/b"; else run "$b" "$tmp/b"; run "$a" "$tmp/a"; fi
done
paste "$tmp/a" "$tmp/b" | awk -v label="$label" '
    { ta[NR] = $1; tb[NR] = $3; r[NR] = ($3 > 0 ? $1 / $3 : 0); if ($2 > m) m = $2 }
    function median(x, n,   i, j, t) {
        for (i = 2; i <= n; i++) { t = x[i]; for (j = i - 1; j >= 1 && x[j] > t; j--) x[j + 1] = x[j]; x[j + 1] = t }
        return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
    }
    END { printf "| %s | %.3f s, peak %.0f MB | %.3f s | %.3fx | %d pairs |\n", label, median(ta, NR), m * 1024 / 1e6, median(tb, NR), median(r, NR), NR }'
