#!/usr/bin/env python3
"""Tiny deterministic ETL workload used to produce the sample profiles.

Pipeline: generate -> parse -> transform -> flatten -> dedupe -> summarize.
The deliberate hot spot is ``dedupe``: it tests membership against a *list*
(``if key in seen``), which is O(n) per lookup and dominates the run time.
"""
import json
import random
import re

N_RECORDS = 12000
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


def dedupe(records):
    seen = set()  # the fix: a set, so `in` is a hash lookup
    unique = []
    for r in records:
        key = (r["user"], r["domain"])
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
    unique = dedupe(rows)
    summary = summarize(unique)
    print("records=%d unique=%d" % (len(rows), len(unique)))
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
