#!/usr/bin/env bash
# libFuzzer over perftop's readers, one reader family per run, with AddressSanitizer.
#   Scripts/fuzz_libfuzzer.sh FAMILY [SECONDS] [extra libFuzzer flags]
#   FAMILY: json | text | binary        e.g. Scripts/fuzz_libfuzzer.sh binary 600
# Seeds: SampleProfiles, Tests/Golden and Tests/Regression files of the family (and
# ../shared/corpus when present), each prefixed with the byte that picks its reader (see
# Fuzz/Sources/perftop-fuzz/main.swift). Findings land in /tmp/perftop-libfuzzer-FAMILY/;
# copy real crashers (without their first byte) to Tests/Regression.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
family="${1:?usage: $0 json|text|binary [SECONDS]}"; secs="${2:-300}"; shift $(( $# > 1 ? 2 : 1 ))
work="/tmp/perftop-libfuzzer-$family"; mkdir -p "$work/corpus" "$work/findings"

( cd Fuzz && swift build --scratch-path ../.build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address )
bin=".build-fuzz/debug/perftop-fuzz"

# The reader index of each format in its family, as main.swift lists them.
python3 - "$family" "$work/corpus" <<'PY'
import glob, os, sys
family, out = sys.argv[1], sys.argv[2]
formats = {
    'json': ['speedscope', 'trace-event', 'cpuprofile', 'gecko', 'pyinstrument', 'tachyon-jsonl'],
    'text': ['collapsed', 'austin', 'perf-script', 'callgrind', 'importtime', 'memray-csv', 'gprof2dot'],
    'binary': ['pprof', 'mojo', 'pstats', 'tachyon'],
}[family]
n = 0
for i, f in enumerate(formats):
    for path in sorted(glob.glob(f'Tests/Golden/{f}/*')):
        # The golden references beside the inputs are not inputs.
        if path.endswith(('.folded', '.md', '.pstats.json', '.callgrind-self.json')) or os.path.getsize(path) > 1 << 20:
            continue
        open(os.path.join(out, f'seed-{f}-{n}'), 'wb').write(bytes([i]) + open(path, 'rb').read())
        n += 1
print(f'{family}: {n} seeds')
PY

ASAN_OPTIONS="detect_leaks=0:max_allocation_size_mb=1024:allocator_may_return_null=0" \
PERFTOP_FUZZ_FAMILY="$family" "$bin" "$work/corpus" -artifact_prefix="$work/findings/" \
    -max_total_time="$secs" -timeout=20 -rss_limit_mb=3072 -max_len=262144 -print_final_stats=1 "$@"
