/// pprof samples read straight from the wire. Decoding a whole `Profile` with SwiftProtobuf made
/// a struct with three arrays per sample (6.5M nodes' worth of samples cost seconds and ~12x the
/// file in memory); samples are by far most of a big profile, so `split` hands everything else to
/// SwiftProtobuf and `forEach` decodes one sample at a time into reused buffers.
///
/// Any surprise (a bad varint, a length past its message, a wire type profile.proto does not
/// give the field) makes `split` or `forEach` give up; the reader then takes the full decode,
/// which reports the damage with its offset.
struct PprofSamples {
    struct Label { var key: Int64 = 0, str: Int64 = 0, num: Int64 = 0 }
    struct Malformed: Error {}

    let p: UnsafeRawBufferPointer
    /// Sample records (top-level field 2).
    let count: Int
    /// The sample records' bytes: a bound on the location ids they hold (each takes one or more).
    let bytes: Int
    /// The mapped file `p` is, if it is one: `forEach` hands back the pages it has passed.
    var input: JSONInput? = nil

    /// The top-level fields but samples, as a message of their own, and the samples' view.
    static func split(_ p: UnsafeRawBufferPointer) -> (rest: [UInt8], samples: PprofSamples)? {
        var rest: [UInt8] = []
        var i = 0, n = 0, sampleBytes = 0
        let end = p.count
        while i < end {
            let fieldStart = i
            guard let tag = varint(p, &i, end) else { return nil }
            let num = tag >> 3, wire = tag & 7
            guard num != 0 else { return nil }
            switch wire {
            case 0: guard varint(p, &i, end) != nil else { return nil }
            case 1: i += 8
            case 5: i += 4
            case 2:
                guard let len = varint(p, &i, end), len <= UInt64(end - i) else { return nil }
                i += Int(len)
                if num == 2 { n += 1; sampleBytes += Int(len); continue }
            default: return nil
            }
            guard i <= end else { return nil }
            if num == 2 { return nil }       // a sample that is not a message
            rest.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[fieldStart..<i]))
        }
        return (rest, PprofSamples(p: p, count: n, bytes: sampleBytes))
    }

    /// Each sample in file order: its location ids (leaf first), values and labels.
    func forEach(_ body: (UnsafeBufferPointer<UInt64>, UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Label>) -> Void) throws {
        var locs = Scratch<UInt64>(), values = Scratch<Int64>(), labels = Scratch<Label>()
        defer { locs.deallocate(); values.deallocate(); labels.deallocate() }
        let p = self.p, end = p.count
        var i = 0
        while i < end {
            guard let tag = PprofSamples.varint(p, &i, end) else { throw Malformed() }
            let num = tag >> 3, wire = tag & 7
            switch wire {
            case 0: guard PprofSamples.varint(p, &i, end) != nil else { throw Malformed() }
            case 1: i += 8
            case 5: i += 4
            case 2:
                guard let len = PprofSamples.varint(p, &i, end), len <= UInt64(end - i) else { throw Malformed() }
                let bodyEnd = i + Int(len)
                if num == 2 {
                    locs.count = 0
                    values.count = 0
                    labels.count = 0
                    try PprofSamples.sample(p, i, bodyEnd, &locs, &values, &labels)
                    body(locs.buffer, values.buffer, labels.buffer)
                }
                i = bodyEnd
                input?.release(below: i)
            default: throw Malformed()
            }
        }
    }

    private static func sample(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int,
                               _ locs: inout Scratch<UInt64>, _ values: inout Scratch<Int64>,
                               _ labels: inout Scratch<Label>) throws {
        var i = start
        while i < end {
            guard let tag = varint(p, &i, end) else { throw Malformed() }
            let num = tag >> 3, wire = tag & 7
            switch (num, wire) {
            case (1, 0), (2, 0):
                guard let v = varint(p, &i, end) else { throw Malformed() }
                if num == 1 { locs.append(v) } else { values.append(Int64(bitPattern: v)) }
            case (1, 2), (2, 2):
                guard let len = varint(p, &i, end), len <= UInt64(end - i) else { throw Malformed() }
                let e = i + Int(len)
                if num == 1 { try packed(p, &i, e, &locs) { $0 } }
                else { try packed(p, &i, e, &values) { Int64(bitPattern: $0) } }
            case (3, 2):
                guard let len = varint(p, &i, end), len <= UInt64(end - i) else { throw Malformed() }
                let e = i + Int(len)
                var l = Label()
                while i < e {
                    guard let t = varint(p, &i, e) else { throw Malformed() }
                    switch (t >> 3, t & 7) {
                    case (1...4, 0):
                        guard let v = varint(p, &i, e) else { throw Malformed() }
                        switch t >> 3 {
                        case 1: l.key = Int64(bitPattern: v)
                        case 2: l.str = Int64(bitPattern: v)
                        case 3: l.num = Int64(bitPattern: v)
                        default: break
                        }
                    case (1...4, _): throw Malformed()
                    default: try skip(p, &i, e, wire: t & 7)
                    }
                }
                labels.append(l)
            case (1...3, _): throw Malformed()
            default: try skip(p, &i, end, wire: wire)     // unknown fields are discarded
            }
        }
        guard i == end else { throw Malformed() }
    }

    /// A packed field's varints, `i..<e`, appended to `out`. Location ids are most of a big
    /// profile's bytes, and decoding them byte by byte mispredicted a branch on most ids (their
    /// lengths vary): one up to 4 bytes long is taken from a word at once, without branching on
    /// its bytes. The values are the ones `varint` gives.
    @inline(__always)
    private static func packed<T>(_ p: UnsafeRawBufferPointer, _ i: inout Int, _ e: Int,
                                  _ out: inout Scratch<T>, _ convert: (UInt64) -> T) throws {
        // Each value takes at least a byte: room for all of them up front.
        out.reserve(more: e - i)
        let base = out.pointer
        var j = i, k = out.count
        while j < e {
            if e - j >= 8 {
                let x = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: j, as: UInt64.self))
                // The bytes up to the first without the continuation bit.
                let n = (~x & 0x8080_8080_8080_8080).trailingZeroBitCount >> 3 + 1
                if n <= 4 {
                    let v = x & 0x7F | x >> 1 & 0x3F80 | x >> 2 & 0x1F_C000 | x >> 3 & 0xFE0_0000
                    (base + k).initialize(to: convert(v & (1 << (7 * UInt64(n)) - 1)))
                    j += n
                    k += 1
                    continue
                }
            }
            guard let v = varint(p, &j, e) else { out.count = k; throw Malformed() }
            (base + k).initialize(to: convert(v))
            k += 1
        }
        out.count = k
        i = j
    }

    private static func skip(_ p: UnsafeRawBufferPointer, _ i: inout Int, _ end: Int, wire: UInt64) throws {
        switch wire {
        case 0: guard varint(p, &i, end) != nil else { throw Malformed() }
        case 1: i += 8
        case 5: i += 4
        case 2:
            guard let len = varint(p, &i, end), len <= UInt64(end - i) else { throw Malformed() }
            i += Int(len)
        default: throw Malformed()
        }
        guard i <= end else { throw Malformed() }
    }

    /// A sample's fields, reused from sample to sample. Not arrays: an append to an `inout`
    /// array checks that the array is uniquely referenced first, per value read.
    struct Scratch<T> {
        private var base = UnsafeMutablePointer<T>.allocate(capacity: 64)
        private var capacity = 64
        var count = 0

        @inline(__always)
        mutating func append(_ v: T) {
            if count == capacity { grow() }
            (base + count).initialize(to: v)
            count += 1
        }

        private mutating func grow() { reserve(capacity + 1) }

        var buffer: UnsafeBufferPointer<T> { UnsafeBufferPointer(start: base, count: count) }
        var pointer: UnsafeMutablePointer<T> { base }

        @inline(__always)
        subscript(_ i: Int) -> T {
            get { base[i] }
            set { base[i] = newValue }
        }

        /// The first `n` values of `other` (n <= other.count), in place of this one's.
        @inline(__always)
        mutating func replace(withPrefix n: Int, of other: Scratch<T>) {
            count = 0
            reserve(n)
            base.update(from: other.base, count: n)
            count = n
        }

        /// `n` values: the first ones kept, any new ones uninitialised (trivial types only).
        @inline(__always)
        mutating func resize(to n: Int) {
            reserve(n)
            count = n
        }

        /// Room for `n` more values (the pointer may change).
        @inline(__always)
        mutating func reserve(more n: Int) { reserve(count + n) }

        private mutating func reserve(_ n: Int) {
            guard n > capacity else { return }
            var c = capacity
            while c < n { c *= 2 }
            let next = UnsafeMutablePointer<T>.allocate(capacity: c)
            next.moveInitialize(from: base, count: count)
            base.deallocate()
            base = next
            capacity = c
        }

        func deallocate() { base.deallocate() }
    }

    @inline(__always)
    static func varint(_ p: UnsafeRawBufferPointer, _ i: inout Int, _ end: Int) -> UInt64? {
        guard i < end else { return nil }
        let b0 = p[i]
        if b0 < 0x80 { i += 1; return UInt64(b0) }
        var v: UInt64 = 0, shift: UInt64 = 0
        while i < end {
            let b = p[i]
            i += 1
            if shift == 63 && b > 1 { return nil }
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
        return nil
    }
}
