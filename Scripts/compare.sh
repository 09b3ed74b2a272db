#!/usr/bin/env bash
# Old against new on a noisy machine: runs `perftop-bench --one KIND FILE` with each binary in
# turn, N rounds, and prints each binary's median and fastest load time. Binaries alternate so
# that a slow phase of the machine hits all of them alike.
# Usage: Scripts/compare.sh N KIND FILE BIN...
#   e.g. (build the old one in a worktree: git worktree add /tmp/old REV &&
#         swift build -c release --package-path /tmp/old --product perftop-bench)
#   Scripts/compare.sh 11 collapsed /tmp/perftop-bench/big.folded /tmp/old/.build/release/perftop-bench .build/release/perftop-bench
set -euo pipefail
n=$1 kind=$2 file=$3; shift 3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The order flips every round, so that no binary always runs first. Medians over 15 rounds
# still differ by up to ~4% for one binary given twice (0.272 vs 0.261 s, 0.269 vs 0.257 s):
# smaller differences need more rounds.
bins=("$@")
for r in $(seq "$n"); do
    order=$(seq 0 $(( ${#bins[@]} - 1 )))
    [ $((r % 2)) -eq 0 ] && order=$(echo "$order" | tac)
    for i in $order; do "${bins[$i]}" --one "$kind" "$file" | awk '{print $1}' >> "$tmp/$i"; done
done
i=0
for b in "$@"; do
    sort -n "$tmp/$i" | awk -v b="$b" '{a[NR]=$1} END {printf "%s: median %.3f s, fastest %.3f s (%d runs)\n", b, a[int((NR+1)/2)], a[1], NR}'
    i=$((i + 1))
done
