#!/usr/bin/env python3
"""Mutated real profiles through `perftop report`: every run must exit 0, or 2 with one line
`perftop: ...` on stderr; never a signal, a hang (20 s) or another status. Mutations: a cut,
byte flips, runs of 0x00/0x7f/0x80/0xff inserted, a span deleted, a span repeated, a digit
turned into a 20-digit number. Address space is capped at 3 GB, so a file that makes the
reader allocate what it claims fails loudly.

Usage: Scripts/fuzz_reports.py PERFTOP CORPUS_DIR [SEED] [CASES]
  e.g. Scripts/fuzz_reports.py .build/release/perftop ../shared/corpus 2 8000
Failing inputs are kept as /tmp/perftop-fuzz/bad* and hang*.
"""
import glob, os, random, resource, subprocess, sys, time

from fuzz_mutations import is_bad, mutate

perftop, corpus = sys.argv[1], sys.argv[2]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
cases = int(sys.argv[4]) if len(sys.argv) > 4 else 300
random.seed(seed)
here = os.path.dirname(os.path.abspath(__file__))
files = [f for f in glob.glob(os.path.join(corpus, '**', '*'), recursive=True)
         if os.path.isfile(f) and os.path.getsize(f) < 3_000_000 and not f.endswith(('.md', 'EXPECTED.json'))]
files += [f for f in glob.glob(os.path.join(here, '..', 'SampleProfiles', '*'))
          if os.path.isfile(f) and not f.endswith(('.md', '.sh', '.py'))]
out = '/tmp/perftop-fuzz'
os.makedirs(out, exist_ok=True)


def limits():
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


bad = 0
start = time.time()
for it in range(cases):
    src = random.choice(files)
    path = f'{out}/case{seed}'
    with open(path, 'wb') as f:
        f.write(mutate(open(src, 'rb').read()))
    args = [perftop, 'report', path] + random.choice([[], ['--json'], ['--sort', 'self'], ['--tree']])
    try:
        r = subprocess.run(args, capture_output=True, timeout=20, preexec_fn=limits)
        err = r.stderr.decode(errors='replace')
        if is_bad(r.returncode, err):
            bad += 1
            keep = f'{out}/bad{seed}_{it}'
            os.rename(path, keep)
            print('BAD', r.returncode, src, keep, err[:300].replace('\n', ' | '), flush=True)
    except subprocess.TimeoutExpired:
        bad += 1
        keep = f'{out}/hang{seed}_{it}'
        os.rename(path, keep)
        print('HANG', src, keep, flush=True)
print(f'{cases} cases from {len(files)} files, {bad} bad, {int(time.time() - start)} s')
sys.exit(1 if bad else 0)
