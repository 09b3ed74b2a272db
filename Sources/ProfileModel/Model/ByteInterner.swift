/// Interns byte strings into one arena. Ids are dense Int32 from 0.
struct ByteInterner: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var starts: [Int] = []
    public private(set) var lengths: [Int32] = []
    private var hashes: [UInt64] = []
    private var slots: [Int32]          // id + 1; 0 = empty
    private var mask: Int

    public init(capacity: Int = 1024) {
        var cap = 16
        while cap < capacity * 2 { cap <<= 1 }
        slots = [Int32](repeating: 0, count: cap)
        mask = cap - 1
    }

    public var count: Int { starts.count }

    /// Room for about `strings` strings of `bytes` bytes in all, so that a reader that knows
    /// its input's size does not regrow (and rehash) the table step by step.
    public mutating func reserve(strings n: Int, bytes: Int) {
        guard n > starts.count else { return }
        if slots.isEmpty { restoreLookup() }
        starts.reserveCapacity(n)
        lengths.reserveCapacity(n)
        hashes.reserveCapacity(n)
        self.bytes.reserveCapacity(self.bytes.count + bytes)
        var cap = slots.count
        while cap < n * 2 { cap <<= 1 }
        if cap > slots.count { rehash(cap) }
    }

    /// Returns the id of `n` bytes at `p`, adding them if new. `isNew` says which.
    @inline(__always)
    public mutating func intern(_ p: UnsafeRawPointer, _ n: Int, isNew: inout Bool) -> Int32 {
        if slots.isEmpty { restoreLookup() }
        let h = hashBytes(p, n)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s == 0 { break }
            let id = Int(s - 1)
            if hashes[id] == h && Int(lengths[id]) == n {
                let equal = bytes.withUnsafeBytes { b in
                    n == 0 || memcmp(b.baseAddress! + starts[id], p, n) == 0
                }
                if equal { isNew = false; return Int32(id) }
            }
            i = (i + 1) & mask
        }
        let id = Int32(starts.count)
        starts.append(bytes.count)
        lengths.append(Int32(n))
        hashes.append(h)
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
        slots[i] = id + 1
        isNew = true
        if starts.count * 2 > slots.count { grow() }
        return id
    }

    @inline(__always)
    public mutating func intern(_ p: UnsafeRawPointer, _ n: Int) -> Int32 {
        var isNew = false
        return intern(p, n, isNew: &isNew)
    }

    public mutating func intern(_ s: String) -> Int32 {
        var s = s
        return s.withUTF8 { u in
            u.isEmpty ? intern(UnsafeRawPointer(bitPattern: 1)!, 0)
                      : intern(UnsafeRawPointer(u.baseAddress!), u.count)
        }
    }

    private mutating func grow() { rehash(slots.count * 2) }

    /// Appends `s` as a new string without looking it up (the caller knows it is new), for a
    /// table that then drops its lookup (`dropLookup`) or rebuilds it.
    mutating func append(_ s: UnsafeRawBufferPointer) -> Int32 {
        let id = Int32(starts.count)
        starts.append(bytes.count)
        lengths.append(Int32(s.count))
        bytes.append(contentsOf: s)
        hashes = []
        slots = []
        return id
    }

    /// Frees what only `intern` needs (hashes and slots: 16-24 bytes a string), for a table
    /// that is read by id from now on; the first `intern` restores them.
    mutating func dropLookup() {
        hashes = []
        slots = []
    }

    private mutating func restoreLookup() {
        let (starts, lengths) = (self.starts, self.lengths)
        hashes = bytes.withUnsafeBytes { b in
            (0..<starts.count).map { i in
                let n = Int(lengths[i])
                return n == 0 ? hashBytes(UnsafeRawPointer(bitPattern: 1)!, 0) : hashBytes(b.baseAddress! + starts[i], n)
            }
        }
        var cap = 16
        while cap < starts.count * 2 + 2 { cap <<= 1 }
        rehash(cap)
    }

    private mutating func rehash(_ cap: Int) {
        var newSlots = [Int32](repeating: 0, count: cap)
        let m = cap - 1
        for id in 0..<starts.count {
            var i = Int(truncatingIfNeeded: hashes[id]) & m
            while newSlots[i] != 0 { i = (i + 1) & m }
            newSlots[i] = Int32(id + 1)
        }
        slots = newSlots
        mask = m
    }

    public func string(_ id: Int32) -> String {
        let i = Int(id)
        let start = starts[i], n = Int(lengths[i])
        return bytes.withUnsafeBufferPointer { b in
            String(decoding: UnsafeBufferPointer(rebasing: b[start..<start + n]), as: UTF8.self)
        }
    }

    public func withBytes<R>(_ id: Int32, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let i = Int(id)
        let start = starts[i], n = Int(lengths[i])
        return bytes.withUnsafeBytes { b in body(UnsafeRawBufferPointer(rebasing: b[start..<start + n])) }
    }
}
