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
            do {
                return try parse(buf, modernCode: true)
            } catch let e as MarshalRetry {
                _ = e
                return try parse(buf, modernCode: false)
            }
        }
    }

    struct MarshalRetry: Error { let original: ProfileError }

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


    /// Keys seen before, by where their strings sit in the file: marshal refs make a caller key
    /// point at the same bytes as the entry it names, so most lookups skip hashing the text.
    var byOffset = WideKeyMap(capacity: 4096)

    mutating func function(_ key: MValue, buf: UnsafeRawBufferPointer) -> Int32? {
        guard case .tuple(let t) = key, t.count == 3 else { return nil }
        guard let line = t[1].intValue else { return nil }
        var offsetKey: (UInt64, UInt64)? = nil
        if case .str(let fo, _) = t[0], case .str(let no, _) = t[2] {
            offsetKey = ((UInt64(fo) << 32) | UInt64(no), UInt64(bitPattern: line))
            if let fn = byOffset[offsetKey!.0, offsetKey!.1] { return fn }
        }
        guard let fn = internFunction(t, line: line, buf: buf) else { return nil }
        if let k = offsetKey { byOffset[k.0, k.1] = fn }
        return fn
    }

    private mutating func internFunction(_ t: [MValue], line: Int64, buf: UnsafeRawBufferPointer) -> Int32? {
        let fileId: Int32
        var fileIsNone = false
        switch t[0] {
        case .str(let o, let n):
            if n == 0 || (n == 1 && buf[o] == 0x7E) { fileIsNone = true; fileId = builder.frames.intern("") }
            else { fileId = buf.baseAddress.map { builder.frames.intern($0 + o, n) } ?? -1 }
        default: return nil
        }
        let nameId: Int32
        switch t[2] {
        case .str(let o, let n):
            nameId = n == 0 ? builder.frames.intern("") : builder.frames.intern(buf.baseAddress! + o, n)
        case .code(let codeName, let codeFile, let codeLine):
            // Pure `profile` keys some frames by the code object itself; Python prints its repr.
            let n = MarshalDecoder.string(codeName, buf) ?? "?"
            let f = MarshalDecoder.string(codeFile, buf) ?? "?"
            nameId = builder.frames.intern("<code object \(n), file \"\(f)\", line \(codeLine)>")
        default: return nil
        }
        let f = builder.frames.frame(name: nameId, file: fileIsNone ? -1 : fileId,
                                     line: Int32(clamping: max(line, 0)),
                                     kind: fileIsNone ? .native : .function, lineIsDefinition: true)
        let fn = builder.frames.frameFunction[Int(f)]
        while tt.count <= Int(fn) {
            tt.append(0); ct.append(0); nc.append(-1); cc.append(-1); isEntry.append(false)
        }
        return fn
    }

    mutating func add(key: MValue, value: MValue, buf: UnsafeRawBufferPointer, at: Int) throws {
        if case .tuple(let t) = key, t.count == 1 { sampledMarker = true; return }
        guard let fn = function(key, buf: buf) else { skippedKeys += 1; return }
        guard case .tuple(let v) = value, v.count >= 5,
              let p0 = v[0].intValue, let p1 = v[1].intValue,
              let t = v[2].doubleValue, let c = v[3].doubleValue else {
            throw ProfileError("expected a stats tuple (cc, nc, tt, ct, callers)", offset: at)
        }
        let i = Int(fn)
        isEntry[i] = true
        // cProfile writes (cc, nc); yappi swaps them; pyinstrument writes -1 for both.
        cc[i] = min(p0, p1); nc[i] = max(p0, p1)
        tt[i] = t < 0 && t >= -1e-9 ? 0 : t
        ct[i] = c < 0 && c >= -1e-9 ? 0 : c
        guard case .dict(let callers) = v[4] else { return }
        for (ck, cv) in callers {
            guard let caller = function(ck, buf: buf) else { continue }
            eCaller.append(caller)
            eCallee.append(fn)
            switch cv {
            case .tuple(let e) where e.count >= 4:
                let a = e[0].intValue ?? -1, b = e[1].intValue ?? -1
                eCalls.append(max(a, b))
                eCt.append(e[3].doubleValue ?? 0)
                eIsCount.append(false)
            default:
                eCalls.append(cv.intValue ?? -1)
                eCt.append(0)
                eIsCount.append(true)
            }
        }
    }

    mutating func finish() {
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
