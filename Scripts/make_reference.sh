#!/usr/bin/env bash
# Regenerates the independent pstats reference JSON under Tests/Reference/
# using only CPython's own `pstats` module (Scripts/pstats_reference.py).
#   Tests/Reference/etl.prof.pstats.json  <- SampleProfiles/etl.prof
#   Tests/Reference/corpus-pstats.json    <- every *.pstats / *.pstat under
#       ../shared/corpus/generated, keyed by corpus-relative path
# Files this python3 cannot load are kept with {"skipped": "reason"}.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CORPUS="${CORPUS:-$ROOT/../shared/corpus}"
OUT=Tests/Reference
mkdir -p "$OUT"

python3 Scripts/pstats_reference.py --single -o "$OUT/etl.prof.pstats.json" SampleProfiles/etl.prof
echo "wrote $OUT/etl.prof.pstats.json"

if [ -d "$CORPUS/generated" ]; then
  mapfile -t files < <(find "$CORPUS/generated" -type f \( -name '*.pstats' -o -name '*.pstat' \) | LC_ALL=C sort)
  if [ "${#files[@]}" -gt 0 ]; then
    python3 Scripts/pstats_reference.py --root "$CORPUS" -o "$OUT/corpus-pstats.json" "${files[@]}"
    echo "wrote $OUT/corpus-pstats.json (${#files[@]} files)"
  fi
else
  echo "no corpus at $CORPUS/generated; skipping corpus-pstats.json" >&2
fi
