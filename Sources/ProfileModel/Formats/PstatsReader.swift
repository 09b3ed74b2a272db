/// Python pstats dumps: one marshalled dict `{(file, line, name): (cc, nc, tt, ct, callers)}`,
/// written by cProfile, profile, yappi (`pstat`), pyinstrument (`-r pstats`) and Tachyon.
///
/// The function table is exact (self = tottime, total = cumtime, calls = nc/cc). The call
/// tree is estimated from the call graph by sharing each function's cumulative time among
/// its callees along the caller edges, with recursion cut; the profile says so.
public enum PstatsReader: ProfileReader {
    public static let name = "pstats"
    public static let title = "Python pstats (cProfile, profile, yappi, pyinstrument, Tachyon)"

    /// The largest input read into memory (pstats cannot be parsed in pieces).
    static let maxBytes = 2 << 30

    public static func sniff(_ p: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        guard p.count >= 1 else { return .no }
        let b0 = p[0] & 0x7F
        guard b0 == 0x7B else { return .no }                         // '{'
        if p.count == 2 && p[1] == 0x30 { return .yes }               // empty dict
        guard p.count >= 3 else { return complete ? .no : .needMore }
        let b1 = p[1] & 0x7F
        if b1 == 0x29 && p[2] == 3 { return .yes }                    // small tuple of 3
        if b1 == 0x28, p.count >= 6, p[2] == 3, p[3] == 0, p[4] == 0, p[5] == 0 { return .yes }
        if b1 == 0x29 && p[2] == 1 { return .yes }                    // Tachyon ("__sampled__",) first
        return .no
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let bytes = try source.readAll(limit: maxBytes)
        return try bytes.withUnsafeBytes { buf in
            if let fast = parseFast(buf) { return fast }
            do {
                return try parse(buf, modernCode: true)
            } catch let e as MarshalRetry {
                _ = e
                return try parse(buf, modernCode: false)
            }
        }
    }

    struct MarshalRetry: Error { let original: ProfileError }

    /// The usual shape, read without building marshal values (PstatsFastPath); nil when the
    /// input needs the general decoder.
    static func parseFast(_ buf: UnsafeRawBufferPointer) -> ProfileBuilder? {
        let builder = ProfileBuilder(format: name, metrics: [ValueType("time", "seconds")])
        builder.estimatedTree = true
        guard var fast = PstatsFastPath(buf, builder: builder) else { return nil }
        do { try fast.run() } catch { return nil }
        fast.acc.finish()
        return builder
    }

    static func parse(_ buf: UnsafeRawBufferPointer, modernCode: Bool) throws -> ProfileBuilder {
        var m = MarshalDecoder(buf, modernCode: modernCode)
        let builder = ProfileBuilder(format: name, metrics: [ValueType("time", "seconds")])
        builder.estimatedTree = true
        var stats = StatsAccumulator(builder: builder)
        do {
            try m.readTopDict { key, value, at in try stats.add(key: key, value: value, buf: buf, at: at) }
        } catch let e as ProfileError {
            if modernCode && m.sawCode { throw MarshalRetry(original: e) }
            throw e
        }
        stats.finish()
        return builder
    }
}

/// Collects pstats entries into an exact function table and then estimates the tree.
struct StatsAccumulator {
    let builder: ProfileBuilder
    var tt: [Double] = [], ct: [Double] = [], nc: [Int64] = [], cc: [Int64] = []
    var isEntry: [Bool] = []
    var eCaller: [Int32] = [], eCallee: [Int32] = []
    var eCt: [Double] = [], eCalls: [Int64] = [], eIsCount: [Bool] = []
    var skippedKeys = 0
    var sampledMarker = false

    init(builder: ProfileBuilder) { self.builder = builder }

    /// Room for an input of `bytes` bytes. Real dumps run ~130 bytes a function and ~80 an
    /// edge (the corpus's cProfile files; the 100k-function benchmark 180 and 60): a hint,
    /// capped, for tables that would otherwise regrow a dozen times.
    mutating func reserve(forBytes bytes: Int) {
        let functions = min(max(bytes / 192, 64), 1 << 21), edges = min(max(bytes / 48, 64), 1 << 23)
        builder.frames.reserve(frames: functions, stringBytes: min(bytes / 4, 1 << 26))
        byOffset.reserve(functions)
        tt.reserveBig(functions); ct.reserveBig(functions)
        nc.reserveBig(functions); cc.reserveBig(functions); isEntry.reserveBig(functions)
        eCaller.reserveBig(edges); eCallee.reserveBig(edges)
        eCt.reserveBig(edges); eCalls.reserveBig(edges); eIsCount.reserveBig(edges)
    }


    /// Keys seen before, by where their strings sit in the file: marshal refs make a caller key
    /// point at the same bytes as the entry it names, so most lookups skip hashing the text.
    var byOffset = WideKeyMap(capacity: 4096)

    /// The id of the empty string, interned on first use (None files, empty names).
    private var emptyId: Int32 = -1

    private mutating func empty() -> Int32 {
        if emptyId < 0 { emptyId = builder.frames.intern("") }
        return emptyId
    }

    mutating func function(_ key: MValue, buf: UnsafeRawBufferPointer) -> Int32? {
        guard case .tuple(let t) = key, t.count == 3 else { return nil }
        guard let line = t[1].intValue else { return nil }
        if case .str(let fo, let fl) = t[0], case .str(let no, let nl) = t[2] {
            return function(file: fo, fl, name: no, nl, line: line, buf: buf)
        }
        guard case .str(let fo, let fl) = t[0], case .code(let codeName, let codeFile, let codeLine) = t[2] else { return nil }
        let fileId = file(fo, fl, buf: buf)
        // Pure `profile` keys some frames by the code object itself; Python prints its repr.
        let n = MarshalDecoder.string(codeName, buf) ?? "?"
        let f = MarshalDecoder.string(codeFile, buf) ?? "?"
        let nameId = builder.frames.intern("<code object \(n), file \"\(f)\", line \(codeLine)>")
        return internFunction(fileId: fileId, nameId: nameId, line: line)
    }

    /// The function keyed `(file, line, name)`, both strings given by where their bytes sit in
    /// `buf`. Keys seen before cost one probe of `byOffset`. `byOffset` is only a shortcut:
    /// `lookup: false` skips the probe when it cannot hit (a string read in place, not through
    /// a marshal reference, sits at an offset no earlier key used), `remember: false` skips the
    /// insert when no later key can point at these bytes (a string without FLAG_REF).
    @inline(__always)
    mutating func function(file fo: Int, _ fl: Int, name no: Int, _ nl: Int, line: Int64,
                           buf: UnsafeRawBufferPointer, lookup: Bool = true, remember: Bool = true) -> Int32 {
        let a = (UInt64(fo) << 32) | UInt64(no), b = UInt64(bitPattern: line)
        if lookup, let fn = byOffset[a, b] { return fn }
        let fileId = file(fo, fl, buf: buf)
        let nameId = nl == 0 ? empty() : builder.frames.intern(buf.baseAddress! + no, nl)
        let fn = internFunction(fileId: fileId, nameId: nameId, line: line)
        if remember { byOffset[a, b] = fn }
        return fn
    }

    /// The interned file name, or -1 for built-ins (`~` or empty).
    private mutating func file(_ o: Int, _ n: Int, buf: UnsafeRawBufferPointer) -> Int32 {
        if n == 0 || (n == 1 && buf[o] == 0x7E) { _ = empty(); return -1 }
        return builder.frames.intern(buf.baseAddress! + o, n)
    }

    private mutating func internFunction(fileId: Int32, nameId: Int32, line: Int64) -> Int32 {
        let f = builder.frames.frame(name: nameId, file: fileId, line: Int32(clamping: max(line, 0)),
                                     kind: fileId < 0 ? .native : .function, lineIsDefinition: true)
        let fn = builder.frames.frameFunction[Int(f)]
        while tt.count <= Int(fn) {
            tt.append(0); ct.append(0); nc.append(-1); cc.append(-1); isEntry.append(false)
        }
        return fn
    }

    /// One stats entry `(cc, nc, tt, ct, ...)` for function `fn`.
    @inline(__always)
    mutating func entry(_ fn: Int32, _ p0: Int64, _ p1: Int64, tt t: Double, ct c: Double) {
        let i = Int(fn)
        isEntry[i] = true
        // cProfile writes (cc, nc); yappi swaps them; pyinstrument writes -1 for both.
        cc[i] = min(p0, p1); nc[i] = max(p0, p1)
        tt[i] = t < 0 && t >= -1e-9 ? 0 : t
        ct[i] = c < 0 && c >= -1e-9 ? 0 : c
    }

    /// A caller edge; `isCount`: the caller value was a bare call count (pure `profile`).
    @inline(__always)
    mutating func edge(_ caller: Int32, _ callee: Int32, calls: Int64, ct: Double, isCount: Bool) {
        eCaller.append(caller)
        eCallee.append(callee)
        eCalls.append(calls)
        eCt.append(ct)
        eIsCount.append(isCount)
    }

    mutating func add(key: MValue, value: MValue, buf: UnsafeRawBufferPointer, at: Int) throws {
        if case .tuple(let t) = key, t.count == 1 { sampledMarker = true; return }
        guard let fn = function(key, buf: buf) else { skippedKeys += 1; return }
        guard case .tuple(let v) = value, v.count >= 5,
              let p0 = v[0].intValue, let p1 = v[1].intValue,
              let t = v[2].doubleValue, let c = v[3].doubleValue else {
            throw ProfileError("expected a stats tuple (cc, nc, tt, ct, callers)", offset: at)
        }
        entry(fn, p0, p1, tt: t, ct: c)
        guard case .dict(let callers) = v[4] else { return }
        for (ck, cv) in callers {
            guard let caller = function(ck, buf: buf) else { continue }
            switch cv {
            case .tuple(let e) where e.count >= 4:
                let a = e[0].intValue ?? -1, b = e[1].intValue ?? -1
                edge(caller, fn, calls: max(a, b), ct: e[3].doubleValue ?? 0, isCount: false)
            default:
                edge(caller, fn, calls: cv.intValue ?? -1, ct: 0, isCount: true)
            }
        }
    }

    mutating func finish() {
        if sampledMarker { return finishSampled() }     // Tachyon (PstatsSampled.swift)
        let F = builder.frames.functionCount
        while tt.count < F { tt.append(0); ct.append(0); nc.append(-1); cc.append(-1); isEntry.append(false) }
        // Int callers (pure `profile`) carry counts only: share the callee's time by calls.
        for e in 0..<eCt.count where eIsCount[e] {
            let callee = Int(eCallee[e])
            eCt[e] = nc[callee] > 0 ? ct[callee] * Double(max(eCalls[e], 0)) / Double(nc[callee]) : 0
        }
        let knownCalls = nc.contains { $0 >= 0 }
        builder.exactFunctions = FunctionTable(
            count: F, selfWeight: [tt], totalWeight: [ct],
            calls: knownCalls ? nc : nil, primitiveCalls: knownCalls ? cc : nil,
            edgeCaller: eCaller, edgeCallee: eCallee, edgeWeight: [eCt],
            edgeCalls: eCalls.contains { $0 >= 0 } ? eCalls : nil)
        if skippedKeys > 0 { builder.warnings.append("\(skippedKeys) entries with an unexpected key skipped") }
        if sampledMarker { builder.metadata.append(("sampled", "true")) }
        estimateTree(F)
    }

    /// Builds the estimated call tree top-down from the roots of the call graph
    /// (the shared algorithm in CallGraphEstimate.swift).
    mutating func estimateTree(_ F: Int) {
        CallGraphEstimate(count: F, selfWeight: [tt], totalWeight: [ct], calls: nc, primitiveCalls: cc,
                          isEntry: isEntry, edgeCaller: eCaller, edgeCallee: eCallee, edgeWeight: [eCt],
                          edgeCalls: eCalls).build(into: builder)
    }
}

// MARK: - streaming fast path

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

// MARK: - marshal

/// A decoded marshal object. Strings point into the input buffer.
/// Only `code` is indirect: boxing every int, float and string (an `indirect enum`) cost a heap
/// allocation per value, a third of a 100k-function load.
enum MValue {
    case null, none, bool(Bool), int(Int64), float(Double)
    case str(Int, Int)
    case tuple([MValue])
    case dict([(MValue, MValue)])
    indirect case code(name: MValue, file: MValue, line: Int64)
    case other

    var intValue: Int64? {
        switch self {
        case .int(let v): v
        case .float(let d) where d.isFinite && abs(d) < 9e18: Int64(d)
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }
    var doubleValue: Double? {
        switch self {
        case .int(let v): Double(v)
        case .float(let d): d
        default: nil
        }
    }
}

/// Decodes CPython's marshal format (Python/marshal.c r_object), bounded by the input:
/// no length in the file can make it allocate more than the bytes that remain.
struct MarshalDecoder {
    let buf: UnsafeRawBufferPointer
    var pos = 0
    var refs: [MValue] = []
    let modernCode: Bool
    var sawCode = false
    var depth = 0
    var lastOffset = 0

    init(_ buf: UnsafeRawBufferPointer, modernCode: Bool) { self.buf = buf; self.modernCode = modernCode }

    static func string(_ v: MValue, _ buf: UnsafeRawBufferPointer) -> String? {
        guard case .str(let o, let n) = v else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: buf[o..<o + n]), as: UTF8.self)
    }

    func fail(_ what: String, at: Int? = nil) -> ProfileError {
        ProfileError(what, offset: at ?? pos)
    }

    mutating func need(_ n: Int, _ what: String) throws {
        if n < 0 || pos + n > buf.count {
            throw fail("truncated marshal data (expected \(what))", at: min(pos, buf.count))
        }
    }

    mutating func u8(_ what: String) throws -> Int {
        try need(1, what); defer { pos += 1 }; return Int(buf[pos])
    }

    mutating func i32(_ what: String) throws -> Int32 {
        try need(4, what)
        defer { pos += 4 }
        return Int32(bitPattern: buf.loadUnaligned(fromByteOffset: pos, as: UInt32.self).littleEndian)
    }

    /// Reads the top-level dict and hands each entry over without keeping the whole dict.
    mutating func readTopDict(_ body: (MValue, MValue, Int) throws -> Void) throws {
        let start = pos
        let code = try u8("a dict")
        guard code & 0x7F == 0x7B else { throw fail("expected a marshalled dict ('{'), found 0x\(String(code, radix: 16))", at: start) }
        if code & 0x80 != 0 { refs.append(.other) }
        while true {
            lastOffset = pos
            let k = try readObject()
            if case .null = k { return }
            let v = try readObject()
            if case .null = v { throw fail("dict value missing", at: lastOffset) }
            try body(k, v, lastOffset)
        }
    }

    mutating func readObject() throws -> MValue {
        let at = pos
        let code = try u8("a type code")
        let flag = code & 0x80 != 0
        let t = UInt8(code & 0x7F)
        var slot = -1
        if flag && t != 0x72 { slot = refs.count; refs.append(.other) }
        depth += 1
        defer { depth -= 1 }
        if depth > 200 { throw fail("marshal nesting deeper than 200", at: at) }
        let v: MValue
        switch t {
        case 0x30: v = .null                                              // '0'
        case 0x4E: v = .none                                              // 'N'
        case 0x54: v = .bool(true)                                        // 'T'
        case 0x46: v = .bool(false)                                       // 'F'
        case 0x2E, 0x53: v = .other                                       // '.' Ellipsis, 'S' StopIteration
        case 0x69: v = .int(Int64(try i32("an int")))                     // 'i'
        case 0x49:                                                        // 'I' int64
            try need(8, "an int64")
            v = .int(Int64(bitPattern: buf.loadUnaligned(fromByteOffset: pos, as: UInt64.self).littleEndian)); pos += 8
        case 0x6C:                                                        // 'l' long, base 2^15 digits
            let n = Int(try i32("a long size"))
            let digits = n.magnitude
            try need(Int(clamping: digits) * 2, "\(digits) long digits")
            var d = 0.0
            var scale = 1.0
            for k in 0..<Int(digits) {
                let dig = Int(buf[pos + 2 * k]) | Int(buf[pos + 2 * k + 1]) << 8
                if dig > 0x7FFF { throw fail("bad long digit", at: pos + 2 * k) }
                d += Double(dig) * scale
                scale *= 32768
            }
            pos += Int(digits) * 2
            if n < 0 { d = -d }
            v = abs(d) < 9.2e18 ? .int(Int64(d)) : .float(d)
        case 0x67:                                                        // 'g' binary float
            try need(8, "a float")
            v = .float(Double(bitPattern: buf.loadUnaligned(fromByteOffset: pos, as: UInt64.self).littleEndian)); pos += 8
        case 0x66:                                                        // 'f' text float
            let n = try u8("a float length"); try need(n, "float text")
            let s = String(decoding: UnsafeRawBufferPointer(rebasing: buf[pos..<pos + n]), as: UTF8.self)
            pos += n
            v = .float(Double(s) ?? .nan)
        case 0x79:                                                        // 'y' binary complex
            try need(16, "a complex"); pos += 16; v = .other
        case 0x78:                                                        // 'x' text complex
            for _ in 0..<2 { let n = try u8("a complex part"); try need(n, "complex text"); pos += n }
            v = .other
        case 0x7A, 0x5A:                                                  // 'z' 'Z' short ASCII
            let n = try u8("a string length"); try need(n, "\(n) string bytes")
            v = .str(pos, n); pos += n
        case 0x61, 0x41, 0x75, 0x74, 0x73:                                // 'a' 'A' 'u' 't' 's'
            let n = Int(try i32("a string length"))
            if n < 0 { throw fail("negative string length \(n)", at: at) }
            try need(n, "\(n) string bytes")
            v = .str(pos, n); pos += n
        case 0x29:                                                        // ')' small tuple
            let n = try u8("a tuple size")
            v = .tuple(try readItems(n))
        case 0x28, 0x5B, 0x3C, 0x3E:                                      // '(' '[' '<' '>'
            let n = Int(try i32("a sequence size"))
            if n < 0 { throw fail("negative sequence size \(n)", at: at) }
            try need(n, "\(n) items")                                     // each item is at least one byte
            let items = try readItems(n)
            v = t == 0x28 ? .tuple(items) : .other
        case 0x7B:                                                        // '{'
            var items: [(MValue, MValue)] = []
            while true {
                let k = try readObject()
                if case .null = k { break }
                let val = try readObject()
                if case .null = val { throw fail("dict value missing", at: pos) }
                items.append((k, val))
            }
            v = .dict(items)
        case 0x72:                                                        // 'r' reference
            let i = Int(try i32("a reference index"))
            guard i >= 0 && i < refs.count else { throw fail("bad marshal reference \(i) (table has \(refs.count))", at: at) }
            v = refs[i]
        case 0x3A:                                                        // ':' slice (v5)
            _ = try readItems(3); v = .other
        case 0x63:                                                        // 'c' code object
            sawCode = true
            v = try readCode()
        default:
            throw fail("unknown marshal type code 0x\(String(code, radix: 16))", at: at)
        }
        if slot >= 0 { refs[slot] = v }
        return v
    }

    mutating func readItems(_ n: Int) throws -> [MValue] {
        var a: [MValue] = []
        a.reserveCapacity(min(n, 16))
        for _ in 0..<n { a.append(try readObject()) }
        return a
    }

    /// Code objects appear in pure-`profile` dumps. Their layout depends on the Python that
    /// wrote them (3.11+ or 3.8–3.10); the file does not say, so the caller retries.
    mutating func readCode() throws -> MValue {
        if modernCode {
            try need(20, "code header"); pos += 20
            _ = try readItems(5)            // code, consts, names, localsplusnames, localspluskinds
            let file = try readObject()
            let name = try readObject()
            _ = try readObject()            // qualname
            let line = try i32("firstlineno")
            _ = try readItems(2)            // linetable, exceptiontable
            return .code(name: name, file: file, line: Int64(line))
        } else {
            try need(24, "code header"); pos += 24
            _ = try readItems(6)            // code, consts, names, varnames, freevars, cellvars
            let file = try readObject()
            let name = try readObject()
            let line = try i32("firstlineno")
            _ = try readObject()            // lnotab
            return .code(name: name, file: file, line: Int64(line))
        }
    }
}
