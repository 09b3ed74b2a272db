#!/usr/bin/env bash
# Old against new for a whole command line (process start, load, transforms, output): runs
# `BIN ARGS` with each binary in turn, N rounds, the order flipping every round, under GNU time,
# and prints each binary's median and fastest wall time and its largest peak RSS (and, for two
# binaries, the median per-round ratio).
# Usage: Scripts/compare-commands.sh N "ARGS" BIN...
#   e.g. Scripts/compare-commands.sh 5 "view /tmp/perftop-bench/big.pb --batch" \
#            /tmp/old/.build/release/perftop .build/release/perftop
set -euo pipefail
n=$1 args=$2; shift 2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bins=("$@")
for r in $(seq "$n"); do
    order=$(seq 0 $(( ${#bins[@]} - 1 )))
    [ $((r % 2)) -eq 0 ] && order=$(echo "$order" | tac)
    for i in $order; do
        # shellcheck disable=SC2086  # ARGS is split into words on purpose
        /usr/bin/time -f "%e %M" -o "$tmp/t" "${bins[$i]}" $args > /dev/null
        cat "$tmp/t" >> "$tmp/$i"
    done
done
i=0
for b in "$@"; do
    sort -n "$tmp/$i" | awk -v b="$b" '{t[NR]=$1; if ($2 > m) m = $2}
        END {printf "%s: median %.2f s, fastest %.2f s, peak %.0f MB (%d runs)\n", b, t[int((NR+1)/2)], t[1], m * 1024 / 1e6, NR}'
    i=$((i + 1))
done
# Two binaries: the median of the per-round ratios (second / first), which a slow phase of the
# machine moves less than the ratio of the medians.
if [ $# -eq 2 ]; then
    paste "$tmp/0" "$tmp/1" | awk '{ r[NR] = ($1 > 0 ? $3 / $1 : 0) }
        END { for (i = 2; i <= NR; i++) { t = r[i]; for (j = i - 1; j >= 1 && r[j] > t; j--) r[j + 1] = r[j]; r[j + 1] = t }
              printf "second / first, median of %d per-round ratios: %.3fx\n", NR, NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2 }'
fi
