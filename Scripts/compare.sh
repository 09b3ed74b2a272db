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
for _ in $(seq "$n"); do
    i=0
    for b in "$@"; do "$b" --one "$kind" "$file" | awk '{print $1}' >> "$tmp/$i"; i=$((i + 1)); done
done
i=0
for b in "$@"; do
    sort -n "$tmp/$i" | awk -v b="$b" '{a[NR]=$1} END {printf "%s: median %.3f s, fastest %.3f s (%d runs)\n", b, a[int((NR+1)/2)], a[1], NR}'
    i=$((i + 1))
done
