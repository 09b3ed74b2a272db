import CPrefetch

// A pull-style, byte-level JSON scanner for the JSON readers (speedscope, Chrome, trace events).
//
// It never builds an object tree: a reader walks the document with `beginObject`/`nextKey`,
// `beginArray`/`nextElement`, reads the scalars it cares about and `skipValue`s the rest.
// Strings come back as byte ranges (straight from the input when they hold no escape), so a
// reader can intern them without making a `String`. Every error is a `ProfileError` carrying
// the byte offset. Nesting is limited (`maxDepth`), and nothing recurses on input, so a
// document of a million `[` cannot overflow the stack.

/// The bytes of one JSON string, already unescaped and valid UTF-8 (invalid input bytes are
/// replaced by U+FFFD). Points into the input, or into the scanner's scratch buffer when the
/// string had escapes or bad UTF-8: valid until the scanner reads the next string.
struct JSONString {
    public let base: UnsafeRawPointer
    public let count: Int
    /// Offset of the opening quote in the input.
    public let offset: Int

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Compares with an ASCII literal.
    @inline(__always)
    public func equals(_ s: StaticString) -> Bool {
        s.utf8CodeUnitCount == count && (count == 0 || memcmp(base, s.utf8Start, count) == 0)
    }
}

/// What the next value is, without consuming it.
enum JSONKind: Sendable, Equatable {
    case object, array, string, number, bool, null
    /// `}` or `]`
    case end
    case eof
    case invalid
}

/// Lexical tokens for `nextToken()`.
enum JSONToken: Sendable, Equatable {
    case beginObject, endObject, beginArray, endArray, comma, colon
    case string, number, bool(Bool), null, eof
}

/// Growable scratch memory owned by a scanner (decoded strings, number copies).
final class JSONScratch {
    var ptr: UnsafeMutableRawPointer
    var capacity: Int
    init() { capacity = 256; ptr = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 16) }
    deinit { ptr.deallocate() }
    func reserve(_ n: Int) {
        if n <= capacity { return }
        var c = capacity
        while c < n { c *= 2 }
        let p = UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 16)
        p.copyMemory(from: ptr, byteCount: capacity)
        ptr.deallocate()
        ptr = p
        capacity = c
    }
}

private let pow10Table: [Double] = {
    var t: [Double] = [1]
    for _ in 1...22 { t.append(t[t.count - 1] * 10) }
    return t
}()

struct JSONScanner {
    public let base: UnsafeRawPointer
    public let count: Int
    /// The next byte to read.
    public var pos: Int
    /// Open containers entered through `beginObject`/`beginArray`.
    public private(set) var depth = 0
    public let maxDepth: Int
    /// When true, containers still open at the end of the input close quietly (at an element
    /// boundary) and `truncated` is set: trace-event files are often cut.
    public var lenientEOF = false
    /// Set when the lenient mode closed containers at the end of the input.
    public private(set) var truncated = false
    /// Set when an error was the end of the input (a cut file) rather than a bad byte.
    public private(set) var hitEOF = false
    /// After `nextToken()` returned `.string` / `.number`.
    public private(set) var lastString: JSONString? = nil
    public private(set) var lastNumber: Double = 0

    private var first: [Bool]
    private var kinds: [UInt8]
    let scratch: JSONScratch

    /// `buffer` must outlive the scanner. A UTF-8 BOM is skipped.
    public init(_ buffer: UnsafeRawBufferPointer, maxDepth: Int = 512) {
        let scratch = JSONScratch()
        self.scratch = scratch
        self.maxDepth = max(1, maxDepth)
        count = buffer.count
        base = buffer.count > 0 ? buffer.baseAddress! : UnsafeRawPointer(scratch.ptr)
        pos = 0
        first = [Bool](repeating: true, count: self.maxDepth + 2)
        kinds = [UInt8](repeating: 0, count: self.maxDepth + 2)
        if count >= 3 && byte(0) == 0xEF && byte(1) == 0xBB && byte(2) == 0xBF { pos = 3 }
    }

    @inline(__always)
    public func byte(_ i: Int) -> UInt8 { base.load(fromByteOffset: i, as: UInt8.self) }

    public var atEnd: Bool { pos >= count }

    @inline(__always)
    public mutating func skipWhitespace() { pos = spaceEnd(from: pos) }

    /// The first offset at `i` or after that is not JSON whitespace.
    @inline(__always)
    private func spaceEnd(from i: Int) -> Int {
        var j = i
        while j < count {
            let c = byte(j)
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { j += 1 } else { break }
        }
        return j
    }

    // MARK: errors

    /// An error at the current position: "unexpected end of input" at the end, else the byte found.
    public mutating func failure(_ expected: String) -> ProfileError {
        if pos >= count {
            hitEOF = true
            return ProfileError("unexpected end of input (expected \(expected))", offset: count)
        }
        return ProfileError("expected \(expected), found \(JSONScanner.describe(byte(pos)))", offset: pos)
    }

    static func describe(_ c: UInt8) -> String {
        if c >= 0x20 && c < 0x7F { return "'\(Character(UnicodeScalar(c)))'" }
        return "byte 0x" + String(c, radix: 16).leftPad(2)
    }

    // MARK: looking ahead

    /// The kind of the next value (skips whitespace, consumes nothing).
    public mutating func peekKind() -> JSONKind {
        skipWhitespace()
        guard pos < count else { return .eof }
        switch byte(pos) {
        case 0x7B: return .object
        case 0x5B: return .array
        case 0x22: return .string
        case 0x74, 0x66: return .bool
        case 0x6E: return .null
        case 0x2D, 0x30...0x39: return .number
        case 0x7D, 0x5D: return .end
        default: return .invalid
        }
    }

    // MARK: containers

    public mutating func beginObject() throws {
        skipWhitespace()
        guard pos < count, byte(pos) == 0x7B else { throw failure("'{'") }
        try enter(0x7B)
    }

    public mutating func beginArray() throws {
        skipWhitespace()
        guard pos < count, byte(pos) == 0x5B else { throw failure("'['") }
        try enter(0x5B)
    }

    @inline(__always)
    private mutating func enter(_ kind: UInt8) throws {
        guard depth < maxDepth else {
            throw ProfileError("JSON nested deeper than \(maxDepth) levels", offset: pos)
        }
        pos += 1
        depth += 1
        first[depth] = true
        kinds[depth] = kind
    }

    /// Puts the scanner inside an array at nesting `depth`, at `pos` just past one of its
    /// elements: as if it had read the array up to there. For a second reader that takes over
    /// an array part-way (the caller must know `pos` is such a place).
    mutating func resumeArray(at pos: Int, depth: Int) {
        precondition(depth >= 1 && depth <= maxDepth)
        self.pos = pos
        self.depth = depth
        first[depth] = false
        kinds[depth] = 0x5B
    }

    /// Goes on inside the object being read at `pos`, just past one of its members that a
    /// fast path read by bytes (the caller must know `pos` is such a place).
    mutating func resumeObject(at pos: Int) {
        self.pos = pos
        first[depth] = false
    }

    /// Moves past the rest of the array being read, up to `end` just past its closing `]`:
    /// another reader read it.
    mutating func skipArrayRest(to end: Int) {
        pos = end
        depth -= 1
    }

    /// The next key of the object being read (the value follows: read or skip it), or nil
    /// after the closing `}`.
    public mutating func nextKey() throws -> JSONString? {
        guard try advance(close: 0x7D, closeText: "'\"' or '}'", separatorText: "',' or '}'",
                          itemText: "a key", trailingComma: false) else { return nil }
        guard byte(pos) == 0x22 else { throw failure("a string key") }
        let key = try readString()
        skipWhitespace()
        guard pos < count, byte(pos) == 0x3A else { throw failure("':'") }
        pos += 1
        return key
    }

    /// True when another element of the array being read follows (read or skip it); false
    /// after the closing `]`.
    public mutating func nextElement() throws -> Bool {
        try advance(close: 0x5D, closeText: "',' or ']'", separatorText: "',' or ']'",
                    itemText: "a value", trailingComma: true)
    }

    /// Moves to the next item of the container being read: past the closing byte (false) or
    /// past the separating comma (true, at the item's first byte). A cut file ends the
    /// container when lenient; a trailing comma does too for arrays.
    @inline(__always)
    private mutating func advance(close: UInt8, closeText: String, separatorText: String, itemText: String,
                                  trailingComma: Bool) throws -> Bool {
        skipWhitespace()
        guard pos < count else {
            if lenientEOF { truncated = true; depth = max(0, depth - 1); return false }
            throw failure(closeText)
        }
        let c = byte(pos)
        if c == close { pos += 1; depth -= 1; return false }
        if !first[depth] {
            guard c == 0x2C else { throw failure(separatorText) }
            pos += 1
            skipWhitespace()
            guard pos < count else {
                if lenientEOF { truncated = true; depth = max(0, depth - 1); return false }
                throw failure(itemText)
            }
            if trailingComma && byte(pos) == close && lenientEOF { pos += 1; depth -= 1; return false }
        } else {
            first[depth] = false
        }
        return true
    }

    // MARK: scalars

    /// Reads a string value (see `JSONString` for how long its bytes stay valid).
    public mutating func readString() throws -> JSONString {
        skipWhitespace()
        guard pos < count, byte(pos) == 0x22 else { throw failure("a string") }
        let quote = pos
        let start = pos + 1
        var i = start
        var ascii = true
        while i < count {
            // Up to the first quote, backslash or (while the text is ASCII so far) byte of a
            // multi-byte character.
            i = quoteOrBackslash(from: i, orHighByte: ascii)
            guard i < count else { break }
            let c = byte(i)
            if c == 0x22 {
                pos = i + 1
                if ascii || JSONScanner.isValidUTF8(base + start, i - start) {
                    return JSONString(base: base + start, count: i - start, offset: quote)
                }
                return repairUTF8(base + start, i - start, offset: quote, scratchOffset: 0)
            }
            if c == 0x5C { return try readEscapedString(quote) }
            if c >= 0x80 { ascii = false }
            i += 1
        }
        pos = count
        hitEOF = true
        throw ProfileError("unterminated string (input ends inside it)", offset: quote)
    }

    /// Convenience: a string value as a Swift `String`.
    public mutating func readStringValue() throws -> String { try readString().string }

    private mutating func readEscapedString(_ quote: Int) throws -> JSONString {
        var i = quote + 1
        var out = 0
        var ascii = true
        // Decoded text is never longer than the source text.
        var end = i
        while end < count {
            let c = byte(end)
            if c == 0x22 { break }
            end += c == 0x5C ? 2 : 1
        }
        scratch.reserve(end - i + 8)
        let dst = scratch.ptr
        @inline(__always) func put(_ b: UInt8) { dst.storeBytes(of: b, toByteOffset: out, as: UInt8.self); out += 1 }
        while true {
            guard i < count else {
                pos = count
                hitEOF = true
                throw ProfileError("unterminated string (input ends inside it)", offset: quote)
            }
            let c = byte(i)
            if c == 0x22 { i += 1; break }
            if c != 0x5C {
                if c >= 0x80 { ascii = false }
                put(c); i += 1; continue
            }
            guard i + 1 < count else {
                pos = count; hitEOF = true
                throw ProfileError("unterminated string (input ends inside it)", offset: quote)
            }
            let e = byte(i + 1)
            switch e {
            case 0x22, 0x5C, 0x2F: put(e); i += 2
            case 0x62: put(0x08); i += 2
            case 0x66: put(0x0C); i += 2
            case 0x6E: put(0x0A); i += 2
            case 0x72: put(0x0D); i += 2
            case 0x74: put(0x09); i += 2
            case 0x75:
                guard var u = hex4(i + 2) else {
                    pos = i
                    if i + 6 > count { hitEOF = true }
                    throw ProfileError("bad \\u escape in string (expected 4 hex digits)", offset: i)
                }
                i += 6
                if u >= 0xD800 && u < 0xDC00 {
                    // High surrogate: a low one must follow, else U+FFFD.
                    if i + 1 < count, byte(i) == 0x5C, byte(i + 1) == 0x75, let lo = hex4(i + 2),
                       lo >= 0xDC00 && lo < 0xE000 {
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                        i += 6
                    } else {
                        u = 0xFFFD
                    }
                } else if u >= 0xDC00 && u < 0xE000 {
                    u = 0xFFFD
                }
                if u < 0x80 { put(UInt8(u)) }
                else if u < 0x800 { put(UInt8(0xC0 | (u >> 6))); put(UInt8(0x80 | (u & 0x3F))) }
                else if u < 0x10000 {
                    put(UInt8(0xE0 | (u >> 12))); put(UInt8(0x80 | ((u >> 6) & 0x3F))); put(UInt8(0x80 | (u & 0x3F)))
                } else {
                    put(UInt8(0xF0 | (u >> 18))); put(UInt8(0x80 | ((u >> 12) & 0x3F)))
                    put(UInt8(0x80 | ((u >> 6) & 0x3F))); put(UInt8(0x80 | (u & 0x3F)))
                }
            default:
                pos = i
                throw ProfileError("bad escape \\\(JSONScanner.describe(e)) in string", offset: i)
            }
        }
        pos = i
        if ascii || JSONScanner.isValidUTF8(UnsafeRawPointer(dst), out) {
            return JSONString(base: UnsafeRawPointer(dst), count: out, offset: quote)
        }
        // Repair into the upper part of the scratch buffer (the decoded text stays below).
        return repairUTF8(UnsafeRawPointer(dst), out, offset: quote, scratchOffset: out)
    }

    @inline(__always)
    private func hex4(_ i: Int) -> UInt32? {
        guard i + 4 <= count else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = byte(i + k)
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }

    /// Well-formed UTF-8 (Unicode table 3-7): no overlongs, surrogates or code points past U+10FFFF.
    static func isValidUTF8(_ p: UnsafeRawPointer, _ n: Int) -> Bool {
        var i = 0
        while i < n {
            let c = p.load(fromByteOffset: i, as: UInt8.self)
            if c < 0x80 { i += 1; continue }
            @inline(__always) func b(_ k: Int) -> UInt8 { i + k < n ? p.load(fromByteOffset: i + k, as: UInt8.self) : 0 }
            @inline(__always) func cont(_ x: UInt8) -> Bool { x & 0xC0 == 0x80 }
            switch c {
            case 0xC2...0xDF: guard cont(b(1)) else { return false }; i += 2
            case 0xE0: guard (0xA0...0xBF).contains(b(1)), cont(b(2)) else { return false }; i += 3
            case 0xE1...0xEC, 0xEE, 0xEF: guard cont(b(1)), cont(b(2)) else { return false }; i += 3
            case 0xED: guard (0x80...0x9F).contains(b(1)), cont(b(2)) else { return false }; i += 3
            case 0xF0: guard (0x90...0xBF).contains(b(1)), cont(b(2)), cont(b(3)) else { return false }; i += 4
            case 0xF1...0xF3: guard cont(b(1)), cont(b(2)), cont(b(3)) else { return false }; i += 4
            case 0xF4: guard (0x80...0x8F).contains(b(1)), cont(b(2)), cont(b(3)) else { return false }; i += 4
            default: return false
            }
        }
        return true
    }

    /// Copies `n` bytes with invalid UTF-8 replaced by U+FFFD into scratch at `scratchOffset`.
    private func repairUTF8(_ p: UnsafeRawPointer, _ n: Int, offset: Int, scratchOffset: Int) -> JSONString {
        let fixed = Array(String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self).utf8)
        scratch.reserve(scratchOffset + fixed.count + 8)
        let dst = scratch.ptr + scratchOffset
        fixed.withUnsafeBytes { if $0.count > 0 { dst.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        return JSONString(base: UnsafeRawPointer(dst), count: fixed.count, offset: offset)
    }

    /// Reads a number. Integers and plain decimals up to 15 significant digits are converted
    /// exactly by a fast path; the rest go through `strtod`. May return ±infinity for huge values.
    public mutating func readNumber() throws -> Double {
        skipWhitespace()
        let start = pos
        var i = pos
        var neg = false
        if i < count && byte(i) == 0x2D { neg = true; i += 1 }
        var mant: UInt64 = 0
        var digits = 0
        let intStart = i
        while i < count {
            let d = byte(i) &- 0x30
            if d >= 10 { break }
            if digits < 19 { mant = mant &* 10 &+ UInt64(d) }
            digits += 1
            i += 1
        }
        if i == intStart { pos = i; throw failure("a number") }
        var frac = 0
        if i < count && byte(i) == 0x2E {
            i += 1
            let fs = i
            while i < count {
                let d = byte(i) &- 0x30
                if d >= 10 { break }
                if digits < 19 { mant = mant &* 10 &+ UInt64(d) }
                digits += 1
                frac += 1
                i += 1
            }
            if i == fs { pos = i; throw failure("a digit after '.'") }
        }
        var hasExp = false
        if i < count && (byte(i) == 0x65 || byte(i) == 0x45) {
            hasExp = true
            i += 1
            if i < count && (byte(i) == 0x2B || byte(i) == 0x2D) { i += 1 }
            let es = i
            while i < count && byte(i) &- 0x30 < 10 { i += 1 }
            if i == es { pos = i; throw failure("a digit in the exponent") }
        }
        pos = i
        if !hasExp && digits <= 15 {
            var v = Double(mant)
            if frac > 0 { v /= pow10Table[frac] }
            return neg ? -v : v
        }
        let n = i - start
        scratch.reserve(n + 1)
        scratch.ptr.copyMemory(from: base + start, byteCount: n)
        scratch.ptr.storeBytes(of: 0, toByteOffset: n, as: UInt8.self)
        return strtod(scratch.ptr.assumingMemoryBound(to: CChar.self), nil)
    }

    /// Reads on in the array being read (after `beginArray`, or `nextElement` and its value)
    /// while its elements are numbers, each read by `readNumber` and appended to `out`, at most
    /// `limit` of them: for the long number columns of some formats, where the dispatch of a
    /// `nextElement` and a value per element was most of the read. Returns true past the
    /// array's `]`; else `pos` is just past the last element read (where it was if none), for
    /// `nextElement` to go on with the next one (and with any error a cut or a bad element gives).
    mutating func appendNumbers(to out: inout [Double], limit: Int) -> Bool {
        var i = pos, n = 0
        var isFirst = first[depth]
        while n < limit {
            var j = spaceEnd(from: i)
            guard j < count else { break }
            if byte(j) == 0x5D {
                pos = j + 1
                depth -= 1
                return true
            }
            if !isFirst {
                guard byte(j) == 0x2C else { break }
                j = spaceEnd(from: j + 1)
            }
            guard j < count, byte(j) &- 0x30 < 10 || byte(j) == 0x2D else { break }
            pos = j
            // The element must end before the input does (a cut is the general path's).
            guard let v = try? readNumber(), pos < count else { break }
            let c = byte(pos)
            guard c == 0x2C || c == 0x5D || c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { break }
            out.append(v)
            n += 1
            isFirst = false
            i = pos
        }
        pos = i
        if n > 0 { first[depth] = false }
        return false
    }

    /// Reads an integer within ±2^53 (a JSON number with no fraction); anything else is an error.
    public mutating func readInt() throws -> Int {
        skipWhitespace()
        let at = pos
        let v = try readNumber()
        guard v.isFinite, v == v.rounded(), abs(v) <= 9_007_199_254_740_992 else {
            throw ProfileError("expected an integer, found \(v)", offset: at)
        }
        return Int(v)
    }

    /// Reads a number, or a string that holds a number (some trace writers quote `ts` and `tid`).
    /// Returns nil (having consumed the value) for anything else.
    public mutating func readLooseNumber() throws -> Double? {
        switch peekKind() {
        case .number: return try readNumber()
        case .string:
            let s = try readString()
            var sub = JSONScanner(s.bytes)
            sub.skipWhitespace()
            guard let v = try? sub.readNumber() else { return nil }
            sub.skipWhitespace()
            return sub.atEnd ? v : nil
        default:
            try skipValue()
            return nil
        }
    }

    public mutating func readBool() throws -> Bool {
        skipWhitespace()
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw failure("true or false")
    }

    /// Consumes `null` and returns true if it is next; otherwise consumes nothing.
    public mutating func readNull() -> Bool {
        skipWhitespace()
        return matchLiteral("null")
    }

    @inline(__always)
    private mutating func matchLiteral(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard pos + n <= count, memcmp(base + pos, s.utf8Start, n) == 0 else { return false }
        pos += n
        return true
    }

    // MARK: skipping

    /// Skips one value of any kind, checking that brackets match. Iterative: nesting is bounded
    /// by `maxDepth`, not by the stack.
    public mutating func skipValue() throws {
        skipWhitespace()
        guard pos < count else { throw failure("a value") }
        let c = byte(pos)
        switch c {
        case 0x22: try skipString()
        case 0x7B, 0x5B: try skipContainer()
        case 0x74: if !matchLiteral("true") { throw failure("a value") }
        case 0x66: if !matchLiteral("false") { throw failure("a value") }
        case 0x6E: if !matchLiteral("null") { throw failure("a value") }
        case 0x2D, 0x30...0x39: _ = try readNumber()
        default: throw failure("a value")
        }
    }

    /// The high bit of each byte of `x` that is zero, and no other bit.
    @inline(__always)
    static func zeroBytes(_ x: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((x & low7) &+ low7) | x | low7)
    }

    /// Whether the input holds `text` at `i`, for the readers' compact fast paths. Compared in
    /// place, eight bytes at a time: their keys are a few bytes each, for which a call to
    /// `memcmp` costs more than the comparison.
    @inline(__always)
    func matches(_ i: Int, _ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard i >= 0, i + n <= count else { return false }
        let t = UnsafeRawPointer(text.utf8Start)
        var k = 0
        while k + 8 <= n {
            if base.loadUnaligned(fromByteOffset: i + k, as: UInt64.self) != t.loadUnaligned(fromByteOffset: k, as: UInt64.self) { return false }
            k += 8
        }
        while k < n {
            if base.load(fromByteOffset: i + k, as: UInt8.self) != t.load(fromByteOffset: k, as: UInt8.self) { return false }
            k += 1
        }
        return true
    }

    /// The offset of the quote that ends a plain string (ASCII, no escape) whose first byte is
    /// at `i`, for the compact fast paths; nil when a backslash or a byte from 0x80 comes first
    /// or the input ends inside it.
    @inline(__always)
    func plainStringEnd(from i: Int) -> Int? {
        var j = quoteOrBackslash(from: i, orHighByte: true)
        while j < count {
            let c = byte(j)
            if c == 0x22 { return j }
            if c == 0x5C || c >= 0x80 { return nil }
            j += 1
        }
        return nil
    }

    /// Where the first quote or backslash (or, with `orHighByte`, byte from 0x80) at `i` or
    /// after is, eight bytes at a time; or the last up to eight bytes' start, left to the caller.
    @inline(__always)
    private func quoteOrBackslash(from start: Int, orHighByte: Bool) -> Int {
        var i = start
        while i + 8 <= count {
            let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            var m = JSONScanner.zeroBytes(w ^ 0x2222_2222_2222_2222) | JSONScanner.zeroBytes(w ^ 0x5C5C_5C5C_5C5C_5C5C)
            if orHighByte { m |= w & 0x8080_8080_8080_8080 }
            if m != 0 { return i + m.trailingZeroBitCount >> 3 }
            i += 8
        }
        return i
    }

    private mutating func skipString() throws {
        let quote = pos
        var i = pos + 1
        while i < count {
            i = quoteOrBackslash(from: i, orHighByte: false)
            guard i < count else { break }
            let c = byte(i)
            if c == 0x22 { pos = i + 1; return }
            i += c == 0x5C ? 2 : 1
        }
        pos = count
        hitEOF = true
        throw ProfileError("unterminated string (input ends inside it)", offset: quote)
    }

    private mutating func skipContainer() throws {
        var d = 0
        var i = pos
        while i < count {
            let c = byte(i)
            switch c {
            case 0x22:
                i += 1
                while i < count {
                    let s = byte(i)
                    if s == 0x22 { break }
                    i += s == 0x5C ? 2 : 1
                }
                i += 1
            case 0x7B, 0x5B:
                guard depth + d < maxDepth else {
                    pos = i
                    throw ProfileError("JSON nested deeper than \(maxDepth) levels", offset: i)
                }
                d += 1
                kinds[depth + d] = c
                i += 1
            case 0x7D, 0x5D:
                guard d > 0, kinds[depth + d] == c - 2 else {
                    pos = i
                    throw ProfileError("mismatched \(JSONScanner.describe(c))", offset: i)
                }
                d -= 1
                i += 1
                if d == 0 { pos = i; return }
            default:
                i += 1
            }
        }
        pos = count
        throw failure(kinds[depth + max(d, 1)] == 0x7B ? "'}'" : "']'")
    }

    // MARK: tokens

    /// The next lexical token (punctuation included). Does not track nesting: use either this
    /// or the structured calls above for one container. `.string` / `.number` values are in
    /// `lastString` / `lastNumber`.
    public mutating func nextToken() throws -> JSONToken {
        skipWhitespace()
        guard pos < count else { return .eof }
        let c = byte(pos)
        switch c {
        case 0x7B: pos += 1; return .beginObject
        case 0x7D: pos += 1; return .endObject
        case 0x5B: pos += 1; return .beginArray
        case 0x5D: pos += 1; return .endArray
        case 0x2C: pos += 1; return .comma
        case 0x3A: pos += 1; return .colon
        case 0x22: lastString = try readString(); return .string
        case 0x74, 0x66: return .bool(try readBool())
        case 0x6E:
            if readNull() { return .null }
            throw failure("a value")
        case 0x2D, 0x30...0x39: lastNumber = try readNumber(); return .number
        default: throw failure("a JSON token")
        }
    }
}

// MARK: - whole input

/// A whole input in one malloc'd block (sized from the file when it is a regular file, grown by
/// `realloc` otherwise), so reading a 100 MB file costs 100 MB, not a doubling array's 2x.
///
/// `deinit` is the only place that frees `base`: once `base` is set every stored property is
/// initialised, so an error thrown from `init` still runs `deinit` (freeing in the error paths
/// too was a double free on any cut gzip'd JSON file).
///
/// A plain regular file (not gzip, not re-encoded) is mapped read-only instead: no copy, no
/// fresh memory to zero, and a reader walking it front to back can hand back the pages it has
/// passed (`release(below:)`), so the document need not stay resident while the model grows.
final class JSONInput {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    /// The length of the file mapping at `base`, 0 when `base` is malloc'd.
    private var mapped = 0
    /// Everything below this offset was handed back to the kernel.
    private var released = 0
    /// The mapping's slot in the SIGBUS guard (`perftop_guard_mapping`), -1 when not mapped.
    private var guardSlot: Int32 = -1

    /// Files from this size on are mapped; below it a copy is as cheap.
    static let mapFrom = 1 << 20

    init(_ source: ByteSource, limit: Int? = nil) throws {
        let limit = limit ?? MemoryBudget.limit
        if let (m, size, slot) = JSONInput.mapGuarded(source) {
            base = m
            count = size
            mapped = size
            guardSlot = slot
            return
        }
        var cap = min(1 << 20, limit)
        if let size = source.sizeHint { cap = size + 4096 }
        try MemoryBudget.check(cap, offset: 0)
        guard let b = malloc(cap) else { throw MemoryBudget.failure(cap, offset: 0) }
        base = b
        while true {
            if count == cap {
                if cap >= limit { throw MemoryBudget.failure(2 * cap, offset: count) }     // what growing on would take
                let next = min(cap * 2, limit)
                guard let nb = realloc(base, next) else { throw MemoryBudget.failure(next, offset: count) }
                base = nb
                cap = next
            }
            let n = try source.read(into: UnsafeMutableRawBufferPointer(start: base + count, count: cap - count))
            if n == 0 { break }
            count += n
        }
    }

    private init(mapping m: UnsafeMutableRawPointer, size: Int, slot: Int32) {
        base = m
        count = size
        mapped = size
        guardSlot = slot
    }

    /// The input mapped when it is a plain file that can be, else nil (nothing was read from
    /// `source` then): for readers that keep their own way of reading anything else (pprof,
    /// whose gzip'd files inflate into memory).
    static func mapping(_ source: ByteSource) -> JSONInput? {
        mapGuarded(source).map { JSONInput(mapping: $0.base, size: $0.size, slot: $0.slot) }
    }

    private static func mapGuarded(_ source: ByteSource) -> (base: UnsafeMutableRawPointer, size: Int, slot: Int32)? {
        guard let file = (source as? PrefixedSource)?.untouchedFile, file.size >= JSONInput.mapFrom,
              (try? MemoryBudget.check(file.size, offset: 0)) != nil, let m = JSONInput.map(file) else { return nil }
        let slot = perftop_guard_mapping(m, file.size)
        if slot < 0 { munmap(m, file.size); return nil }
        return (m, file.size, slot)
    }

    deinit {
        if mapped > 0 {
            perftop_unguard_mapping(guardSlot)
            munmap(base, mapped)
        } else {
            free(base)
        }
    }

    /// Runs a reader over the input, keeping it alive meanwhile. A mapped file cut by another
    /// process while it was read shows zeros past its new end (the guard), on which a reader
    /// stops or reads wrong values: either way the read fails, saying so.
    func scan<T>(_ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        let result: T
        do {
            result = try withExtendedLifetime(self) { try body(buffer) }
        } catch {
            if wasCut { throw JSONInput.cutError(count) }
            throw error
        }
        if wasCut { throw JSONInput.cutError(count) }
        return result
    }

    /// Whether a page of the mapped file was past its end when read.
    var wasCut: Bool { mapped > 0 && perftop_mapping_was_cut(guardSlot) != 0 }

    private static func cutError(_ size: Int) -> ProfileError {
        ProfileError("the file was cut short by another process while it was read (it had \(size) bytes when opened)")
    }

    /// The whole file mapped, or nil (it cannot be, or it no longer starts with the bytes the
    /// sniffer read: changed meanwhile, so it is read as a stream after all).
    private static func map(_ file: (file: FileSource, prefix: [UInt8], size: Int)) -> UnsafeMutableRawPointer? {
        guard let p = mmap(nil, file.size, PROT_READ, MAP_PRIVATE, file.file.fd, 0), p != MAP_FAILED else { return nil }
        let same = file.prefix.count <= file.size && file.prefix.withUnsafeBytes { memcmp(p, $0.baseAddress!, $0.count) == 0 }
        if !same { munmap(p, file.size); return nil }
        _ = madvise(p, file.size, Int32(MADV_SEQUENTIAL))
        return p
    }

    /// Hands the mapped pages below `offset` back to the kernel (they stay in the page cache, and
    /// come back from the file if read again, so this never changes what is read). Nothing for
    /// a malloc'd input, whose pages are the only copy.
    @inline(__always)
    func release(below offset: Int) {
        if mapped > 0 && offset - released >= JSONInput.releaseStep { releasePages(below: offset) }
    }

    static let releaseStep = 4 << 20

    /// Hands back the whole mapped pages within `start..<end`, leaving `release(below:)`'s mark
    /// alone: for a second reader walking a later part of the input on another thread. Returns
    /// where the pages handed back end, the `start` of the next call.
    func release(from start: Int, below end: Int) -> Int {
        guard mapped > 0 else { return end }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = (start + page - 1) / page * page, hi = min(end, count) / page * page
        guard hi > lo else { return start }
        _ = madvise(base + lo, hi - lo, Int32(MADV_DONTNEED))
        return hi
    }

    /// Hands back every mapped page, for a reader about to walk the input again from the start
    /// (pprof's samples, after a first pass that only found where they are).
    func releaseAll() {
        guard mapped > 0 else { return }
        _ = madvise(base, mapped, Int32(MADV_DONTNEED))
        released = 0
    }

    private func releasePages(below offset: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = min(offset, count) / page * page
        guard end > released else { return }
        _ = madvise(base + released, end - released, Int32(MADV_DONTNEED))
        released = end
    }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

// MARK: - sniffing helpers

/// What the first bytes of a JSON document say, for `sniff`: the container and, for an object,
/// the top-level keys seen before the prefix ran out (with the offset of each value).
struct JSONPrefix {
    enum Container { case object, array, none }
    var container: Container = .none
    var keys: [(key: String, valueOffset: Int)] = []
    /// True when the whole top-level object was seen.
    var complete = false

    init(_ p: UnsafeRawBufferPointer) {
        var s = JSONScanner(p, maxDepth: 64)
        switch s.peekKind() {
        case .array: container = .array
        case .object:
            container = .object
            do {
                try s.beginObject()
                while let k = try s.nextKey() {
                    let key = k.string
                    s.skipWhitespace()
                    keys.append((key, s.pos))
                    try s.skipValue()
                }
                complete = true
            } catch {}
        default: break
        }
    }

    func has(_ key: String) -> Bool { keys.contains { $0.key == key } }

    func offset(of key: String) -> Int? { keys.first { $0.key == key }?.valueOffset }

    /// Keys of the first object in the array at `offset` (or of the top-level array's first
    /// element when `offset` is nil), as far as the prefix shows them, and whether all were seen.
    static func firstElementKeys(_ p: UnsafeRawBufferPointer, at offset: Int? = nil) -> (keys: [String], complete: Bool) {
        var s = JSONScanner(p, maxDepth: 64)
        if let offset { s.pos = offset }
        var keys: [String] = []
        do {
            try s.beginArray()
            guard try s.nextElement() else { return ([], true) }
            guard s.peekKind() == .object else { return ([], true) }
            try s.beginObject()
            while let k = try s.nextKey() {
                keys.append(k.string)
                try s.skipValue()
            }
            return (keys, true)
        } catch {
            return (keys, false)
        }
    }

    /// Keys of the object at `offset`, as far as the prefix shows them.
    static func objectKeys(_ p: UnsafeRawBufferPointer, at offset: Int) -> (keys: [String], complete: Bool) {
        var s = JSONScanner(p, maxDepth: 64)
        s.pos = offset
        var keys: [String] = []
        do {
            guard s.peekKind() == .object else { return ([], true) }
            try s.beginObject()
            while let k = try s.nextKey() {
                keys.append(k.string)
                try s.skipValue()
            }
            return (keys, true)
        } catch {
            return (keys, false)
        }
    }

    /// The string value at `offset`, if there is one.
    static func string(_ p: UnsafeRawBufferPointer, at offset: Int) -> String? {
        var s = JSONScanner(p, maxDepth: 4)
        s.pos = offset
        return try? s.readStringValue()
    }
}
