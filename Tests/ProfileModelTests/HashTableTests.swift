import XCTest
@testable import ProfileModel

/// The reader's hash tables decide identity by exact keys; the hash only places them. These
/// force collisions (equal hashes for different keys) and growth, which real inputs rarely hit.
final class HashTableTests: XCTestCase {
    func testFrameTextMapTellsApartTextsWithOneHash() {
        let map = FrameTextMap()
        func bytes(_ s: String, _ body: (UnsafeRawPointer, Int) -> Void) {
            var s = s
            s.withUTF8 { body(UnsafeRawPointer($0.baseAddress!), $0.count) }
        }
        // Lengths around the word size and a few words long, empty text too.
        let texts = ["f (a.py:10)", "f (a.py:11)", "a fairly long frame name that spans several words (x.py:1)", "g", "gg",
                     String(repeating: "x", count: 48), String(repeating: "x", count: 49), String(repeating: "x", count: 47) + "y",
                     String(repeating: "x", count: 48) + "y", "", "1234567", "12345678"]
        for (i, t) in texts.enumerated() {
            bytes(t) { p, n in
                XCTAssertEqual(map.find(p, n, 42), -1, t)
                map.insert(p, n, 42, frame: Int32(100 + i))
            }
        }
        for (i, t) in texts.enumerated() {
            bytes(t) { p, n in XCTAssertEqual(map.find(p, n, 42), Int32(100 + i), t) }
        }
        // The first slot with the hash is a candidate only: `confirms` rejects other text.
        let v = map.candidate(42)
        XCTAssertEqual(Int32(truncatingIfNeeded: v), 100)
        bytes(texts[0]) { p, n in XCTAssertTrue(map.confirms(v, p, n)) }
        bytes(texts[1]) { p, n in XCTAssertFalse(map.confirms(v, p, n)) }
        bytes("f (a.py:1") { p, n in XCTAssertFalse(map.confirms(v, p, n)) }
        XCTAssertEqual(map.candidate(43), 0)
        // Growth keeps every entry.
        for i in 0..<20_000 {
            bytes("frame\(i)") { p, n in map.insert(p, n, UInt64(i) &* 0x9E37_79B9_7F4A_7C15, frame: Int32(i)) }
        }
        for i in stride(from: 0, to: 20_000, by: 997) {
            bytes("frame\(i)") { p, n in XCTAssertEqual(map.find(p, n, UInt64(i) &* 0x9E37_79B9_7F4A_7C15), Int32(i)) }
        }
        for (i, t) in texts.enumerated() {
            bytes(t) { p, n in XCTAssertEqual(map.find(p, n, 42), Int32(100 + i), t) }
        }
    }

    func testChildIndexKeysAreExactUnderOnePathHash() {
        let index = ChildIndex(capacity: 4)
        // The index keeps no key: its caller confirms a candidate by the child's own key.
        var key: [(Int32, Int32)] = [(-1, -1)]
        func child(_ parent: Int32, _ frame: Int32) -> (Int32) -> Bool { { key[Int($0)] == (parent, frame) } }
        // Every (parent, frame) pair under the same path hash: each must get its own child.
        for parent in Int32(0)..<40 {
            for frame in Int32(0)..<40 {
                let made = index.getOrInsert(hash: 7, isChild: child(parent, frame)) {
                    key.append((parent, frame)); return Int32(key.count - 1)
                }
                XCTAssertEqual(made, Int32(key.count - 1))
            }
        }
        XCTAssertEqual(index.count, 1600)
        XCTAssertEqual(index.get(hash: 7, isChild: child(3, 5)), 3 * 40 + 5 + 1)
        XCTAssertEqual(index.get(hash: 7, isChild: child(3, 40)), -1)
        XCTAssertEqual(index.getOrInsert(hash: 7, isChild: child(39, 39)) { XCTFail("exists"); return -1 }, 1600)
    }

    /// The builder confirms a child by its parent alone: under one parent's path hash, no two
    /// frames may hash alike.
    func testPathHashIsOneToOneInTheFrame() {
        for parent in [ChildIndex.rootHash, 0, 1, 0xFFFF_FFFF, 0x1234_5678] {
            var seen = Set<UInt32>()
            for frame in Int32(-1)..<200_000 { XCTAssertTrue(seen.insert(ChildIndex.pathHash(parent, frame)).inserted) }
        }
    }

    /// Grown through tables of several huge pages, whose old slots are handed back as they
    /// are moved: every key must still find its child, including runs of equal hashes that
    /// probe across a huge-page boundary and hashes at the table's end that wrap to its start.
    func testChildIndexKeepsEveryKeyWhileGrowingThroughHugePages() {
        let index = ChildIndex(capacity: 4)
        var keys: [(Int32, Int32, UInt32)] = [(-1, -1, 0)]
        var rng = UInt64(12345)
        for i in 0..<600_000 {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            // Runs of equal hashes at the table's last slots and at the end of its first huge
            // page (262144 slots of 8 bytes); the rest spread.
            let hash = i % 1000 == 0 ? 0xFFFF_FFFF - UInt32(i % 7) : i % 1000 == 1 ? 262_142 - UInt32(i % 5)
                : UInt32(truncatingIfNeeded: rng >> 32)
            keys.append((Int32(i % 5000), Int32(i / 5000), hash))
        }
        func child(_ p: Int32, _ f: Int32) -> (Int32) -> Bool { { keys[Int($0)].0 == p && keys[Int($0)].1 == f } }
        for n in 1..<keys.count {
            let (p, f, h) = keys[n]
            XCTAssertEqual(index.getOrInsert(hash: h, isChild: child(p, f)) { Int32(n) }, Int32(n))
        }
        XCTAssertEqual(index.count, keys.count - 1)
        var wrong = 0
        for n in 1..<keys.count {
            let (p, f, h) = keys[n]
            if index.get(hash: h, isChild: child(p, f)) != Int32(n) { wrong += 1 }
        }
        XCTAssertEqual(wrong, 0)
        XCTAssertEqual(index.get(hash: 1, isChild: child(4999, 999)), -1)
    }

    /// Frame text equality against a byte-by-byte compare, for every length up to past the
    /// branch-free range and a difference at every position (bytes before and after the
    /// compared range differ too: nothing outside `0..<n` may count).
    func testFrameTextEqualityIsExactAtEveryLengthAndPosition() {
        for n in 0...80 {
            let text = (0..<n).map { UInt8(truncatingIfNeeded: 0x41 + ($0 * 13) % 50) }
            var record = [UInt64](repeating: 0, count: max(1, (n + 7) / 8))       // zero-padded, as stored
            record.withUnsafeMutableBytes { $0.copyBytes(from: text) }
            record.withUnsafeBytes { r in
                let a = r.baseAddress!
                // The input text sits between other bytes, as a frame does inside a line.
                for d in -1...n {
                    var line = [UInt8](repeating: 0x3B, count: 8) + text + [UInt8](repeating: 0x7E, count: 8)
                    if d >= 0 && d < n { line[8 + d] ^= 0x20 }
                    let same = d < 0 || d >= n
                    line.withUnsafeBytes { b in
                        XCTAssertEqual(FrameTextMap.equal(a, b.baseAddress! + 8, n), same, "length \(n), difference at \(d)")
                    }
                }
            }
        }
    }

    /// The one-pass frame split against a byte-by-byte `;` search, for every position of the
    /// separator and every start, including bytes that differ from `;` by one bit; and its hash
    /// against the hash of the same text copied out alone (a frame's hash must not depend on
    /// what follows it or where it starts).
    func testFrameSplitMatchesByteScanAndHashesTextAlone() {
        for len in 0..<40 {
            for at in 0...len {
                var bytes = (0..<len).map { UInt8([0x3A, 0x3F, 0x7B, 0xBB, 0x61, 0x20][($0 * 7 + at) % 6]) }
                if at < len { bytes[at] = 0x3B }
                if at + 3 < len { bytes[at + 3] = 0x3B }
                bytes.withUnsafeBytes { b in
                    let p = b.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!
                    for from in 0...len {
                        let expected = (from..<len).first { bytes[$0] == 0x3B } ?? len
                        let (end, hash) = StackPath.frame(p, from: from, to: len)
                        XCTAssertEqual(end, expected, "len \(len) at \(at) from \(from)")
                        let alone = Array(bytes[from..<expected])
                        XCTAssertEqual(hash, alone.withUnsafeBytes { StackPath.textHash($0.baseAddress ?? p, $0.count) },
                                       "len \(len) at \(at) from \(from)")
                    }
                }
            }
        }
        // Different texts, different hashes (lengths and zero bytes included).
        let texts: [[UInt8]] = [[], [0], [0, 0], [0x61], [0x61, 0], Array("abcdefgh".utf8), Array("abcdefgh\0".utf8)]
        let hashes = Set(texts.map { t in t.withUnsafeBytes { StackPath.textHash($0.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, t.count) } })
        XCTAssertEqual(hashes.count, texts.count)
    }

    /// Big arrays come padded to whole 2 MiB mappings: the contents must be exactly what the
    /// plain initialisers give, below, at and above the size that switches to huge pages.
    func testBigArraysHoldWhatPlainOnesHold() {
        for count in [0, 1, 1000, (2 << 20) / 4 - 1, (2 << 20) / 4, (2 << 20) / 4 + 1, 1_234_567] {
            let a = [Int32].big(repeating: -7, count: count)
            XCTAssertEqual(a.count, count)
            XCTAssertTrue(a.allSatisfy { $0 == -7 }, "\(count)")
            let source = (0..<count).map { UInt64($0) &* 0x9E37_79B9 }
            XCTAssertEqual([UInt64].big(copying: source), source, "\(count)")
            var grown: [Int32] = [1, 2, 3]
            grown.reserveBig(count)
            XCTAssertGreaterThanOrEqual(grown.capacity, count)
            XCTAssertEqual(grown, [1, 2, 3])
            // The padded capacity keeps malloc's request within the mapping it asks for.
            let c = HugePages.capacity(count, stride: 4)
            XCTAssertGreaterThanOrEqual(c, count)
            if count * 4 >= HugePages.from {
                XCTAssertEqual((c * 4 + HugePages.overhead) % HugePages.size, 0, "\(count)")
            }
        }
    }

    /// Lent memory: takes within what was kept come from the lent mapping, and takes beyond it
    /// still get memory of their own; all of it readable and writable until the lender goes.
    func testSpareMemoryLendsWhatItKeptThenAllocates() {
        let size = 8 << 20
        let mapping = ZeroedMemory.allocate(bytes: size)
        let spare = SpareMemory(mapping: mapping, size: size, keep: 3 << 20)
        let a = spare.take(100_000, of: Int32.self)         // in the kept part
        let b = spare.take(1 << 20, of: Int64.self)         // 8 MiB: beyond it
        let c = spare.take(10, of: UInt8.self)
        XCTAssertEqual(UnsafeMutableRawPointer(a), mapping)
        XCTAssertFalse((mapping..<(mapping + size)).contains(UnsafeMutableRawPointer(b)))
        for i in 0..<100_000 { a[i] = Int32(i) }
        for i in 0..<(1 << 20) { b[i] = Int64(i) * 3 }
        for i in 0..<10 { c[i] = UInt8(i) }
        XCTAssertEqual(a[99_999], 99_999)
        XCTAssertEqual(b[(1 << 20) - 1], Int64((1 << 20) - 1) * 3)
        XCTAssertEqual(c[9], 9)
        // Nothing lent: every take allocates.
        let none = SpareMemory()
        let d = none.take(5, of: Double.self)
        d[4] = 2.5
        XCTAssertEqual(d[4], 2.5)
    }

    /// Reserving room rehashes what is there already; keys then stay found, new ones added.
    func testReservedTablesKeepTheirKeys() {
        var map = WideKeyMap(capacity: 4)
        var interner = ByteInterner(capacity: 4)
        for i in 0..<100 {
            map[UInt64(i), UInt64(i) * 7] = Int32(i)
            _ = interner.intern("s\(i)")
        }
        map.reserve(50_000)
        interner.reserve(strings: 50_000, bytes: 1 << 20)
        for i in 100..<60_000 {
            map[UInt64(i), UInt64(i) * 7] = Int32(i)
            _ = interner.intern("s\(i)")
        }
        for i in stride(from: 0, to: 60_000, by: 7) {
            XCTAssertEqual(map[UInt64(i), UInt64(i) * 7], Int32(i))
            XCTAssertNil(map[UInt64(i), UInt64(i) * 7 + 1])
            XCTAssertEqual(interner.intern("s\(i)"), Int32(i))
        }
        XCTAssertEqual(interner.count, 60_000)
        XCTAssertEqual(interner.string(59_999), "s59999")
        var frames = FrameTable()
        let f = frames.frame(name: "f", file: "a.py", line: 3, lineIsDefinition: true)
        frames.reserve(frames: 10_000, stringBytes: 1 << 16)
        XCTAssertEqual(frames.frame(name: "f", file: "a.py", line: 3, lineIsDefinition: true), f)
        XCTAssertEqual(frames.frameCount, 1)
    }

    /// Edge grouping (CSR) against grouping by hand, keys out of range left out.
    func testFunctionTableGroupsEdgesByKey() {
        var rng = SystemRandomNumberGenerator()
        for (count, edges) in [(0, 0), (1, 5), (7, 0), (50, 1000), (3, 40)] {
            let keys = (0..<edges).map { _ in Int32.random(in: -2...Int32(count + 1), using: &rng) }
            let (start, list) = FunctionTable.group(keys, count: count)
            XCTAssertEqual(start.count, count + 1)
            for k in 0..<count {
                let expected = keys.indices.filter { keys[$0] == Int32(k) }.map(Int32.init)
                XCTAssertEqual(Array(list[Int(start[k])..<Int(start[k + 1])]), expected, "key \(k) of \(count)")
            }
            XCTAssertEqual(list.count, keys.filter { $0 >= 0 && Int($0) < count }.count)
        }
    }

    /// `readAll` takes a regular file's size as a hint only: a source that holds more or less
    /// than it says still reads whole, and the limit still holds.
    func testReadAllTrustsTheSizeHintOnlyForRoom() throws {
        final class Hinted: ByteSource {
            let inner: MemorySource, hint: Int
            init(_ bytes: [UInt8], hint: Int, chunk: Int) { inner = MemorySource(bytes, chunk: chunk); self.hint = hint }
            var sizeHint: Int? { hint }
            func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try inner.read(into: buffer) }
        }
        let data = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        for hint in [1, 1000, (3 << 20) - 1, 3 << 20, (3 << 20) + 1, 8 << 20] {
            for chunk in [1 << 20, 4093] {
                XCTAssertEqual(try Hinted(data, hint: hint, chunk: chunk).readAll(), data, "hint \(hint) chunk \(chunk)")
            }
        }
        for hint in [10, 3 << 20] {
            XCTAssertThrowsError(try Hinted(data, hint: hint, chunk: 65536).readAll(limit: (3 << 20) - 1)) {
                XCTAssertTrue(String(describing: $0).contains("larger than"), "\($0)")
            }
            XCTAssertEqual(try Hinted(data, hint: hint, chunk: 65536).readAll(limit: 3 << 20), data)
        }
    }
}
