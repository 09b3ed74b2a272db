#!/usr/bin/env python3
"""Mutation fuzzing per reader family, meant for an AddressSanitizer build of perftop.

Families (seeds from ../shared/corpus by EXPECTED.json's format, plus SampleProfiles):
  json    speedscope, Chrome cpuprofile, trace events, gecko, pyinstrument
  text    folded, austin text, perf script, callgrind
  binary  pprof, MOJO, pstats (marshal)
  py315   Tachyon binary/JSONL/collapsed/pstats, importtime, memray csv/gprof2dot, Scalene; the
          Tachyon captures also get structure-aware damage (fuzz_tachyon.py: huge varints,
          REPEAT counts past the data, zstd garbage, 256-deep and deeper stacks)
Each case mutates one seed (a cut, byte flips, runs of 0x00/0x7f/0x80/0xff, a span deleted or
repeated, a digit made a 20-digit number) and then, for some cases, damages it *after
inflation*: the mutant is gzip'd and the gzip member is cut or flipped inside (a gzip'd
seed is inflated first, mutated, and recompressed). That is the combination that found the
JSONInput double free, which plain byte mutation of the compressed file rarely reaches.

Every run must exit 0, or 2 with one `perftop: ...` line on stderr: never a signal, an
AddressSanitizer report, a hang (30 s) or another status. Runs use --max-memory 1G, and ASan
refuses any single allocation over 3 GB (max_allocation_size_mb; an address-space rlimit
cannot be used, ASan reserves terabytes of shadow), so a reader that allocates what a file
claims fails loudly.

Usage: Scripts/fuzz_readers.py PERFTOP CORPUS_DIR FAMILY [SEED] [CASES]
  e.g. Scripts/fuzz_readers.py .build-asan/debug/perftop ../shared/corpus json 1 2000
Failing inputs are kept as /tmp/perftop-fuzz-FAMILY/bad* and hang*; copy real crashers to
Tests/Regression (HostileInputTests loads every file there).
"""
import glob, gzip, json, os, random, subprocess, sys, time, zlib
import fuzz_tachyon

from fuzz_mutations import damage_gzip, is_bad, mutate

perftop, corpus, family = sys.argv[1], sys.argv[2], sys.argv[3]
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
cases = int(sys.argv[5]) if len(sys.argv) > 5 else 300
random.seed(seed)
here = os.path.dirname(os.path.abspath(__file__))

FAMILIES = {
    'json': ('speedscope', 'trace-event', 'chrome-cpuprofile', 'gecko', 'pyinstrument'),
    'text': ('folded', 'collapsed', 'austin-text', 'perf-script', 'callgrind'),
    'binary': ('pprof(', 'austin-mojo', 'pstats'),
    'py315': ('tachyon', 'importtime', 'memray', 'scalene', 'collapsed (tachyon)', 'pstats (tachyon'),
}
SAMPLES = {
    'json': ('.json',), 'text': ('.pyspy.txt', '.austin', '.txt.gz'), 'binary': ('.mojo', '.prof'),
    'py315': (),
}
prefixes = FAMILIES[family]
expected = json.load(open(os.path.join(corpus, 'EXPECTED.json')))
files = [os.path.join(corpus, e['path']) for e in expected
         if e['format'].startswith(prefixes) and os.path.isfile(os.path.join(corpus, e['path']))
         and os.path.getsize(os.path.join(corpus, e['path'])) < 3_000_000]
files += [f for f in glob.glob(os.path.join(here, '..', 'SampleProfiles', '*'))
          if os.path.isfile(f) and f.endswith(SAMPLES[family])]
if not files:
    sys.exit(f'no seeds for {family}')
out = f'/tmp/perftop-fuzz-{family}'
os.makedirs(out, exist_ok=True)
env = dict(os.environ, ASAN_OPTIONS='detect_leaks=0:exitcode=86:max_allocation_size_mb=3072:allocator_may_return_null=0')


def make_case(src):
    data = open(src, 'rb').read()
    if data[:2] == b'\x1f\x8b':
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            pass
    r = random.random()
    if family == 'py315' and fuzz_tachyon.is_tachyon(data) and r < 0.5:
        return fuzz_tachyon.mutate(data)
    if r < 0.4:
        return damage_gzip(mutate(data)), 'gz-damaged'
    if r < 0.55:
        return damage_gzip(data), 'gz-cut'
    return mutate(data), 'plain'


bad = 0
kinds = {}
start = time.time()
for it in range(cases):
    src = random.choice(files)
    case, kind = make_case(src)
    kinds[kind] = kinds.get(kind, 0) + 1
    path = f'{out}/case{seed}'
    with open(path, 'wb') as f:
        f.write(case)
    args = [perftop, 'report', path, '--max-memory', '1G'] + random.choice([[], ['--json'], ['--tree']])
    try:
        r = subprocess.run(args, capture_output=True, timeout=30, env=env)
        err = r.stderr.decode(errors='replace')
        if is_bad(r.returncode, err):
            bad += 1
            keep = f'{out}/bad{seed}_{it}'
            os.rename(path, keep)
            print('BAD', r.returncode, kind, src, keep, err[:300].replace('\n', ' | '), flush=True)
    except subprocess.TimeoutExpired:
        bad += 1
        keep = f'{out}/hang{seed}_{it}'
        os.rename(path, keep)
        print('HANG', kind, src, keep, flush=True)
print(f'{family}: {cases} cases ({", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))}) '
      f'from {len(files)} seeds, {bad} bad, {int(time.time() - start)} s')
sys.exit(1 if bad else 0)
