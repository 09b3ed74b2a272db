#!/usr/bin/env python3
"""ETL workload for the repeated-runs diff samples (SampleProfiles/runs).

generate -> parse -> transform -> flatten -> drop_blocked -> dedupe -> summarize.
``drop_blocked`` tests each record's user against a blocklist kept as a *set*
(a hash lookup per record): the fix of the list scan in ``../before/etl.py``.
``dedupe`` is the same in both copies, so its absolute cost must not change.
"""
import json
import random
import re

N_RECORDS = 12000
N_BLOCKED = 4000
SEED = 1234

EMAIL_RE = re.compile(r"^([a-z0-9._]+)@([a-z0-9.-]+)\.([a-z]{2,})$")
WS_RE = re.compile(r"\s+")


def generate(n, seed=SEED):
    rng = random.Random(seed)
    cities = ["Oslo", "Lima", "Pune", "Kyiv", "Graz", "Nara", "Cork", "Bonn"]
    for i in range(n):
        user = "user%d" % rng.randrange(n // 2)
        yield json.dumps({
            "id": i,
            "email": "%s@example%d.com" % (user, rng.randrange(5)),
            "name": "  %s   %s " % (user.title(), rng.choice(cities)),
            "meta": {"geo": {"city": rng.choice(cities), "zone": rng.randrange(24)},
                     "tags": {"a": rng.random() < 0.5, "b": rng.randrange(3)}},
        })


def parse(lines):
    return [json.loads(line) for line in lines]


def transform(record):
    m = EMAIL_RE.match(record["email"])
    user, domain, tld = m.groups() if m else ("", "", "")
    name = WS_RE.sub(" ", record["name"]).strip()
    return {"id": record["id"], "user": user, "domain": domain + "." + tld,
            "name": name, "meta": record["meta"]}


def flatten(obj, prefix=""):
    """Recursively flatten nested dicts into dotted keys."""
    out = {}
    for k, v in obj.items():
        key = prefix + "." + k if prefix else k
        if isinstance(v, dict):
            out.update(flatten(v, key))
        else:
            out[key] = v
    return out


def load_blocklist(n=N_BLOCKED, seed=SEED + 1):
    rng = random.Random(seed)
    return ["user%d" % rng.randrange(N_RECORDS) for _ in range(n)]


def drop_blocked(records, blocklist):
    blocked = set(blocklist)  # the fix: `in` on a set is a hash lookup
    kept = []
    for r in records:
        if r["user"] not in blocked:
            kept.append(r)
    return kept


def dedupe(records):
    """Unchanged by the fix: quadratic-free but not free (sorting + hashing)."""
    seen = set()
    unique = []
    for r in sorted(records, key=lambda r: (r["domain"], r["user"], r["id"])):
        key = json.dumps([r["user"], r["domain"], r["meta.geo.zone"] % 3], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        unique.append(r)
    return unique


def summarize(records):
    by_city = {}
    for r in records:
        city = r["meta.geo.city"]
        by_city[city] = by_city.get(city, 0) + 1
    return dict(sorted(by_city.items()))


def main():
    rows = parse(generate(N_RECORDS))
    rows = [transform(r) for r in rows]
    rows = [flatten(r) for r in rows]
    rows = drop_blocked(rows, load_blocklist())
    unique = dedupe(rows)
    summary = summarize(unique)
    print("records=%d kept=%d unique=%d" % (N_RECORDS, len(rows), len(unique)))
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
