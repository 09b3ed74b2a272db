import CPrefetch

/// Turns `frame;frame;...` text (root first) into tree nodes, for the line-based readers
/// (folded, austin). Frame text is hashed straight from the input, and the previous line's
/// nodes are reused for a shared prefix.
///
/// Stacks are resolved in batches, in three passes over the whole batch, so that the cache
/// misses of many frames overlap instead of queueing behind each other: `add` splits and
/// hashes a stack's frames (prefetching their text-map slots); `resolve` then looks up every
/// frame's id and path hash (prefetching child-index slots and the text records that confirm
/// the ids), and finally confirms the ids and walks the tree, stack by stack in input order.
/// Node ids come out as resolving the stacks one at a time would number them.
final class StackPath {
    /// Stacks per batch: enough frames (~7 a stack in big dumps) to keep the memory system busy.
    static let batchSize = 8
    private let texts = FrameTextMap()

    // The batch. Line 0 is the last line of the previous batch (its text copied, its frames
    // resolved), so that the first new line can share its prefix. Per line: text, length,
    // first frame, frame count, frames shared with the line before, the first frame whose
    // text the map did not know, and the leaf node. Per frame (lines packed one after
    // another): where it starts and ends in the line, text hash, frame id, path hash,
    // text-map slot value, node.
    // Raw buffers in the class itself: as Swift arrays, their uniqueness checks and resizing
    // were ~15% of a read, and a separate storage object cost a retain and release per access.
    private var lines = 1
    private var lineCapacity = 0
    private var text = UnsafeMutablePointer<UnsafeRawPointer>.allocate(capacity: 0)
    private var length = UnsafeMutablePointer<Int>.allocate(capacity: 0)
    private var offset = UnsafeMutablePointer<Int>.allocate(capacity: 0)
    private var count = UnsafeMutablePointer<Int>.allocate(capacity: 0)
    private var shared = UnsafeMutablePointer<Int>.allocate(capacity: 0)
    private var sure = UnsafeMutablePointer<Int>.allocate(capacity: 0)
    private var leafNode = UnsafeMutablePointer<Int32>.allocate(capacity: 0)

    private var frameCapacity = 0
    private var starts = UnsafeMutablePointer<Int>.allocate(capacity: 0)
    private var ends = UnsafeMutablePointer<Int>.allocate(capacity: 0)
    private var textHashes = UnsafeMutablePointer<UInt64>.allocate(capacity: 0)
    private var frameIds = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
    private var hashes = UnsafeMutablePointer<UInt32>.allocate(capacity: 0)
    private var records = UnsafeMutablePointer<UInt64>.allocate(capacity: 0)
    private var nodes = UnsafeMutablePointer<Int32>.allocate(capacity: 0)

    /// Line 0's text.
    private var own = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    private var ownCapacity = 1

    init() {
        reserveLines(StackPath.batchSize + 1)
        reserveFrames(256)
        text[0] = UnsafeRawPointer(own)
        length[0] = 0; offset[0] = 0; count[0] = 0; shared[0] = 0; sure[0] = 0
    }

    deinit {
        for p in [UnsafeMutableRawPointer(text), UnsafeMutableRawPointer(length), UnsafeMutableRawPointer(offset),
                  UnsafeMutableRawPointer(count), UnsafeMutableRawPointer(shared), UnsafeMutableRawPointer(sure),
                  UnsafeMutableRawPointer(leafNode),
                  UnsafeMutableRawPointer(starts), UnsafeMutableRawPointer(ends), UnsafeMutableRawPointer(textHashes),
                  UnsafeMutableRawPointer(frameIds), UnsafeMutableRawPointer(hashes), UnsafeMutableRawPointer(records),
                  UnsafeMutableRawPointer(nodes), UnsafeMutableRawPointer(own)] { p.deallocate() }
    }


    @inline(__always)
    private func reserveLines(_ n: Int) {
        guard n > lineCapacity else { return }
        let c = max(n, 2 * lineCapacity), o = lineCapacity
        text = text.moved(count: o, capacity: c); length = length.moved(count: o, capacity: c)
        offset = offset.moved(count: o, capacity: c); count = count.moved(count: o, capacity: c)
        shared = shared.moved(count: o, capacity: c); sure = sure.moved(count: o, capacity: c)
        leafNode = leafNode.moved(count: o, capacity: c)
        lineCapacity = c
    }

    @inline(__always)
    private func reserveFrames(_ n: Int) {
        if n > frameCapacity { growFrames(n) }
    }

    private func growFrames(_ n: Int) {
        let c = max(n, 2 * frameCapacity), o = frameCapacity
        starts = starts.moved(count: o, capacity: c); ends = ends.moved(count: o, capacity: c)
        textHashes = textHashes.moved(count: o, capacity: c); frameIds = frameIds.moved(count: o, capacity: c)
        hashes = hashes.moved(count: o, capacity: c); records = records.moved(count: o, capacity: c)
        nodes = nodes.moved(count: o, capacity: c)
        frameCapacity = c
    }

    /// Makes the last line line 0 of an empty batch.
    private func keepLast() {
        let j = lines - 1
        let n = length[j], off = offset[j], c = count[j]
        if n > ownCapacity {
            own.deallocate()
            ownCapacity = max(n, 2 * ownCapacity)
            own = .allocate(capacity: ownCapacity)
        }
        UnsafeMutableRawPointer(own).copyMemory(from: text[j], byteCount: n)
        if off > 0 {
            // memmove: the regions may overlap.
            func down<T>(_ p: UnsafeMutablePointer<T>) {
                UnsafeMutableRawPointer(p).copyMemory(from: p + off, byteCount: c * MemoryLayout<T>.stride)
            }
            down(starts); down(ends); down(frameIds); down(hashes); down(records); down(nodes)
        }
        text[0] = UnsafeRawPointer(own)
        length[0] = n; offset[0] = 0; count[0] = c
        lines = 1
    }


    /// Stacks waiting for `resolve`.
    var pending: Int { lines - 1 }
    var isFull: Bool { lines > StackPath.batchSize }

    /// Queues the stack text `p[0..<n]`, which must stay valid until `resolve`.
    func add(_ p: UnsafeRawPointer, _ n: Int) {
        let j = self.lines
        self.reserveLines(j + 1)
        let prev = self.text[j - 1], prevLength = self.length[j - 1]
        let po = self.offset[j - 1], prevCount = self.count[j - 1]
        // Frames the previous line has too: equal text up to a frame end in both lines.
        let m = min(prevLength, n)
        var same = 0
        while same + 8 <= m && prev.loadUnaligned(fromByteOffset: same, as: UInt64.self) == p.loadUnaligned(fromByteOffset: same, as: UInt64.self) { same += 8 }
        while same < m && prev.load(fromByteOffset: same, as: UInt8.self) == p.load(fromByteOffset: same, as: UInt8.self) { same += 1 }
        var k = 0
        while k < prevCount && self.ends[po + k] <= same {
            let e = self.ends[po + k]
            if e == n || (e < n && p.load(fromByteOffset: e, as: UInt8.self) == 0x3B) { k += 1 } else { break }
        }
        let off = po + prevCount
        self.reserveFrames(off + k + 1)
        for i in 0..<k {
            self.starts[off + i] = self.starts[po + i]
            self.ends[off + i] = self.ends[po + i]
        }
        // Split and hash the rest.
        var pos = k > 0 ? self.ends[off + k - 1] + 1 : 0
        var count = k
        while pos < n {
            let (end, h) = StackPath.frame(p, from: pos, to: n)
            if end > pos {
                texts.prefetch(h)
                self.reserveFrames(off + count + 1)
                self.starts[off + count] = pos
                self.ends[off + count] = end
                self.textHashes[off + count] = h
                count += 1
            }
            pos = end + 1
        }
        self.text[j] = p
        self.length[j] = n
        self.offset[j] = off
        self.count[j] = count
        self.shared[j] = k
        self.lines = j + 1
    }

    /// Resolves the queued stacks in order: `leaf(i, node)` for the i-th. `makeFrame` turns new
    /// frame text into a frame id (called once per distinct text, with the text's id: see
    /// `leafTextId`).
    func resolve(builder: ProfileBuilder, makeFrame: (UnsafeRawPointer, Int, Int32) -> Int32,
                 _ leaf: (Int, Int32) -> Void) {
        let lines = self.lines
        guard lines > 1 else { return }
        let index = builder.index
        let root = ChildIndex.rootHash
        // Frame ids as the text map's slots give them, path hashes, and prefetches of the
        // child-index slots and of the text records that confirm the ids. A shared prefix takes
        // the previous line's (tentative) values; a line stops at its first unknown text.
        for j in 1..<lines {
            let off = self.offset[j], count = self.count[j], k = self.shared[j], po = self.offset[j - 1]
            for i in 0..<k {
                self.frameIds[off + i] = self.frameIds[po + i]
                self.hashes[off + i] = self.hashes[po + i]
            }
            var hash = k > 0 ? self.hashes[off + k - 1] : root
            var sure = count
            for i in k..<count {
                let v = texts.candidate(self.textHashes[off + i])
                if v == 0 { sure = i; break }
                let f = Int32(truncatingIfNeeded: v)
                hash = ChildIndex.pathHash(hash, f)
                index.prefetch(hash)
                self.frameIds[off + i] = f
                self.hashes[off + i] = hash
                self.records[off + i] = v
            }
            self.sure[j] = sure
        }
        for j in 1..<lines where self.sure[j] > self.shared[j] {
            let off = self.offset[j], k = self.shared[j]
            builder.prefetchConfirmations(index, hashes: self.hashes + off + k, count: self.sure[j] - k)
        }
        // Confirm the ids (from the first text not confirmed on, new text or a 64-bit hash
        // collision, resolve exactly) and walk, line by line.
        for j in 1..<lines {
            let off = self.offset[j], count = self.count[j], k = self.shared[j], po = self.offset[j - 1]
            let p = self.text[j]
            var stale = false
            if k > 0 {
                // The previous line is final now; if its prefix changed, so do our path hashes.
                let tentative = self.hashes[off + k - 1]
                for i in 0..<k {
                    self.frameIds[off + i] = self.frameIds[po + i]
                    self.hashes[off + i] = self.hashes[po + i]
                    self.records[off + i] = self.records[po + i]
                    self.nodes[off + i] = self.nodes[po + i]
                }
                stale = self.hashes[off + k - 1] != tentative
            }
            var exactFrom = self.sure[j]
            for i in k..<exactFrom where !texts.confirms(self.records[off + i], p + self.starts[off + i], self.ends[off + i] - self.starts[off + i]) {
                exactFrom = i
                break
            }
            if exactFrom < count || stale {
                var hash = k > 0 ? self.hashes[off + k - 1] : root
                for i in k..<count {
                    if i >= exactFrom {
                        let s = self.starts[off + i], len = self.ends[off + i] - s, h = self.textHashes[off + i]
                        var v = texts.slot(p + s, len, h)
                        if v == 0 { v = texts.insert(p + s, len, h, frame: makeFrame(p + s, len, texts.nextTextId)) }
                        self.records[off + i] = v
                        self.frameIds[off + i] = Int32(truncatingIfNeeded: v)
                    }
                    hash = ChildIndex.pathHash(hash, self.frameIds[off + i])
                    index.prefetch(hash)
                    self.hashes[off + i] = hash
                }
            }
            let start: Int32 = k > 0 ? self.nodes[off + k - 1] : 0
            self.leafNode[j] = builder.walk(index, from: start, frames: self.frameIds + off + k, hashes: self.hashes + off + k,
                                        count: count - k, nodes: self.nodes + off + k)
        }
        // After all the walks: the builder appends their new nodes in bulk at the first weight.
        for j in 1..<lines { leaf(j - 1, self.leafNode[j]) }
        self.keepLast()
    }

    /// One stack, resolved at once (`add` then `resolve`).
    func leaf(_ p: UnsafeRawPointer, _ n: Int, builder: ProfileBuilder,
              makeFrame: (UnsafeRawPointer, Int, Int32) -> Int32) -> Int32 {
        leafAndText(p, n, builder: builder, makeFrame: makeFrame).node
    }

    /// `leaf`, with the id of the leaf frame's text (`leafTextId`).
    func leafAndText(_ p: UnsafeRawPointer, _ n: Int, builder: ProfileBuilder,
                     makeFrame: (UnsafeRawPointer, Int, Int32) -> Int32) -> (node: Int32, text: Int32) {
        precondition(pending == 0, "leaf(_:_:) with stacks queued")
        add(p, n)
        var node: Int32 = 0, text: Int32 = -1
        resolve(builder: builder, makeFrame: makeFrame) { node = $1; text = leafTextId($0) }
        return (node, text)
    }

    /// The id of the i-th queued stack's leaf frame text (-1 for an empty stack): the one
    /// `makeFrame` was given for it, dense from 0 in this path's first-seen order. Valid in
    /// `resolve`'s `leaf` callback: readers that merge lines while reading vote with it for
    /// the line that labels a function (`ProfileBuilder.voteLeafText`), an array slot, where a
    /// text hash needed a map lookup a stack.
    @inline(__always)
    func leafTextId(_ i: Int) -> Int32 {
        let j = i + 1, c = count[j]
        guard c > 0 else { return -1 }
        return texts.textId(ofSlot: records[offset[j] + c - 1])
    }
}
extension StackPath {
    /// The frame text starting at `from` in the stack text `p[0..<n]`: where it ends (the next
    /// `;`, or `n`) and its hash (`textHash`). One pass, eight bytes at a time: each word is
    /// searched for `;` and mixed into the hash. Separate passes (a `;` search, then a byte
    /// hash with a byte-wise tail) took ~160 instructions a frame, half of splitting a stack.
    /// Reads only `p[0..<n]`.
    @inline(__always)
    static func frame(_ p: UnsafeRawPointer, from: Int, to n: Int) -> (end: Int, hash: UInt64) {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        var i = from
        while i + 8 <= n {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let s = semicolons(w)
            if s != 0 {
                let j = s.trailingZeroBitCount >> 3
                if j > 0 { h = mix(h, w & (UInt64.max >> (64 - 8 * UInt64(j)))) }
                return (i + j, finish(h, i + j - from))
            }
            h = mix(h, w)
            i += 8
        }
        let r = n - i
        guard r > 0 else { return (n, finish(h, n - from)) }
        // The last r < 8 bytes, low bytes first, zeros above.
        var w: UInt64 = 0
        if n >= 8 {
            w = p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) >> (8 * UInt64(8 - r))
        } else {
            for k in 0..<r { w |= UInt64(p.load(fromByteOffset: i + k, as: UInt8.self)) << (8 * UInt64(k)) }
        }
        let s = semicolons(w) & (UInt64.max >> (64 - 8 * UInt64(r)))
        let j = s != 0 ? s.trailingZeroBitCount >> 3 : r
        if j > 0 { h = mix(h, w & (UInt64.max >> (64 - 8 * UInt64(j)))) }
        return (i + j, finish(h, i + j - from))
    }

    /// The hash `frame(_:from:to:)` gives the text `p[0..<n]` (which holds no `;`).
    static func textHash(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 { frame(p, from: 0, to: n).hash }

    /// The high bit of each byte of `w` that is `;` (exact for the lowest such byte; a higher
    /// one may be flagged falsely, so only the lowest is used).
    @inline(__always)
    private static func semicolons(_ w: UInt64) -> UInt64 {
        let x = w ^ 0x3B3B_3B3B_3B3B_3B3B
        return (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
    }

    @inline(__always)
    private static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
        let m = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
        return m ^ (m >> 29)
    }

    @inline(__always)
    private static func finish(_ h: UInt64, _ length: Int) -> UInt64 {
        var h = h ^ UInt64(truncatingIfNeeded: length)
        h ^= h >> 31
        h = h &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 32)
    }
}

/// Frame text → frame id for `StackPath`. A 16-byte slot per text holds the full hash, the
/// frame id and where the text's record (length, bytes) is: the id comes from the slot, so the
/// byte comparison that confirms it is off the critical path (the CPU runs ahead on the
/// predicted match while the record loads).
final class FrameTextMap {
    private var slots: UnsafeMutablePointer<UInt64>     // 2 words: hash, record word << 32 | frame; 0 = empty
    private var mask: Int
    /// Records: text id << 32 | length, then the bytes (zero-padded). Text ids number the texts
    /// in the order they were inserted, from 0: a reader keeps per-text facts in plain arrays.
    private var words: UnsafeMutablePointer<UInt64>
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
        return r[0] & 0xFFFF_FFFF == UInt64(n) && FrameTextMap.equal(UnsafeRawPointer(r + 1), p, n)
    }

    /// The text id (see `words`) of slot value `v`.
    @inline(__always)
    func textId(ofSlot v: UInt64) -> Int32 { Int32(truncatingIfNeeded: words[Int(truncatingIfNeeded: v >> 32)] >> 32) }

    /// The id the next inserted text gets.
    var nextTextId: Int32 { Int32(truncatingIfNeeded: count) }

    /// The frame for text `p[0..<n]` with hash `h`, or -1.
    @inline(__always)
    func find(_ p: UnsafeRawPointer, _ n: Int, _ h: UInt64) -> Int32 {
        let v = slot(p, n, h)
        return v == 0 ? -1 : Int32(truncatingIfNeeded: v)
    }

    /// The slot value (record << 32 | frame) of text `p[0..<n]` with hash `h`, or 0.
    @inline(__always)
    func slot(_ p: UnsafeRawPointer, _ n: Int, _ h: UInt64) -> UInt64 {
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let v = slots[2 * i + 1]
            if v == 0 { return 0 }
            if slots[2 * i] == h {
                let r = words + Int(truncatingIfNeeded: v >> 32)
                if r[0] & 0xFFFF_FFFF == UInt64(n) && FrameTextMap.equal(UnsafeRawPointer(r + 1), p, n) { return v }
            }
            i = (i + 1) & mask
        }
    }

    /// Adds text that `find` did not have; returns its slot value.
    @discardableResult
    func insert(_ p: UnsafeRawPointer, _ n: Int, _ h: UInt64, frame: Int32) -> UInt64 {
        precondition(n < 1 << 32 && count < Int(Int32.max), "frame text beyond 4 GB or 2^31 texts")
        let need = 1 + max(1, (n + 7) / 8)      // a payload word even for empty text: `equal` reads one
        if used + need > capacity {
            while used + need > capacity { capacity *= 2 }
            precondition(capacity <= Int(UInt32.max), "frame text beyond 32 GB")
            words = realloc(words, capacity * 8)!.assumingMemoryBound(to: UInt64.self)
        }
        let r = words + used
        r[0] = UInt64(count) << 32 | UInt64(n)
        r[need - 1] = 0
        UnsafeMutableRawPointer(r + 1).copyMemory(from: p, byteCount: n)
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[2 * i + 1] != 0 { i = (i + 1) & mask }
        slots[2 * i] = h
        let v = UInt64(used) << 32 | UInt64(UInt32(bitPattern: frame))
        slots[2 * i + 1] = v
        used += need
        count += 1
        if count * 2 > mask { grow() }
        return v
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
        if n >= 8 && n <= 64 {
            // Eight words at fixed offsets, clamped to the last whole word (they overlap for
            // shorter text), with no branch per word: a loop's exit, at a word count that
            // changes from frame to frame, was a mispredicted branch per frame.
            let last = n &- 8
            @inline(__always) func d(_ o: Int) -> UInt64 {
                let o = min(o, last)
                return a.loadUnaligned(fromByteOffset: o, as: UInt64.self) ^ b.loadUnaligned(fromByteOffset: o, as: UInt64.self)
            }
            return (d(0) | d(8) | d(16) | d(24) | d(32) | d(40) | d(48) | d(56)) == 0
        }
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
