import hashlib, json, time, zlib

def digest(blob):
    # native: hashlib and zlib release work to C
    for _ in range(40):
        hashlib.sha256(blob).hexdigest()
        zlib.compress(blob, 6)

def encode(rows):
    return json.dumps(rows)

def tally(n):
    s = 0
    for i in range(n):
        s += i % 7
    return s

def main():
    blob = bytes(range(256)) * 2000
    rows = [{"id": i, "name": "x" * (i % 13)} for i in range(3000)]
    t = time.time()
    while time.time() - t < 1.5:
        digest(blob)
        encode(rows)
        tally(60000)
        time.sleep(0.01)

main()
