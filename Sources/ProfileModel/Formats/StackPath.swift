#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CPrefetch

/// Turns `frame;frame;...` text (root first) into a tree node, for the line-based readers
/// (folded, austin). Frame text is hashed straight from the input, and the previous line's
/// nodes are reused for a shared prefix. A stack is resolved in three passes so that the
/// cache misses of its frames overlap instead of queueing: split and hash every frame
/// (prefetching its text-map slot), then look up frame ids and path hashes (prefetching each
/// child-index slot), then walk the tree.
struct StackPath {
    private let texts = FrameTextMap()
    private let line = LineFrames()

    /// The leaf node for the stack text `p[0..<n]`; `makeFrame` turns new frame text into a
    /// frame id (called once per distinct text).
    func leaf(_ p: UnsafeRawPointer, _ n: Int, builder: ProfileBuilder,
              makeFrame: (UnsafeRawPointer, Int) -> Int32) -> Int32 {
        let l = line, texts = self.texts
        var node: Int32 = 0
        var pos = 0
        var depth = 0
        // The previous line's nodes serve the frames both lines share.
        let m = min(l.prevLength, n)
        var shared = 0
        let prev = UnsafeRawPointer(l.prevStack)
        while shared + 8 <= m && prev.loadUnaligned(fromByteOffset: shared, as: UInt64.self) == p.loadUnaligned(fromByteOffset: shared, as: UInt64.self) { shared += 8 }
        while shared < m && prev.load(fromByteOffset: shared, as: UInt8.self) == p.load(fromByteOffset: shared, as: UInt8.self) { shared += 1 }
        if shared > 0 {
            // Deepest frame k of the previous line that ends at or before `shared` and also ends there in this line.
            var k = 0
            while k < l.depth && l.ends[k] <= shared {
                let e = l.ends[k]
                if e == n || (e < n && p.load(fromByteOffset: e, as: UInt8.self) == 0x3B) { k += 1 } else { break }
            }
            if k > 0 {
                node = l.nodes[k - 1]
                pos = l.ends[k - 1] + 1
                depth = k
            }
        }
        // 1. Split and hash the frames after the shared prefix.
        var count = depth
        while pos < n {
            let len = StackPath.semicolon(p, from: pos, to: n) - pos
            if len > 0 {
                let h = hashBytes(p + pos, len)
                texts.prefetch(h)
                l.reserve(count + 1)
                l.starts[count] = pos
                l.ends[count] = pos + len
                l.textHashes[count] = h
                count += 1
            }
            pos += len + 1
        }
        // 2. Frame ids as the text map's slots give them, path hashes, and prefetches of the
        //    child-index slots and of the text records that confirm the ids.
        let top = builder.pathHash(of: node)
        let index = builder.index
        var hash = top
        var sure = count
        for k in depth..<count {
            let v = texts.candidate(l.textHashes[k])
            if v == 0 { sure = k; break }
            let f = Int32(truncatingIfNeeded: v)
            hash = ChildIndex.pathHash(hash, f)
            index.prefetch(hash)
            l.frameIds[k] = f
            l.hashes[k] = hash
            l.records[k] = v
        }
        // Confirm them; from the first text not confirmed (new text, or a 64-bit hash collision)
        // on, resolve exactly.
        for k in depth..<count {
            if k < sure && texts.confirms(l.records[k], p + l.starts[k], l.ends[k] - l.starts[k]) { continue }
            hash = k == depth ? top : l.hashes[k - 1]
            for j in k..<count {
                let s0 = l.starts[j], len = l.ends[j] - s0
                var f = texts.find(p + s0, len, l.textHashes[j])
                if f < 0 {
                    f = makeFrame(p + s0, len)
                    texts.insert(p + s0, len, l.textHashes[j], frame: f)
                }
                hash = ChildIndex.pathHash(hash, f)
                index.prefetch(hash)
                l.frameIds[j] = f
                l.hashes[j] = hash
            }
            break
        }
        // 3. The walk.
        node = builder.walk(from: node, frames: l.frameIds + depth, hashes: l.hashes + depth, count: count - depth,
                            nodes: l.nodes + depth)
        l.depth = count
        l.remember(p, n)
        return node
    }
}
extension StackPath {
    /// The index of the first `;` in `p[from..<to]`, or `to`. Eight bytes at a time, inline:
    /// frames are ~30 bytes, and a `memchr` call per frame was 4% of a folded read.
    @inline(__always)
    static func semicolon(_ p: UnsafeRawPointer, from: Int, to n: Int) -> Int {
        var i = from
        while i + 8 <= n {
            let x = p.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ 0x3B3B_3B3B_3B3B_3B3B
            let zero = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
            if zero != 0 { return i + zero.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < n && p.load(fromByteOffset: i, as: UInt8.self) != 0x3B { i += 1 }
        return i
    }
}

/// Frame text → frame id for `StackPath`. A 16-byte slot per text holds the full hash, the
/// frame id and where the text's record (length, bytes) is: the id comes from the slot, so the
/// byte comparison that confirms it is off the critical path (the CPU runs ahead on the
/// predicted match while the record loads).
final class FrameTextMap {
    private var slots: UnsafeMutablePointer<UInt64>     // 2 words: hash, record word << 32 | frame; 0 = empty
    private var mask: Int
    private var words: UnsafeMutablePointer<UInt64>     // records: length, then bytes (zero-padded)
    private var used = 1, capacity = 1 << 12
    private(set) var count = 0

    init() {
        mask = (1 << 12) - 1
        slots = calloc(2 * (mask + 1), 8)!.assumingMemoryBound(to: UInt64.self)
        words = calloc(capacity, 8)!.assumingMemoryBound(to: UInt64.self)
    }

    deinit { free(slots); free(words) }

    @inline(__always)
    func prefetch(_ h: UInt64) { perftop_prefetch(slots + 2 * (Int(truncatingIfNeeded: h) & mask)) }

    /// The slot value (record << 32 | frame) of the first text with hash `h`, or 0; starts
    /// loading its record for `confirms`.
    @inline(__always)
    func candidate(_ h: UInt64) -> UInt64 {
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let v = slots[2 * i + 1]
            if v == 0 { return 0 }
            if slots[2 * i] == h {
                perftop_prefetch(words + Int(truncatingIfNeeded: v >> 32))
                return v
            }
            i = (i + 1) & mask
        }
    }

    /// Whether the record of slot value `v` holds exactly `p[0..<n]`.
    @inline(__always)
    func confirms(_ v: UInt64, _ p: UnsafeRawPointer, _ n: Int) -> Bool {
        let r = words + Int(truncatingIfNeeded: v >> 32)
        return Int(truncatingIfNeeded: r[0]) == n && FrameTextMap.equal(UnsafeRawPointer(r + 1), p, n)
    }

    /// The frame for text `p[0..<n]` with hash `h`, or -1.
    @inline(__always)
    func find(_ p: UnsafeRawPointer, _ n: Int, _ h: UInt64) -> Int32 {
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let v = slots[2 * i + 1]
            if v == 0 { return -1 }
            if slots[2 * i] == h {
                let r = words + Int(truncatingIfNeeded: v >> 32)
                if Int(truncatingIfNeeded: r[0]) == n && FrameTextMap.equal(UnsafeRawPointer(r + 1), p, n) {
                    return Int32(truncatingIfNeeded: v)
                }
            }
            i = (i + 1) & mask
        }
    }

    /// Adds text that `find` did not have.
    func insert(_ p: UnsafeRawPointer, _ n: Int, _ h: UInt64, frame: Int32) {
        let need = 1 + (n + 7) / 8
        if used + need > capacity {
            while used + need > capacity { capacity *= 2 }
            precondition(capacity <= Int(UInt32.max), "frame text beyond 32 GB")
            words = realloc(words, capacity * 8)!.assumingMemoryBound(to: UInt64.self)
        }
        let r = words + used
        r[0] = UInt64(n)
        r[need - 1] = 0
        UnsafeMutableRawPointer(r + 1).copyMemory(from: p, byteCount: n)
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[2 * i + 1] != 0 { i = (i + 1) & mask }
        slots[2 * i] = h
        slots[2 * i + 1] = UInt64(used) << 32 | UInt64(UInt32(bitPattern: frame))
        used += need
        count += 1
        if count * 2 > mask { grow() }
    }

    private func grow() {
        let m = (mask + 1) * 2 - 1
        let ns = calloc(2 * (m + 1), 8)!.assumingMemoryBound(to: UInt64.self)
        for j in 0...mask where slots[2 * j + 1] != 0 {
            var i = Int(truncatingIfNeeded: slots[2 * j]) & m
            while ns[2 * i + 1] != 0 { i = (i + 1) & m }
            ns[2 * i] = slots[2 * j]
            ns[2 * i + 1] = slots[2 * j + 1]
        }
        free(slots)
        slots = ns
        mask = m
    }

    /// Byte equality of `n` bytes; `a` is a zero-padded record, `b` frame text in the input.
    @inline(__always)
    static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        if n >= 8 {
            var i = 0
            while i + 8 <= n {
                if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
                i += 8
            }
            return i == n || a.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        var w: UInt64 = 0
        for j in 0..<n { w |= UInt64(b.load(fromByteOffset: j, as: UInt8.self)) << (8 * UInt64(j)) }
        return a.load(as: UInt64.self) == w
    }
}

/// One line's frames, root first, kept for the next line (which reuses the nodes of a shared
/// prefix): where each frame starts and ends, its text hash, frame id, path hash and node.
/// Raw buffers: as Swift arrays, their uniqueness checks and resizing were ~15% of a read.
final class LineFrames {
    private(set) var capacity = 0
    var starts = UnsafeMutablePointer<Int>.allocate(capacity: 0)
    var ends = UnsafeMutablePointer<Int>.allocate(capacity: 0)
    var textHashes = UnsafeMutablePointer<UInt64>.allocate(capacity: 0)
    var frameIds = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
    var hashes = UnsafeMutablePointer<UInt32>.allocate(capacity: 0)
    var records = UnsafeMutablePointer<UInt64>.allocate(capacity: 0)
    var nodes = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
    /// How many of the frames above belong to the previous line.
    var depth = 0
    /// The previous line's stack text.
    private(set) var prevStack = UnsafeMutablePointer<UInt8>.allocate(capacity: 0)
    private(set) var prevLength = 0
    private var prevCapacity = 0

    init() { reserve(64) }

    deinit {
        for p in [UnsafeMutableRawPointer(starts), UnsafeMutableRawPointer(ends), UnsafeMutableRawPointer(textHashes),
                  UnsafeMutableRawPointer(frameIds), UnsafeMutableRawPointer(hashes), UnsafeMutableRawPointer(nodes), UnsafeMutableRawPointer(records),
                  UnsafeMutableRawPointer(prevStack)] { p.deallocate() }
    }

    @inline(__always)
    func reserve(_ n: Int) {
        if n > capacity { grow(n) }
    }

    private func grow(_ n: Int) {
        let c = max(n, capacity * 2)
        func moved<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
            let q = UnsafeMutablePointer<T>.allocate(capacity: c)
            q.moveInitialize(from: p, count: capacity)
            p.deallocate()
            return q
        }
        starts = moved(starts); ends = moved(ends); textHashes = moved(textHashes)
        frameIds = moved(frameIds); hashes = moved(hashes); nodes = moved(nodes); records = moved(records)
        capacity = c
    }

    func remember(_ p: UnsafeRawPointer, _ n: Int) {
        if n > prevCapacity {
            prevStack.deallocate()
            prevCapacity = max(n, prevCapacity * 2)
            prevStack = UnsafeMutablePointer<UInt8>.allocate(capacity: prevCapacity)
        }
        UnsafeMutableRawPointer(prevStack).copyMemory(from: p, byteCount: n)
        prevLength = n
    }
}
