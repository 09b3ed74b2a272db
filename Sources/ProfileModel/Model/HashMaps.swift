import CPrefetch

/// Open-addressing map from a pair of Int32 to an Int32 value. Used for (parent, frame) → child.
/// Key and value share one 16-byte slot, so a probe costs one cache miss, not two: on big
/// trees this lookup is the reader's main cost (BENCHMARKS.md).
struct PairMap: Sendable {
    private var slots: [UInt64]      // 2 words per slot: key, value (UInt64.max = empty)
    private var mask: Int
    public private(set) var count = 0

    public init(capacity: Int = 1024) {
        var cap = 16
        while cap < capacity * 2 { cap <<= 1 }
        slots = [UInt64](repeating: .max, count: cap * 2)
        mask = cap - 1
    }

    @inline(__always)
    static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        (UInt64(UInt32(bitPattern: a)) << 32) | UInt64(UInt32(bitPattern: b))
    }

    @inline(__always)
    public func get(_ a: Int32, _ b: Int32) -> Int32 {
        let k = PairMap.key(a, b)
        var i = Int(truncatingIfNeeded: hashPair(a, b)) & mask
        return slots.withUnsafeBufferPointer { s in
            while true {
                let v = s[2 * i + 1]
                if v == .max { return -1 }
                if s[2 * i] == k { return Int32(truncatingIfNeeded: v) }
                i = (i + 1) & mask
            }
        }
    }

    /// Returns the existing value or stores `make()`'s result.
    @inline(__always)
    public mutating func getOrInsert(_ a: Int32, _ b: Int32, _ make: () -> Int32) -> Int32 {
        let k = PairMap.key(a, b)
        var i = Int(truncatingIfNeeded: hashPair(a, b)) & mask
        let found: Int32? = slots.withUnsafeBufferPointer { s in
            while true {
                let v = s[2 * i + 1]
                if v == .max { return nil }
                if s[2 * i] == k { return Int32(truncatingIfNeeded: v) }
                i = (i + 1) & mask
            }
        }
        if let found { return found }
        let v = make()
        slots[2 * i] = k
        slots[2 * i + 1] = UInt64(UInt32(bitPattern: v))
        count += 1
        if count * 2 > mask + 1 { grow() }
        return v
    }

    private mutating func grow() {
        let cap = (mask + 1) * 2
        var ns = [UInt64](repeating: .max, count: cap * 2)
        let m = cap - 1
        slots.withUnsafeBufferPointer { s in
            ns.withUnsafeMutableBufferPointer { n in
                for j in 0...mask where s[2 * j + 1] != .max {
                    let k = s[2 * j]
                    var i = Int(truncatingIfNeeded: hashPair(Int32(bitPattern: UInt32(k >> 32)),
                                                             Int32(bitPattern: UInt32(k & 0xFFFF_FFFF)))) & m
                    while n[2 * i + 1] != .max { i = (i + 1) & m }
                    n[2 * i] = k
                    n[2 * i + 1] = s[2 * j + 1]
                }
            }
        }
        slots = ns
        mask = m
    }
}

/// Open-addressing map from a pair of 64-bit keys to an Int32, for composite keys (frame
/// identity, function identity). Swift's Dictionary hashes with SipHash per lookup, which
/// showed as ~20% of a pstats load.
struct WideKeyMap: Sendable {
    private var slots: [UInt64]      // 3 words per slot: key a, key b, value (UInt64.max = empty)
    private var mask: Int
    public private(set) var count = 0

    public init(capacity: Int = 64) {
        var cap = 16
        while cap < capacity * 2 { cap <<= 1 }
        slots = [UInt64].big(repeating: .max, count: cap * 3)
        mask = cap - 1
    }

    @inline(__always)
    static func hash(_ a: UInt64, _ b: UInt64) -> Int {
        var h = a &* 0x9E37_79B9_7F4A_7C15 ^ (b &+ 0x632B_E59B_D9B4_E019)
        h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    public subscript(a: UInt64, b: UInt64) -> Int32? {
        get {
            var i = WideKeyMap.hash(a, b) & mask
            return slots.withUnsafeBufferPointer { s in
                while true {
                    let v = s[3 * i + 2]
                    if v == .max { return nil }
                    if s[3 * i] == a && s[3 * i + 1] == b { return Int32(truncatingIfNeeded: v) }
                    i = (i + 1) & mask
                }
            }
        }
        set {
            guard let value = newValue else { return }      // removal is never needed
            let m = mask
            let added: Bool = slots.withUnsafeMutableBufferPointer { s in
                WideKeyMap.insert(s, m, a, b, UInt64(UInt32(bitPattern: value)))
            }
            if added {
                count += 1
                if count * 2 > mask + 1 { grow() }
            }
        }
    }

    /// Stores (a, b) -> v in `s`; true when the key was new. One uniqueness check per call,
    /// not one per slot write: on a 100k-function pstats load the checked writes and the
    /// rehash through the subscript were ~15% of the time.
    @inline(__always)
    private static func insert(_ s: UnsafeMutableBufferPointer<UInt64>, _ mask: Int,
                               _ a: UInt64, _ b: UInt64, _ v: UInt64) -> Bool {
        var i = hash(a, b) & mask
        while true {
            if s[3 * i + 2] == .max {
                s[3 * i] = a; s[3 * i + 1] = b; s[3 * i + 2] = v
                return true
            }
            if s[3 * i] == a && s[3 * i + 1] == b { s[3 * i + 2] = v; return false }
            i = (i + 1) & mask
        }
    }

    /// Room for `n` keys without growing.
    public mutating func reserve(_ n: Int) {
        var cap = mask + 1
        while cap < n * 2 { cap <<= 1 }
        if cap > mask + 1 { rehash(cap) }
    }

    private mutating func grow() { rehash((mask + 1) * 2) }

    private mutating func rehash(_ cap: Int) {
        let oldCap = mask + 1
        var ns = [UInt64].big(repeating: .max, count: cap * 3)
        let m = cap - 1
        slots.withUnsafeBufferPointer { o in
            ns.withUnsafeMutableBufferPointer { n in
                for j in 0..<oldCap where o[3 * j + 2] != .max {
                    _ = WideKeyMap.insert(n, m, o[3 * j], o[3 * j + 1], o[3 * j + 2])
                }
            }
        }
        slots = ns
        mask = m
    }
}

@inline(__always)
func packPair(_ x: Int32, _ y: Int32) -> UInt64 {
    (UInt64(UInt32(bitPattern: x)) << 32) | UInt64(UInt32(bitPattern: y))
}

/// The tree builder's (parent, frame) → child index. A slot's place comes from the child's
/// *path hash* (a hash of its frame ids from the root), which a reader can compute from the
/// frame ids of a whole stack before it knows any node id: it prefetches every probe of a
/// stack first, so their cache misses overlap instead of running one after another.
///
/// A slot is 8 bytes, the child's path hash and id: the key is not stored. A slot whose hash
/// matches is a candidate only, which the caller confirms against the child's node (`isChild`):
/// for the builder, its parent, since under one parent `pathHash` is one to one in the frame.
/// Storing the (parent, frame) key as well made 16-byte slots, and on big trees the index was
/// then the largest structure while reading.
final class ChildIndex {
    // Per slot: path hash << 32 | child; 0 = empty (a child is never node 0, the root).
    private var slots: UnsafeMutablePointer<UInt64>
    private var mask: Int
    private(set) var count = 0
    private static let slotBytes = 8

    init(capacity: Int) {
        var cap = 16
        while cap < capacity * 2 { cap <<= 1 }
        slots = ZeroedMemory.allocate(bytes: cap * Self.slotBytes).assumingMemoryBound(to: UInt64.self)
        mask = cap - 1
    }

    deinit { ZeroedMemory.free(slots, bytes: (mask + 1) * Self.slotBytes) }

    /// Hands the slots' memory, when it is a mapping of its own, to a `SpareMemory` lending
    /// `keep` bytes of it; the index is left empty.
    func surrender(keep: Int) -> SpareMemory? {
        let bytes = (mask + 1) * Self.slotBytes
        guard bytes >= ZeroedMemory.hugeFrom, keep > 0 else { return nil }
        let spare = SpareMemory(mapping: UnsafeMutableRawPointer(slots), size: bytes, keep: keep)
        slots = ZeroedMemory.allocate(bytes: 16 * Self.slotBytes).assumingMemoryBound(to: UInt64.self)
        mask = 15
        count = 0
        return spare
    }

    /// The path hash of `frame` under a node whose path hash is `parent`. For one `parent` it
    /// is one to one in `frame` (an xor with a constant, then murmur3's finalizer, both
    /// bijections on 32 bits): a child with the right parent and path hash has the right
    /// frame, which lets the index keep no key.
    @inline(__always)
    static func pathHash(_ parent: UInt32, _ frame: Int32) -> UInt32 {
        var h = (parent &* 0x9E37_79B1) ^ UInt32(bitPattern: frame)
        h = (h ^ (h >> 16)) &* 0x85EB_CA6B
        h = (h ^ (h >> 13)) &* 0xC2B2_AE35
        return h ^ (h >> 16)
    }

    /// The root's path hash.
    static let rootHash: UInt32 = 0x9E37_79B9

    @inline(__always)
    func prefetch(_ hash: UInt32) {
        perftop_prefetch(slots + (Int(hash) & mask))
    }

    /// Probes from `hash`'s slot: the child with that hash that `isChild` confirms and its
    /// slot, or -1 and the empty slot where the probe ended.
    @inline(__always)
    private func probe(_ hash: UInt32, _ isChild: (Int32) -> Bool) -> (child: Int32, slot: Int) {
        var i = Int(hash) & mask
        while true {
            let v = slots[i]
            if v == 0 { return (-1, i) }
            if UInt32(truncatingIfNeeded: v >> 32) == hash {
                let c = Int32(truncatingIfNeeded: v)
                if isChild(c) { return (c, i) }
            }
            i = (i + 1) & mask
        }
    }

    /// The first child with path hash `hash`, unconfirmed, or -1: what a caller prefetches the
    /// confirmation of (`ProfileBuilder.prefetchConfirmations`).
    @inline(__always)
    func firstCandidate(_ hash: UInt32) -> Int32 { probe(hash) { _ in true }.child }

    /// The child with path hash `hash` that `isChild` confirms, or -1.
    @inline(__always)
    func get(hash: UInt32, isChild: (Int32) -> Bool) -> Int32 { probe(hash, isChild).child }

    /// Returns the existing child (as `get`) or stores `make()`'s result.
    @inline(__always)
    func getOrInsert(hash: UInt32, isChild: (Int32) -> Bool, _ make: () -> Int32) -> Int32 {
        let (found, i) = probe(hash, isChild)
        if found >= 0 { return found }
        let child = make()
        slots[i] = (UInt64(hash) << 32) | UInt64(UInt32(bitPattern: child))
        count += 1
        if count * 2 > mask + 1 { grow() }
        return child
    }

    /// Adds a child known to be missing (a rebuild).
    @inline(__always)
    func insertNew(hash: UInt32, child: Int32) {
        var i = Int(hash) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = (UInt64(hash) << 32) | UInt64(UInt32(bitPattern: child))
        count += 1
        if count * 2 > mask + 1 { grow() }
    }

    private func grow() {
        let oldBytes = (mask + 1) * Self.slotBytes
        let cap = (mask + 1) * 2
        let ns = ZeroedMemory.allocate(bytes: cap * Self.slotBytes).assumingMemoryBound(to: UInt64.self)
        let m = cap - 1
        // A slot j moves to j or j + old capacity (or just past, when probing), so reading the
        // old slots in order fills the new table in two forward runs. The old table's mapping
        // is handed back a huge page at a time behind the read: the old and new tables are then
        // never both resident in full (that was the reader's peak on big trees).
        let release = oldBytes >= ZeroedMemory.hugeFrom
        let slotsPerChunk = ZeroedMemory.huge / Self.slotBytes
        for j in 0...mask {
            let v = slots[j]
            if v != 0 {
                var i = Int(v >> 32) & m
                while ns[i] != 0 { i = (i + 1) & m }
                ns[i] = v
            }
            if release && (j + 1) % slotsPerChunk == 0 {
                ZeroedMemory.freePart(UnsafeMutableRawPointer(slots + (j + 1 - slotsPerChunk)), bytes: ZeroedMemory.huge)
            }
        }
        ZeroedMemory.free(slots, bytes: oldBytes)    // unmapping what is already gone is no error
        slots = ns
        mask = m
    }
}
