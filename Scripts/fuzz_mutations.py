"""The mutations Scripts/fuzz_reports.py and Scripts/fuzz_readers.py apply to real profiles, and
the rule every run of perftop is judged by. Both scripts seed `random` and draw from it here,
so a (seed, cases) pair still replays the same inputs."""
import gzip
import random


def mutate(b):
    """One of: a cut, 1-8 byte flips, a run of 0x00/0x7f/0x80/0xff inserted, a span deleted, a
    span repeated, a digit turned into a 20-digit number."""
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


def damage_gzip(raw):
    """gzip `raw`, then cut or flip inside the member (past the 10-byte header)."""
    z = bytearray(gzip.compress(raw, 6, mtime=0))      # mtime 0: a seed replays the same bytes
    body = max(11, len(z) - 8)
    if random.random() < 0.6:
        return bytes(z[:random.randrange(10, body)])
    for _ in range(random.randint(1, 4)):
        z[random.randrange(10, body)] = random.randrange(256)
    return bytes(z)


def is_bad(returncode, stderr):
    """A run is bad unless it exits 0, or 2 with exactly one `perftop: ...` line on stderr; an
    AddressSanitizer report is bad whatever the status."""
    return returncode not in (0, 2) or 'AddressSanitizer' in stderr or \
        (returncode == 2 and (stderr.count('\n') != 1 or not stderr.startswith('perftop: ')))
