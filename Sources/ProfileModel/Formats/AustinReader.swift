/// Austin text samples (FORMATS.md §5.1): `P<pid>;T[<iid>:]<tid>[;file:function:line]* METRIC`,
/// one line per sample (not aggregated), with `# key: value` metadata before and after.
/// The metric is µs of wall/cpu time, a (possibly negative) RSS delta in bytes in memory mode
/// (booked as allocated and freed bytes), or `time,idle,memory` in full mode.
public enum AustinReader: ProfileReader {
    public static let mergesLinesWhileReading = true
    public static let name = "austin"
    public static let title = "austin text samples"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        // Decided by the first lines; a NUL further on is a bad line (counted), not binary data.
        var seen = 0
        var result: SniffResult? = nil
        prefix.forEachLine(complete: complete) { l in
            let t = l.drop(while: { $0 == " " || $0 == "\t" })
            if t.isEmpty { return true }
            seen += 1
            if t.hasPrefix("#") {
                if t.dropFirst().drop(while: { $0 == " " }).hasPrefix("austin:") { result = .yes; return false }
                return seen < 200
            }
            result = looksLikeSample(t) && !t.utf8.contains(0) ? .yes : .no
            return false
        }
        if let result { return result }
        return complete ? .no : .needMore
    }

    /// `P<digits>;T`
    static func looksLikeSample(_ t: Substring) -> Bool {
        let u = Array(t.utf8.prefix(40))
        guard u.count >= 4, u[0] == 0x50 else { return false }
        var i = 1
        while i < u.count && u[i] >= 0x30 && u[i] <= 0x39 { i += 1 }
        return i > 1 && i + 1 < u.count && u[i] == 0x3B && u[i + 1] == 0x54
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let parser = AustinParser()
        parser.mergeLines = options.mergeLines
        if let seed = options.seedFrames { parser.builder.frames = seed }
        try source.forEachChunk {
            parser.feed($0)
            if parser.overlongLine > 0 { throw LineSplitter.overlongError(line: parser.overlongLine) }
        }
        return try parser.finish()
    }
}

/// How austin's per-sample values map onto metrics, shared by the text and MOJO readers.
/// The layout follows the `mode` metadata; a value the mode does not announce adds its metric
/// when it first appears. Every layout ends with `samples/count` (one per sample), and the
/// default metric is the mode's own (time, or allocations in memory mode).
/// austin's memory value is a signed RSS delta: growth is booked as `allocated` and shrinkage
/// as `freed` (both positive bytes), so that no share is over 100% as it is when frees are
/// subtracted from a net total.
struct AustinMetrics {
    var time = -1, idle = -1, memory = -1, freed = -1, samples = -1
    static let allocated = ValueType("allocated", "bytes")
    static let freedType = ValueType("freed", "bytes")
    var configured = false

    mutating func configure(mode: String?, full: Bool, builder b: ProfileBuilder) {
        configured = true
        let m = mode?.lowercased()
        if m == "memory" {
            b.setMetric(0, Self.allocated)
            memory = 0
            freed = b.addMetric(Self.freedType)
        } else {
            b.setMetric(0, ValueType("time", "microseconds"))
            time = 0
            if m == "full" || full {
                idle = b.addMetric(ValueType("idle", "microseconds"))
                memory = b.addMetric(Self.allocated)
                freed = b.addMetric(Self.freedType)
            }
        }
        samples = b.addMetric(ValueType("samples", "count"))
        b.defaultMetric = 0
    }

    /// One sample ending at `node`. `idle` (full mode) also books the sample's time as idle time.
    @inline(__always)
    mutating func add(_ node: Int32, time t: Int64?, memory mem: Int64?, idle: Bool, builder b: ProfileBuilder) {
        if let t {
            if time < 0 { time = b.addMetric(ValueType("time", "microseconds")) }
            b.addSelf(node, metric: time, Double(t))
            if idle {
                if self.idle < 0 { self.idle = b.addMetric(ValueType("idle", "microseconds")) }
                b.addSelf(node, metric: self.idle, Double(t))
            }
        }
        if let mem, mem != 0 {
            if memory < 0 {
                memory = b.addMetric(Self.allocated)
                freed = b.addMetric(Self.freedType)
            }
            if mem > 0 { b.addSelf(node, metric: memory, Double(mem)) } else { b.addSelf(node, metric: freed, -Double(mem)) }
        }
        b.addSelf(node, metric: samples, 1)
    }
}

/// Incremental austin text parser: feed it bytes in chunks of any size (a live `austin` output
/// can be tailed); a partial last line waits for the rest. Like `FoldedParser` it hashes frame
/// text straight from the input and reuses the previous line's path for a shared prefix.
final class AustinParser {
    public let builder: ProfileBuilder
    private var stacks = StackPath()

    /// Forgets the previous line's nodes and the frame ids of texts seen (after the builder
    /// was compacted, `ProfileBuilder.compact`): frames are found by their text again.
    func forgetPaths() { stacks = StackPath() }
    private var lines = LineSplitter()
    private var metrics = AustinMetrics()
    public private(set) var mode: String? = nil
    public private(set) var lineNumber = 0
    public private(set) var sampleLines = 0
    public private(set) var emptyStackLines = 0
    public private(set) var skippedLines = 0
    public private(set) var firstSkippedLine = 0
    /// The first line over `LineSplitter.maxLength` (0: none); also counted as skipped.
    public private(set) var overlongLine = 0

    /// See `ReadOptions.mergeLines`.
    public var mergeLines = false

    public init(builder: ProfileBuilder? = nil) {
        self.builder = builder ?? ProfileBuilder(format: AustinReader.name, metrics: [ValueType("time", "microseconds")])
    }

    public func feed(_ input: UnsafeRawBufferPointer) {
        lines.feed(input) { processLine($0, $1) }
    }

    /// Ends the input (a last line without a newline counts) and returns the builder.
    /// The parser can keep going after a `snapshot()`; `finish()` is for the end of a file.
    public func finish() throws -> ProfileBuilder {
        lines.finish { processLine($0, $1) }
        if sampleLines == 0 {
            if skippedLines > 0 {
                throw ProfileError("no valid austin sample (expected 'P<pid>;T<tid>;file:function:line;... METRIC')",
                                   line: firstSkippedLine)
            }
            throw ProfileError("no austin samples (only metadata, comments or blank lines)", line: max(lineNumber, 1))
        }
        builder.warnings = warnings
        builder.sampleCount = sampleLines
        return builder
    }

    public var warnings: [String] {
        var w: [String] = []
        if skippedLines > 0 {
            w.append("\(skippedLines) line(s) without a valid metric skipped (first at line \(firstSkippedLine))")
        }
        return w
    }

    @inline(__always)
    private func skip() {
        skippedLines += 1
        if firstSkippedLine == 0 { firstSkippedLine = lineNumber }
    }

    private func processLine(_ p: UnsafeRawPointer, _ length: Int) {
        lineNumber += 1
        if length < 0 {
            if overlongLine == 0 { overlongLine = lineNumber }
            skip()
            return
        }
        guard let (start, end) = LineSplitter.trimmed(p, length) else { return }
        let base = p + start
        let n = end - start
        if base.load(as: UInt8.self) == 0x23 { metadataLine(base, n); return }     // '#'
        // The metric is after the last space (frame text may contain spaces).
        var sp = n - 1
        while sp >= 0 && base.load(fromByteOffset: sp, as: UInt8.self) != 0x20 { sp -= 1 }
        guard sp >= 0 else { skip(); return }
        var values: (Int64, Int64, Int64) = (0, 0, 0)
        var count = 0
        var i = sp + 1
        while i <= n && count < 4 {
            guard let (v, next) = AustinParser.parseInt(base, i, n) else { skip(); return }
            switch count { case 0: values.0 = v; case 1: values.1 = v; default: values.2 = v }
            count += 1
            if next == n { break }
            guard base.load(fromByteOffset: next, as: UInt8.self) == 0x2C else { skip(); return }   // ','
            i = next + 1
        }
        guard count == 1 || count == 3 else { skip(); return }
        if !metrics.configured { metrics.configure(mode: mode, full: count == 3, builder: builder) }
        let leaf: Int32
        if sp == 0 {
            emptyStackLines += 1
            leaf = 0
        } else if mergeLines {
            // The leaf's line is gone from the merged tree: its text votes (by time, or by
            // memory in memory mode) for the line that labels the function.
            let (node, text) = stacks.leafAndText(base, sp, builder: builder) { makeFrame($0, $1, $2) }
            leaf = node
            builder.voteLeafText(text, Double(values.0))
        } else {
            leaf = path(base, sp)
        }
        sampleLines += 1
        if count == 3 {
            metrics.add(leaf, time: values.0, memory: values.2, idle: values.1 != 0, builder: builder)
        } else if metrics.memory == 0 {
            metrics.add(leaf, time: nil, memory: values.0, idle: false, builder: builder)
        } else {
            metrics.add(leaf, time: values.0, memory: nil, idle: false, builder: builder)
        }
    }

    /// `[-]digits` starting at `i`; returns the value and the index after it.
    @inline(__always)
    static func parseInt(_ p: UnsafeRawPointer, _ i: Int, _ end: Int) -> (Int64, Int)? {
        var j = i
        var negative = false
        if j < end && p.load(fromByteOffset: j, as: UInt8.self) == 0x2D { negative = true; j += 1 }
        let digitsStart = j
        var v: Int64 = 0
        while j < end {
            let c = p.load(fromByteOffset: j, as: UInt8.self)
            guard c >= 0x30 && c <= 0x39 else { break }
            if j - digitsStart >= 18 { return nil }
            v = v &* 10 &+ Int64(c - 0x30)
            j += 1
        }
        if j == digitsStart { return nil }
        return (negative ? -v : v, j)
    }

    /// `# key: value` (header and footer) becomes profile metadata.
    private func metadataLine(_ p: UnsafeRawPointer, _ n: Int) {
        let text = String(decoding: UnsafeRawBufferPointer(start: p + 1, count: n - 1), as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return }
        let key = trimmedBlanks(text[..<colon])
        let value = trimmedBlanks(text[text.index(after: colon)...])
        guard !key.isEmpty, !key.contains(" ") else { return }
        builder.metadata.append((key, value))
        if key == "mode" { mode = value }
    }

    private func path(_ p: UnsafeRawPointer, _ n: Int) -> Int32 {
        stacks.leaf(p, n, builder: builder) { makeFrame($0, $1, $2) }
    }

    private func makeFrame(_ p: UnsafeRawPointer, _ n: Int, _ text: Int32) -> Int32 {
        let f = AustinParser.parseFrame(String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self))
        guard mergeLines else { return builder.frames.frame(name: f.name, file: f.file, line: f.line, kind: f.kind) }
        let id = builder.frames.functionFrame(name: f.name, file: f.file, line: f.line, kind: f.kind)
        builder.noteLeafText(text, frame: id, line: Int32(clamping: f.line ?? 0))
        return id
    }

    /// `P<pid>` → process, `T[<iid>:]<tid>` → thread, `file:function:line` (split at the last two
    /// colons: file names may contain colons), `:INVALID:` and `:GC:` → special frames.
    public static func parseFrame(_ text: String) -> Frame {
        let u = Array(text.utf8)
        if u.count >= 2 && u[0] == 0x50 && u[1...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return Frame(name: "process " + String(text.dropFirst()), file: nil, line: nil, kind: .process)
        }
        let colons = u.reduce(0) { $0 + ($1 == 0x3A ? 1 : 0) }
        if u.count >= 2 && u[0] == 0x54 && colons < 2 {
            return Frame(name: "thread " + String(text.dropFirst()), file: nil, line: nil, kind: .thread)
        }
        guard let c2 = text.lastIndex(of: ":"), let c1 = text[..<c2].lastIndex(of: ":") else {
            return Frame(name: text, file: nil, line: nil, kind: .function)
        }
        let file = text[..<c1]
        let function = text[text.index(after: c1)..<c2]
        let lineText = text[text.index(after: c2)...]
        if file.isEmpty && lineText.isEmpty && !function.isEmpty {
            return Frame(name: String(function), file: nil, line: nil, kind: .special)    // INVALID, GC
        }
        guard lineText.isEmpty || lineText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return Frame(name: text, file: nil, line: nil, kind: .function)
        }
        return Frame(name: function.isEmpty ? "<unknown>" : String(function), file: String(file),
                     line: Int(lineText), kind: .function)
    }
}

/// Text without surrounding blanks (space, tab, CR).
func trimmedBlanks<S: StringProtocol>(_ text: S) -> String {
    var s = Substring(text)
    while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
    return String(s)
}
