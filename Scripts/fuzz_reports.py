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


def mutate(b):
    b = bytearray(b)
    k = random.randrange(6)
    if k == 0 and len(b) > 1:
        return bytes(b[:random.randrange(1, len(b))])
    if k == 1:
        for _ in range(random.randint(1, 8)):
            if b:
                b[random.randrange(len(b))] = random.randrange(256)
        return bytes(b)
    if k == 2 and b:
        i = random.randrange(len(b))
        return bytes(b[:i] + bytes([random.choice([0xff, 0x7f, 0x00, 0x80])]) * random.randint(1, 9) + b[i:])
    if k == 3 and len(b) > 10:
        i = random.randrange(len(b))
        return bytes(b[:i] + b[min(len(b), i + random.randint(1, 200)):])
    if k == 4 and len(b) > 10:
        i = random.randrange(len(b))
        j = min(len(b), i + random.randint(1, 100))
        return bytes(b[:i] + b[i:j] * random.randint(2, 5) + b[j:])
    for _ in range(50):
        if not b:
            break
        i = random.randrange(len(b))
        if chr(b[i]).isdigit():
            return bytes(b[:i] + b'99999999999999999999' + b[i + 1:])
    return bytes(b)


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
        if r.returncode not in (0, 2) or (r.returncode == 2 and (err.count('\n') != 1 or not err.startswith('perftop: '))):
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
