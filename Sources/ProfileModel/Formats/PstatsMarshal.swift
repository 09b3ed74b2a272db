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
