"""Structure-aware damage for Tachyon binary captures (FORMATS.md §8.1), used by
fuzz_readers.py's `py315` family: mutations plain byte flips rarely reach.

  varint   a run in the sample data overwritten, in place, by the longest varint bytes
           (0xff... then 0x7f): counts, depths, deltas and frame indices near 2**64
  repeat   a REPEAT record's count rewritten, same length, to the largest it can hold,
           claiming more samples than the data and the header have
  zstd     garbage inside a compressed sample region (the frame magic kept)
  deep     a fresh capture whose one stack is 255, 256, 257 or 20000 frames deep
Offsets and sizes stay as the header says, so the damage reaches the record decoder.
"""
import random
import struct


def varint(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        if v:
            out.append(c | 0x80)
        else:
            out.append(c)
            return bytes(out)


def zigzag(v):
    return (v << 1) ^ (v >> 63)


def capture(depth, status=0x23):
    """One thread, one FULL record of `depth` frames of one function, little-endian."""
    data = struct.pack('<QIB', 7, 0, 1) + varint(10) + bytes([status]) + varint(depth) + varint(0) * depth
    strings = b''.join(varint(len(s)) + s for s in (b'a.py', b'f'))
    frames = varint(0) + varint(1) + varint(zigzag(3)) + varint(0) + varint(zigzag(-1)) + varint(0) + b'\xff'
    str_off = 64 + len(data)
    frame_off = str_off + len(strings)
    size = frame_off + len(frames) + 32
    header = struct.pack('<IIBBBBQQQIQQII', 0x54414348, 1, 3, 15, 0, 0, 1000, 1000, 1, 1, str_off, frame_off, 0, 0)
    footer = struct.pack('<IIQ', 2, 1, size) + bytes(16)
    return header + data + strings + frames + footer


def is_tachyon(b):
    return len(b) >= 64 and b[:4] == b'HCAT' and struct.unpack_from('<I', b, 4)[0] == 1


def mutate(b):
    b = bytearray(b)
    str_off = struct.unpack_from('<Q', b, 40)[0]
    compressed = struct.unpack_from('<I', b, 56)[0] == 1
    if not (64 < str_off <= len(b)):
        return bytes(b), 'tachyon-as-is'
    k = random.choice(['varint', 'repeat', 'zstd' if compressed else 'varint', 'deep'])
    if k == 'deep':
        return capture(random.choice([255, 256, 257, 20000])), 'tachyon-deep'
    if k == 'zstd':
        for _ in range(random.randint(1, 40)):
            b[random.randrange(68, str_off)] = random.randrange(256)
        return bytes(b), 'tachyon-zstd'
    if k == 'repeat' and not compressed:
        # REPEAT records of the first thread: its 12-byte id then encoding 0.
        pattern = bytes(b[64:76]) + b'\x00'
        hits = [i for i in range(64, str_off - 14) if b[i:i + 13] == pattern]
        if hits:
            i = random.choice(hits) + 13
            n = 1
            while b[i + n - 1] & 0x80 and i + n < str_off:
                n += 1
            b[i:i + n] = b'\xff' * (n - 1) + b'\x7f'
            return bytes(b), 'tachyon-repeat'
    i = random.randrange(64, str_off)
    n = min(random.randint(2, 11), str_off - i)
    b[i:i + n] = b'\xff' * (n - 1) + b'\x7f'
    return bytes(b), 'tachyon-varint'
