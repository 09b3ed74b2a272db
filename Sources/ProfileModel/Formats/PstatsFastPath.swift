/// Reads the usual pstats shape straight into a `StatsAccumulator`, without building values:
/// `{(file, line, name): (cc, nc, tt, ct, {(file, line, name): (nc, cc, tt, ct) | count})}`
/// with ints, floats and strings, inline or as marshal references. A key tuple resolves to its
/// function id as soon as it is read, and a reference to it stores that id, so a caller key
/// that repeats an earlier key costs one table read.
///
/// Anything else (code objects, bool or text-float numbers, longs, the Tachyon marker key, a
/// reference to a container, odd tuple sizes, truncation or corruption) throws `Unusual`, and
/// the caller starts over with the general decoder, which handles every case and reports
/// errors with their offsets. Nothing here allocates from a size read from the file.
struct PstatsFastPath {
    struct Unusual: Error {}

    /// A marshal reference target, reduced to what the fast path can use, in one word: refs
    /// to key tuples are random reads into this table, so it is kept small (8 bytes a slot).
    /// Low 2 bits: 0 function id, 1 string (offset in bits 2-32, length in bits 33-63; both are
    /// below 2^31 as the input is), 2 int that fits in 62 bits, 3 anything else: index + 1 into
    /// `boxed` (a float or a wider int), or 0 for an object the fast path cannot use.
    typealias Ref = UInt64
    static let opaque: Ref = 3

    let p: UnsafePointer<UInt8>
    let n: Int
    let buf: UnsafeRawBufferPointer
    var pos = 0
    var refs: [Ref] = []
    var boxed: [(isFloat: Bool, bits: UInt64)] = []
    var acc: StatsAccumulator

    /// nil when the input is too large for packed string references (the general decoder
    /// takes it).
    init?(_ buf: UnsafeRawBufferPointer, builder: ProfileBuilder) {
        guard let base = buf.baseAddress, buf.count < 1 << 31 else { return nil }
        self.buf = buf
        self.p = base.assumingMemoryBound(to: UInt8.self)
        self.n = buf.count
        self.acc = StatsAccumulator(builder: builder)
        acc.reserve(forBytes: buf.count)
        refs.reserveBig(min(buf.count / 64, 1 << 20))
    }

    @inline(__always) mutating func byte() throws -> UInt8 {
        guard pos < n else { throw Unusual() }
        defer { pos += 1 }
        return p[pos]
    }

    @inline(__always) func peek() throws -> UInt8 {
        guard pos < n else { throw Unusual() }
        return p[pos]
    }

    @inline(__always) mutating func u32() throws -> UInt32 {
        guard n - pos >= 4 else { throw Unusual() }
        defer { pos += 4 }
        return UnsafeRawPointer(p + pos).loadUnaligned(as: UInt32.self).littleEndian
    }

    @inline(__always) mutating func u64() throws -> UInt64 {
        guard n - pos >= 8 else { throw Unusual() }
        defer { pos += 8 }
        return UnsafeRawPointer(p + pos).loadUnaligned(as: UInt64.self).littleEndian
    }

    /// The target of an `r` reference, whose type code was just read.
    @inline(__always) mutating func ref() throws -> Ref {
        let i = Int(Int32(bitPattern: try u32()))
        guard i >= 0 && i < refs.count else { throw Unusual() }
        return refs[i]
    }

    /// A container's reference slot is taken before its items are read (marshal's order).
    @inline(__always) mutating func reserve(_ flagged: Bool) -> Int {
        guard flagged else { return -1 }
        refs.append(PstatsFastPath.opaque)
        return refs.count - 1
    }

    @inline(__always) mutating func rememberInt(_ flagged: Bool, _ v: Int64) {
        guard flagged else { return }
        if v >> 61 == 0 || v >> 61 == -1 {
            refs.append(UInt64(bitPattern: v << 2) | 2)
        } else {
            boxed.append((false, UInt64(bitPattern: v)))
            refs.append(UInt64(boxed.count) << 2 | 3)
        }
    }

    /// The int a reference names, if it names one.
    @inline(__always) func refInt(_ r: Ref) throws -> Int64 {
        if r & 3 == 2 { return Int64(bitPattern: r) >> 2 }
        guard r & 3 == 3, r > 3, !boxed[Int(r >> 2) - 1].isFloat else { throw Unusual() }
        return Int64(bitPattern: boxed[Int(r >> 2) - 1].bits)
    }

    /// A tuple header of exactly `count` items.
    @inline(__always) mutating func tuple(_ count: Int) throws -> Int {
        let c = try byte()
        let size: Int
        switch c & 0x7F {
        case 0x29: size = Int(try byte())                                 // ')' small tuple
        case 0x28: size = Int(Int32(bitPattern: try u32()))               // '('
        default: throw Unusual()
        }
        guard size == count else { throw Unusual() }
        return reserve(c & 0x80 != 0)
    }

    /// An int as `MValue.intValue` reads it, limited to marshal ints ('i', 'I').
    @inline(__always) mutating func int() throws -> Int64 {
        let c = try byte()
        let v: Int64
        switch c & 0x7F {
        case 0x69: v = Int64(Int32(bitPattern: try u32()))
        case 0x49: v = Int64(bitPattern: try u64())
        case 0x72: return try refInt(try ref())
        default: throw Unusual()
        }
        rememberInt(c & 0x80 != 0, v)
        return v
    }

    /// A number as `MValue.doubleValue` reads it: a binary float or a marshal int.
    @inline(__always) mutating func double() throws -> Double {
        let c = try byte()
        switch c & 0x7F {
        case 0x67:
            let bits = try u64()
            if c & 0x80 != 0 {
                boxed.append((true, bits))
                refs.append(UInt64(boxed.count) << 2 | 3)
            }
            return Double(bitPattern: bits)
        case 0x69:
            let v = Int64(Int32(bitPattern: try u32()))
            rememberInt(c & 0x80 != 0, v)
            return Double(v)
        case 0x49:
            let v = Int64(bitPattern: try u64())
            rememberInt(c & 0x80 != 0, v)
            return Double(v)
        case 0x72:
            let r = try ref()
            if r & 3 == 3, r > 3, boxed[Int(r >> 2) - 1].isFloat {
                return Double(bitPattern: boxed[Int(r >> 2) - 1].bits)
            }
            return Double(try refInt(r))
        default: throw Unusual()
        }
    }

    /// A string: its offset and length in the input; `viaRef`: read through a reference;
    /// `shared`: a later reference can name it (read through one, or flagged FLAG_REF).
    @inline(__always) mutating func string() throws -> (offset: Int, count: Int, viaRef: Bool, shared: Bool) {
        let c = try byte()
        let len: Int
        switch c & 0x7F {
        case 0x7A, 0x5A: len = Int(try byte())                            // 'z' 'Z' short ASCII
        case 0x61, 0x41, 0x75, 0x74, 0x73:                                // 'a' 'A' 'u' 't' 's'
            len = Int(Int32(bitPattern: try u32()))
            guard len >= 0 else { throw Unusual() }
        case 0x72:
            let r = try ref()
            guard r & 3 == 1 else { throw Unusual() }
            return (Int((r >> 2) & 0x7FFF_FFFF), Int(r >> 33), true, true)
        default: throw Unusual()
        }
        guard n - pos >= len else { throw Unusual() }
        let o = pos
        pos += len
        let flagged = c & 0x80 != 0
        if flagged { refs.append(UInt64(len) << 33 | UInt64(o) << 2 | 1) }
        return (o, len, false, flagged)
    }

    /// A key tuple `(file, line, name)`, or a reference to one, as a function id.
    @inline(__always) mutating func key() throws -> Int32 {
        if try peek() == 0x72 {
            pos += 1
            let r = try ref()
            guard r & 3 == 0 else { throw Unusual() }
            return Int32(truncatingIfNeeded: r >> 2)
        }
        let slot = try tuple(3)
        let file = try string()
        let line = try int()
        let name = try string()
        let fn = acc.function(file: file.offset, file.count, name: name.offset, name.count, line: line, buf: buf,
                              lookup: file.viaRef && name.viaRef, remember: file.shared && name.shared)
        if slot >= 0 { refs[slot] = UInt64(UInt32(bitPattern: fn)) << 2 }
        return fn
    }

    /// A dict header; the dict's reference slot stays opaque (a reference to it is unusual).
    @inline(__always) mutating func dict() throws {
        let c = try byte()
        guard c & 0x7F == 0x7B else { throw Unusual() }
        _ = reserve(c & 0x80 != 0)
    }

    /// The end of a dict ('0'), consumed if present.
    @inline(__always) mutating func dictEnd() throws -> Bool {
        guard try peek() == 0x30 else { return false }
        pos += 1
        return true
    }

    mutating func run() throws {
        try dict()
        while try !dictEnd() {
            let fn = try key()
            _ = try tuple(5)
            let p0 = try int(), p1 = try int()
            let t = try double(), c = try double()
            acc.entry(fn, p0, p1, tt: t, ct: c)
            try dict()
            while try !dictEnd() {
                let caller = try key()
                let c = try peek()
                if c & 0x7F == 0x29 || c & 0x7F == 0x28 {
                    _ = try tuple(4)
                    let a = try int(), b = try int()
                    _ = try double()
                    let ect = try double()
                    acc.edge(caller, fn, calls: max(a, b), ct: ect, isCount: false)
                } else {
                    acc.edge(caller, fn, calls: try int(), ct: 0, isCount: true)
                }
            }
        }
    }
}
