/// Splits bytes fed in chunks of any size into lines (without the `\n`). A partial last line
/// waits for the rest; a UTF-8 BOM at the very start is dropped, even when it arrives split
/// across chunks. Shared by the line-based readers (folded, austin, perf script).
///
/// A line longer than `maxLength` is never held: its bytes are dropped up to the next newline
/// and `line` is called once with length `LineSplitter.overlong` (-1), so a stream without
/// newlines (`/dev/zero`, a broken writer) costs `maxLength`, not all memory. Readers count
/// it as a bad line (live) or fail on it with its line number (files).
public struct LineSplitter {
    private var carry: [UInt8] = []
    private var atStart = true
    /// Inside an overlong line already reported: dropping bytes up to the next newline.
    private var dropping = false
    public let maxLength: Int

    /// The length passed for a line over `maxLength`.
    public static let overlong = -1
    /// `--max-line`: the longest line the line-based readers accept.
    nonisolated(unsafe) public static var defaultMaxLength = 8 << 20

    /// `bom: false` for input that starts in the middle of a file (no BOM can be there).
    public init(bom: Bool = true, maxLength: Int? = nil) {
        atStart = bom
        self.maxLength = max(16, maxLength ?? LineSplitter.defaultMaxLength)
    }

    /// The error a file reader reports for an overlong line.
    public static func overlongError(line: Int) -> ProfileError {
        ProfileError("line longer than \(MemoryBudget.describe(defaultMaxLength)) (a larger --max-line reads it)", line: line)
    }

    /// The line without leading blanks and trailing blanks or `\r`: (start, end), or nil when
    /// nothing is left.
    @inline(__always)
    public static func trimmed(_ p: UnsafeRawPointer, _ length: Int) -> (start: Int, end: Int)? {
        var end = length
        while end > 0 {
            let c = p.load(fromByteOffset: end - 1, as: UInt8.self)
            if c == 0x20 || c == 0x0D || c == 0x09 { end -= 1 } else { break }
        }
        var start = 0
        while start < end {
            let c = p.load(fromByteOffset: start, as: UInt8.self)
            if c == 0x20 || c == 0x09 { start += 1 } else { break }
        }
        return start < end ? (start, end) : nil
    }

    /// Calls `line` for every complete line in `input` (and the carried-over start of the first).
    public mutating func feed(_ input: UnsafeRawBufferPointer, _ line: (UnsafeRawPointer, Int) -> Void) {
        guard input.count > 0 else { return }
        if atStart {
            // Hold back until the first three bytes are known, then drop a BOM.
            carry.append(contentsOf: input)
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            if carry.count < 3 && carry.elementsEqual(bom.prefix(carry.count)) { return }
            atStart = false
            let head = carry.starts(with: bom) ? Array(carry.dropFirst(3)) : carry
            carry = []
            head.withUnsafeBytes { split($0, line) }
            return
        }
        split(input, line)
    }

    /// Ends the input: a last line without a newline still counts.
    public mutating func finish(_ line: (UnsafeRawPointer, Int) -> Void) {
        atStart = false
        dropping = false
        guard !carry.isEmpty else { return }
        let last = carry
        carry = []
        last.withUnsafeBytes { b in if let base = b.baseAddress { line(base, b.count) } }
    }

    private mutating func split(_ input: UnsafeRawBufferPointer, _ line: (UnsafeRawPointer, Int) -> Void) {
        guard var p = input.baseAddress, input.count > 0 else { return }
        var n = input.count
        if dropping {
            guard let nl = memchr(p, 0x0A, n) else { return }
            let k = UnsafeRawPointer(nl) - p
            dropping = false
            p += k + 1; n -= k + 1
        } else if !carry.isEmpty {
            guard let nl = memchr(p, 0x0A, n) else { hold(p, n, line); return }
            let k = UnsafeRawPointer(nl) - p
            if carry.count + k > maxLength {
                carry = []
                line(p, LineSplitter.overlong)
            } else {
                carry.append(contentsOf: UnsafeRawBufferPointer(start: p, count: k))
                let joined = carry
                carry = []
                joined.withUnsafeBytes { b in line(b.baseAddress ?? p, b.count) }
            }
            p += k + 1; n -= k + 1
        }
        while n > 0 {
            guard let nl = memchr(p, 0x0A, n) else { break }
            let k = UnsafeRawPointer(nl) - p
            line(p, k > maxLength ? LineSplitter.overlong : k)
            p += k + 1; n -= k + 1
        }
        if n > 0 { hold(p, n, line) }
    }

    /// Carries the start of a line over to the next chunk, unless that makes it overlong.
    private mutating func hold(_ p: UnsafeRawPointer, _ n: Int, _ line: (UnsafeRawPointer, Int) -> Void) {
        if carry.count + n > maxLength {
            carry = []
            dropping = true
            line(p, LineSplitter.overlong)
            return
        }
        carry.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
    }
}

/// A text reader's parser, fed one line at a time; it counts its own lines.
protocol LineParser: AnyObject {
    var lineNumber: Int { get }
    func line(_ text: UnsafeRawBufferPointer) throws
}

extension LineParser {
    /// Feeds every line of `source` to `line(_:)`. The first error ends the read; a line over
    /// `--max-line` is an error at its line number, never handed on.
    func readLines(from source: ByteSource) throws {
        var splitter = LineSplitter()
        var failure: ProfileError? = nil
        let handle: (UnsafeRawPointer, Int) -> Void = { ptr, n in
            guard failure == nil else { return }
            guard n != LineSplitter.overlong else {
                failure = LineSplitter.overlongError(line: self.lineNumber + 1); return
            }
            do { try self.line(UnsafeRawBufferPointer(start: ptr, count: n)) }
            catch let e as ProfileError { failure = e }
            catch { failure = ProfileError("\(error)", line: self.lineNumber) }
        }
        try source.forEachChunk { chunk in
            splitter.feed(chunk, handle)
            if let failure { throw failure }
        }
        splitter.finish(handle)
        if let failure { throw failure }
    }
}
