/// Splits bytes fed in chunks of any size into lines (without the `\n`). A partial last line
/// waits for the rest; a UTF-8 BOM at the very start is dropped, even when it arrives split
/// across chunks. Shared by the line-based readers (folded, austin, perf script).
public struct LineSplitter {
    private var carry: [UInt8] = []
    private var atStart = true

    /// `bom: false` for input that starts in the middle of a file (no BOM can be there).
    public init(bom: Bool = true) { atStart = bom }

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
        guard !carry.isEmpty else { return }
        let last = carry
        carry = []
        last.withUnsafeBytes { b in if let base = b.baseAddress { line(base, b.count) } }
    }

    private mutating func split(_ input: UnsafeRawBufferPointer, _ line: (UnsafeRawPointer, Int) -> Void) {
        guard var p = input.baseAddress, input.count > 0 else { return }
        var n = input.count
        if !carry.isEmpty {
            guard let nl = memchr(p, 0x0A, n) else { carry.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n)); return }
            let k = UnsafeRawPointer(nl) - p
            carry.append(contentsOf: UnsafeRawBufferPointer(start: p, count: k))
            let joined = carry
            carry = []
            joined.withUnsafeBytes { b in line(b.baseAddress ?? p, b.count) }
            p += k + 1; n -= k + 1
        }
        while n > 0 {
            guard let nl = memchr(p, 0x0A, n) else { break }
            let k = UnsafeRawPointer(nl) - p
            line(p, k)
            p += k + 1; n -= k + 1
        }
        if n > 0 { carry.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n)) }
    }
}
