import Dispatch

/// Folded (collapsed) stacks: `frame;frame;... COUNT` per line, root first.
/// Written by flamegraph.pl's stackcollapse tools, inferno, py-spy `--format raw` and Tachyon.
public enum FoldedReader: ProfileReader {
    public static let mergesLinesWhileReading = true
    public static let name = "collapsed"
    public static let title = "folded / collapsed stacks (flamegraph.pl, inferno, py-spy raw, Tachyon)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        let lines = prefix.dataLines(complete: complete, limit: 20)
        if lines.isEmpty { return complete ? .no : .needMore }
        // A line with a NUL is a bad line, not proof of a binary file (one in a live stream
        // ended it); but binary data is mostly such lines, so they must be a small minority.
        var good = 0, withNUL = 0
        for l in lines {
            let u = Array(l.utf8)
            if u.contains(0) { withNUL += 1 } else if FoldedParser.trailingCount(u) != nil { good += 1 }
        }
        if withNUL > 0 && (good < 3 || withNUL * 4 > lines.count) { return .no }
        return good * 2 >= lines.count && good > 0 ? .yes : .no
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        if let file = (source as? PrefixedSource)?.untouchedFile, file.size >= parallelFrom,
           let parser = try readInTwoHalves(file, options: options) {
            return try parser.finish()
        }
        let parser = FoldedParser()
        parser.mergeLines = options.mergeLines
        if let seed = options.seedFrames { parser.builder.frames = seed }
        // Distinct stacks in big dumps run at roughly one new node per 64 bytes.
        if let size = source.sizeHint { parser.builder.reserve(nodes: size / 64) }
        try source.forEachChunk { parser.feed($0); try parser.checkLineLength() }
        return try parser.finish()
    }

    /// Files from this size on are read as two halves on two threads.
    static let parallelFrom = 16 << 20

    /// A big regular file: the second half (from the first line start past the middle) is read
    /// on another thread into a tree of its own, then merged into the first half's tree in its
    /// node order. The result is the one reading the file in one go gives, node ids included.
    /// Nil when it cannot be split (one core, one huge line, or differential lines).
    static func readInTwoHalves(_ file: (file: FileSource, prefix: [UInt8], size: Int), options: ReadOptions) throws -> FoldedParser? {
        guard sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2, let mid = lineStart(after: file.size / 2, fd: file.file.fd, size: file.size),
              mid > file.prefix.count, mid < file.size else { return nil }
        let first = FoldedParser(), second = FoldedParser(lines: LineSplitter(bom: false))
        for p in [first, second] { p.mergeLines = options.mergeLines }
        if let seed = options.seedFrames { first.builder.frames = seed }
        // Each half reserves room on its own thread. Room to spare: capacity never touched costs
        // no memory, but outgrowing it copies a column (a half makes more nodes per byte than
        // the whole: its tree starts empty). Reserving makes the first huge page of each column
        // at once (`HugePages.advise`): ~8 MB of first touches a half before any line is read.
        final class Job: @unchecked Sendable {
            let parser: FoldedParser, source: FileRangeSource
            var error: Error? = nil
            init(_ p: FoldedParser, _ s: FileRangeSource) { parser = p; source = s }
            func run() {
                let bytes = source.end - source.pos
                parser.builder.reserve(nodes: bytes / 48, indexed: bytes / 64)
                do {
                    try source.forEachChunk { parser.feed($0) }
                    parser.endInput()
                    // The merge looks children up in the first half's index only; this one's
                    // memory becomes the merge's scratch.
                    parser.builder.dropIndex(lending: parser.builder.absorbScratchBytes)
                } catch { self.error = error }
            }
        }
        let job = Job(second, FileRangeSource(fd: file.file.fd, start: mid, end: file.size))
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { job.run(); done.signal() }
        first.builder.reserve(nodes: file.size / 48, indexed: mid / 64)
        var firstError: Error? = nil
        do {
            file.prefix.withUnsafeBytes { first.feed($0) }
            try FileRangeSource(fd: file.file.fd, start: file.prefix.count, end: mid).forEachChunk { first.feed($0) }
        } catch { firstError = error }
        done.wait()
        if let e = firstError ?? job.error { throw e }
        try first.checkLineLength()
        if second.overlongLine > 0 { throw LineSplitter.overlongError(line: first.lineNumber + second.overlongLine) }
        return first.absorb(second) ? first : nil
    }

    /// Where the first line starting at or after `offset` begins (just past a newline).
    static func lineStart(after offset: Int, fd: Int32, size: Int) -> Int? {
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var pos = offset
        while pos < size {
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(pos)) }
            if n <= 0 { return nil }
            if let i = buf[0..<n].firstIndex(of: 0x0A) { return pos + i + 1 }
            pos += n
        }
        return nil
    }
}

/// Incremental folded-stack parser: feed it bytes in chunks of any size; a partial last line
/// waits for the rest. It hashes frame text straight from the input, so a known frame costs
/// one hash and a compare, and it reuses the previous line's path for a shared prefix.
final class FoldedParser {
    public let builder: ProfileBuilder
    private var stacks = StackPath()

    /// Forgets the previous line's nodes and the frame ids of texts seen (after the builder
    /// was compacted, `ProfileBuilder.compact`): frames are found by their text again.
    func forgetPaths() { stacks = StackPath() }
    private var lines = LineSplitter()
    public private(set) var lineNumber = 0
    public private(set) var validLines = 0
    public private(set) var skippedLines = 0
    public private(set) var firstSkippedLine = 0
    /// The first line over `LineSplitter.maxLength` (0: none); also counted as skipped.
    public private(set) var overlongLine = 0
    public private(set) var emptyStackLines = 0
    public private(set) var emptyStackWeight = 0.0
    public private(set) var total = 0.0
    private var allIntegral = true
    private var beforeMetric = -1

    /// See `ReadOptions.mergeLines`.
    public var mergeLines = false

    /// Live streams: a count above this is a bad line, not a sample (see `StreamParser`).
    public var maxCount = Double.infinity
    /// Live streams: the first good line decides whether lines carry one count or two
    /// (`stack before after`); a line of the other shape is a bad line.
    public var holdShape = false
    private var differentialShape: Bool? = nil

    public init(builder: ProfileBuilder? = nil) {
        self.builder = builder ?? ProfileBuilder(format: FoldedReader.name, metrics: [ValueType("samples", "count")])
    }

    convenience init(lines: LineSplitter) {
        self.init()
        self.lines = lines
    }

    public func feed(_ input: UnsafeRawBufferPointer) {
        feeding = input.baseAddress.map { UnsafeRawPointer($0)..<($0 + input.count) }
        lines.feed(input) { processLine($0, $1) }
        flush()
    }

    /// The input has ended: a last line without a newline still counts.
    func endInput() {
        feeding = nil
        lines.finish { processLine($0, $1) }
        flush()
    }

    /// The input `feed` is splitting: queued stacks point into it. A line outside it (joined
    /// from two chunks) lives only while it is processed, so its stack is resolved at once.
    private var feeding: Range<UnsafeRawPointer>? = nil
    /// The weights of the queued stacks: count, and `before` (NaN when none).
    private let queuedCount = UnsafeMutablePointer<Double>.allocate(capacity: StackPath.batchSize)
    private let queuedBefore = UnsafeMutablePointer<Double>.allocate(capacity: StackPath.batchSize)
    private let queuedLeaf = UnsafeMutablePointer<Int32>.allocate(capacity: StackPath.batchSize)

    deinit {
        queuedCount.deallocate()
        queuedBefore.deallocate()
        queuedLeaf.deallocate()
    }

    /// Resolves the queued stacks and adds their weights.
    private func flush() {
        let n = stacks.pending
        guard n > 0 else { return }
        if mergeLines {
            // The leaf's line is gone from the merged tree: its text votes for the line that
            // labels the function.
            stacks.resolve(builder: builder, makeFrame: { makeFrame($0, $1, $2) }) { i, leaf in
                queuedLeaf[i] = leaf
                builder.voteLeafText(stacks.leafTextId(i), queuedCount[i])
            }
        } else {
            stacks.resolve(builder: builder, makeFrame: { makeFrame($0, $1, $2) }) { i, leaf in queuedLeaf[i] = leaf }
        }
        builder.addSelf(queuedLeaf, queuedCount, count: n, metric: 0)
        if beforeMetric >= 0 {
            for i in 0..<n where !queuedBefore[i].isNaN { builder.addSelf(queuedLeaf[i], metric: beforeMetric, queuedBefore[i]) }
        }
    }

    /// Appends what `later` read (the lines after ours) as if this parser had read them: its
    /// frames in their order, its nodes in their order, its counts, line numbers after ours.
    /// False when that cannot be done exactly (differential lines add a metric mid-way).
    func absorb(_ later: FoldedParser) -> Bool {
        guard beforeMetric < 0 && later.beforeMetric < 0 else { return false }
        let lf = later.builder.frames
        var frameMap = [Int32](repeating: -1, count: lf.frameCount)
        // Strings straight from later's arena (in id order, which is the order its frames first
        // used them), then frames by string ids: no String per frame, on the one thread a merge
        // runs on.
        let strings = lf.strings
        var stringMap = [Int32](repeating: -1, count: strings.count)
        strings.bytes.withUnsafeBytes { arena in
            for i in 0..<strings.count {
                let p = arena.baseAddress.map { UnsafeRawPointer($0) + strings.starts[i] } ?? UnsafeRawPointer(bitPattern: 8)!
                stringMap[i] = builder.frames.intern(p, Int(strings.lengths[i]))
            }
        }
        for f in 0..<lf.frameCount {
            let file = lf.frameFile[f]
            let name = stringMap[Int(lf.frameName[f])], mappedFile = file >= 0 ? stringMap[Int(file)] : -1
            // A merged frame's line is its function's smallest (`functionFrame` keeps it so).
            frameMap[f] = mergeLines
                ? builder.frames.functionFrame(name: name, file: mappedFile, line: max(0, lf.frameLine[f]), kind: lf.frameKind[f])
                : builder.frames.frame(name: name, file: mappedFile, line: lf.frameLine[f], kind: lf.frameKind[f])
        }
        builder.absorb(later.builder, frameMap: frameMap)
        if mergeLines {
            var functionMap = [Int32](repeating: -1, count: lf.functionCount)
            for f in 0..<lf.frameCount where lf.frameFunction[f] >= 0 && frameMap[f] >= 0 {
                functionMap[Int(lf.frameFunction[f])] = builder.frames.frameFunction[Int(frameMap[f])]
            }
            builder.absorbVotes(of: later.builder, functionMap: functionMap)
        }
        if later.skippedLines > 0 && firstSkippedLine == 0 { firstSkippedLine = lineNumber + later.firstSkippedLine }
        lineNumber += later.lineNumber
        validLines += later.validLines
        skippedLines += later.skippedLines
        emptyStackLines += later.emptyStackLines
        emptyStackWeight += later.emptyStackWeight
        total += later.total
        allIntegral = allIntegral && later.allIntegral
        return true
    }

    /// Files fail on an overlong line (a live stream counts it as a bad line and goes on).
    public func checkLineLength() throws {
        if overlongLine > 0 { throw LineSplitter.overlongError(line: overlongLine) }
    }

    public func finish() throws -> ProfileBuilder {
        endInput()
        if validLines == 0 && emptyStackLines == 0 {
            if skippedLines > 0 {
                throw ProfileError("no valid folded line (expected 'frame;frame;... COUNT')", line: firstSkippedLine)
            }
            throw ProfileError("no stack lines (only comments or blank lines)")
        }
        builder.warnings = warnings
        if allIntegral { builder.sampleCount = Int(exactly: (total + emptyStackWeight).rounded()) }
        return builder
    }

    public var warnings: [String] {
        var w: [String] = []
        if skippedLines > 0 {
            w.append("\(skippedLines) line(s) without a count skipped (first at line \(firstSkippedLine))")
        }
        if emptyStackLines > 0 {
            w.append("\(emptyStackLines) line(s) with no frames, \(formatCount(emptyStackWeight)) sample(s) not in total")
        }
        return w
    }

    private func formatCount(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    /// The count after the last space, if the line ends in one: (value, start of the count).
    static func trailingCount(_ line: [UInt8]) -> (Double, Int)? {
        line.withUnsafeBytes { b in
            var n = b.count
            while n > 0 && (b[n - 1] == 0x20 || b[n - 1] == 0x0D || b[n - 1] == 0x09) { n -= 1 }
            return parseTrailingNumber(b.baseAddress!, n)
        }
    }

    /// Parses `digits[.digits]` ending at `end`; returns the value and where it starts.
    @inline(__always)
    static func parseTrailingNumber(_ p: UnsafeRawPointer, _ end: Int) -> (Double, Int)? {
        var i = end
        while i > 0 {
            let c = p.load(fromByteOffset: i - 1, as: UInt8.self)
            if c == 0x20 || c == 0x09 { break }
            i -= 1
        }
        let start = i
        if start == end { return nil }
        var v: UInt64 = 0
        var j = start
        var digits = 0
        while j < end {
            let c = p.load(fromByteOffset: j, as: UInt8.self)
            if c >= 0x30 && c <= 0x39 {
                if digits < 18 { v = v &* 10 &+ UInt64(c - 0x30) }
                digits += 1
                j += 1
            } else { break }
        }
        if digits == 0 { return nil }
        if j == end {
            if digits < 18 { return (Double(v), start) }
        } else if p.load(fromByteOffset: j, as: UInt8.self) != 0x2E { return nil }
        // Fractional or very long: validate and use strtod on a bounded copy.
        var k = j + 1
        var frac = 0
        while k < end {
            let c = p.load(fromByteOffset: k, as: UInt8.self)
            guard c >= 0x30 && c <= 0x39 else { return nil }
            k += 1; frac += 1
        }
        let len = end - start
        if len > 64 { return nil }
        var tmp = [CChar](repeating: 0, count: len + 1)
        tmp.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: p + start, byteCount: len) }
        return (strtod(tmp, nil), start)
    }

    @inline(__always)
    private func skip(_ line: Int) {
        skippedLines += 1
        if firstSkippedLine == 0 { firstSkippedLine = line }
    }

    private func processLine(_ p: UnsafeRawPointer, _ length: Int) {
        lineNumber += 1
        if length < 0 {
            if overlongLine == 0 { overlongLine = lineNumber }
            skip(lineNumber)
            return
        }
        guard let (start, end) = LineSplitter.trimmed(p, length) else { return }
        let first = p.load(fromByteOffset: start, as: UInt8.self)
        if first == 0x23 { return }                                                // '#'
        let base = p + start
        let n = end - start
        guard let (count, countStart) = FoldedParser.parseTrailingNumber(base, n) else { skip(lineNumber); return }
        // The stack is everything before the separator: frame text may itself end in spaces.
        var stackEnd = max(0, countStart - 1)
        // Differential line: `stack before after` (a frame rarely ends in a digit: look first).
        var before: Double? = nil
        if stackEnd > 0, case let c = base.load(fromByteOffset: stackEnd - 1, as: UInt8.self), c >= 0x30 && c <= 0x39,
           let (b, bStart) = FoldedParser.parseTrailingNumber(base, stackEnd), bStart > 0 {
            before = b
            stackEnd = bStart - 1
        }
        if count > maxCount || (before ?? 0) > maxCount { skip(lineNumber); return }
        // No tool writes a NUL into a frame name: such a line is damage, not a frame.
        if stackEnd > 0 && memchr(base, 0, stackEnd) != nil { skip(lineNumber); return }
        if holdShape, stackEnd > 0 {
            if let d = differentialShape, d != (before != nil) { skip(lineNumber); return }
            differentialShape = before != nil
        }
        if count != count.rounded() { allIntegral = false }
        if stackEnd == 0 {
            emptyStackLines += 1
            emptyStackWeight += count
            return
        }
        validLines += 1
        total += count
        if before != nil && beforeMetric < 0 {
            beforeMetric = builder.addMetric(ValueType("before", "count"))
            builder.renameMetric(0, to: ValueType("after", "count"))
        }
        queuedCount[stacks.pending] = count
        queuedBefore[stacks.pending] = before ?? .nan
        stacks.add(base, stackEnd)
        if stacks.isFull || !(feeding?.contains(base) ?? false) { flush() }
    }

    /// Splits frame text into name, file, line and kind. ASCII text (nearly every frame) is
    /// interned straight from the input by byte ranges: three Strings and an `Int(String)` a
    /// frame were over half of making one (~1.8k of ~3.6k instructions).
    private func makeFrame(_ p: UnsafeRawPointer, _ n: Int, _ text: Int32) -> Int32 {
        let raw = UnsafeRawBufferPointer(start: p, count: n)
        let name: Int32, file: Int32, line: Int?, kind: FrameKind
        if let parts = FoldedParser.frameParts(raw) {
            name = builder.frames.intern(p + parts.name.lowerBound, parts.name.count)
            file = parts.file.map { builder.frames.intern(p + $0.lowerBound, $0.count) } ?? -1
            (line, kind) = (parts.line, parts.kind)
        } else {
            let f = FoldedParser.parseFrame(raw)
            name = builder.frames.intern(f.name)
            file = f.file.map { builder.frames.intern($0) } ?? -1
            (line, kind) = (f.line, f.kind)
        }
        let l = Int32(clamping: line ?? 0)
        guard mergeLines else { return builder.frames.frame(name: name, file: file, line: l, kind: kind) }
        let f = builder.frames.functionFrame(name: name, file: file, line: l, kind: kind)
        builder.noteLeafText(text, frame: f, line: l)
        return f
    }

    /// Where the parts of a frame are in its text (byte ranges), and its line and kind.
    struct FrameParts {
        var name: Range<Int>
        var file: Range<Int>?
        var line: Int?
        var kind: FrameKind
    }

    /// `parseFrame` straight from bytes. The String version walks Characters through
    /// Foundation and cost ~6 µs a frame: a third of reading a 105 MB file with 20k distinct
    /// frames. ASCII text (nearly every frame) is split here by the same rules; other text
    /// goes to the String version, so that Characters keep one definition.
    static func parseFrame(_ raw: UnsafeRawBufferPointer) -> Frame {
        guard let f = frameParts(raw) else { return parseFrame(String(decoding: raw, as: UTF8.self)) }
        func str(_ r: Range<Int>) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: raw[r]), as: UTF8.self) }
        return Frame(name: str(f.name), file: f.file.map(str), line: f.line, kind: f.kind)
    }

    /// `parseFrame`'s rules on ASCII text, as byte ranges; nil for other text.
    static func frameParts(_ raw: UnsafeRawBufferPointer) -> FrameParts? {
        let b = raw.bindMemory(to: UInt8.self)
        let n = b.count
        if b.contains(where: { $0 >= 0x80 }) { return nil }
        func digits(_ r: Range<Int>) -> Bool { r.allSatisfy { b[$0] >= 0x30 && b[$0] <= 0x39 } }
        /// Digits as `Int(String)` reads them: nil past `Int.max`.
        func number(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(b[i] &- 0x30))
                if o1 || o2 { return nil }
                v = a
            }
            return v
        }
        func hasPrefix(_ s: StaticString) -> Bool {
            n >= s.utf8CodeUnitCount && (0..<s.utf8CodeUnitCount).allSatisfy { s.utf8Start[$0] == b[$0] }
        }
        func lastIndex(of c: UInt8, in r: Range<Int>) -> Int? { r.reversed().first { b[$0] == c } }
        func isFile(_ r: Range<Int>) -> Bool {
            guard !r.isEmpty else { return false }
            if b[r.lowerBound] == 0x3C { return b[r.upperBound - 1] == 0x3E && r.count > 1 }      // <...>
            let dotOrSlash = r.contains { b[$0] == 0x2E || b[$0] == 0x2F }
            let space = r.contains { b[$0] == 0x20 }
            let hex = r.count >= 2 && b[r.lowerBound] == 0x30 && b[r.lowerBound + 1] == 0x78
            return dotOrSlash && !space && !hex
        }
        if hasPrefix("thread (") || (hasPrefix("tid:") && digits(4..<n)) {
            return FrameParts(name: 0..<n, file: nil, line: nil, kind: .thread)
        }
        if hasPrefix("process "), let c = (8..<n).first(where: { b[$0] == 0x3A }), digits(8..<c) {
            return FrameParts(name: 0..<n, file: nil, line: nil, kind: .process)
        }
        // py-spy: `name (file:line)` or `name (file)`
        if n > 0 && b[n - 1] == 0x29, let open = (1..<n).reversed().first(where: { b[$0] == 0x28 && b[$0 - 1] == 0x20 }).map({ $0 - 1 }),
           open > 0 {
            let inner = (open + 2)..<(n - 1)
            if let colon = lastIndex(of: 0x3A, in: inner), colon + 1 < inner.upperBound,
               digits((colon + 1)..<inner.upperBound), isFile(inner.lowerBound..<colon) {
                return FrameParts(name: 0..<open, file: inner.lowerBound..<colon,
                                  line: number((colon + 1)..<inner.upperBound), kind: .function)
            }
            if isFile(inner) { return FrameParts(name: 0..<open, file: inner, line: nil, kind: .function) }
        }
        // austin / Tachyon: `file:name:line`
        if let c2 = lastIndex(of: 0x3A, in: 0..<n), c2 + 1 < n, digits((c2 + 1)..<n),
           let c1 = lastIndex(of: 0x3A, in: 0..<c2), c1 > 0, c1 + 1 < c2, isFile(0..<c1) {
            return FrameParts(name: (c1 + 1)..<c2, file: 0..<c1, line: number((c2 + 1)..<n), kind: .function)
        }
        if n >= 4 && b[n - 4] == 0x5F && b[n - 3] == 0x5B && b[n - 2] == 0x6B && b[n - 1] == 0x5D {
            return FrameParts(name: 0..<n, file: nil, line: nil, kind: .native)
        }
        return FrameParts(name: 0..<n, file: nil, line: nil, kind: .function)
    }

    /// `thread (0x..)`, `process 12:"cmd"`, `tid:12`, `name (file:line)`, `file:name:line`, or a bare name.
    public static func parseFrame(_ text: String) -> Frame {
        if text.hasPrefix("thread (") || (text.hasPrefix("tid:") && text.dropFirst(4).allSatisfy(\.isNumber)) {
            return Frame(name: text, file: nil, line: nil, kind: .thread)
        }
        if text.hasPrefix("process "), let c = text.dropFirst(8).firstIndex(of: ":"),
           text[text.index(text.startIndex, offsetBy: 8)..<c].allSatisfy(\.isNumber) {
            return Frame(name: text, file: nil, line: nil, kind: .process)
        }
        // py-spy: `name (file:line)` or `name (file)`
        if text.hasSuffix(")"), let open = lastSpaceParen(text) {
            let inner = text[text.index(open, offsetBy: 2)..<text.index(before: text.endIndex)]
            let name = String(text[..<open])
            if !name.isEmpty {
                if let colon = inner.lastIndex(of: ":"), inner.index(after: colon) < inner.endIndex,
                   inner[inner.index(after: colon)...].allSatisfy(\.isASCIIDigit), looksLikeFile(inner[..<colon]) {
                    return Frame(name: name, file: String(inner[..<colon]),
                                 line: Int(inner[inner.index(after: colon)...]), kind: .function)
                }
                if looksLikeFile(inner) { return Frame(name: name, file: String(inner), line: nil, kind: .function) }
            }
        }
        // austin / Tachyon: `file:name:line`
        if let c2 = text.lastIndex(of: ":"), text.index(after: c2) < text.endIndex,
           text[text.index(after: c2)...].allSatisfy(\.isASCIIDigit),
           let c1 = text[..<c2].lastIndex(of: ":"), c1 > text.startIndex {
            let file = text[..<c1]
            let name = text[text.index(after: c1)..<c2]
            if !name.isEmpty && looksLikeFile(file) {
                return Frame(name: String(name), file: String(file), line: Int(text[text.index(after: c2)...]),
                             kind: .function)
            }
        }
        if text.hasSuffix("_[k]") { return Frame(name: text, file: nil, line: nil, kind: .native) }
        return Frame(name: text, file: nil, line: nil, kind: .function)
    }

    static func lastSpaceParen(_ s: String) -> String.Index? {
        var i = s.endIndex
        while i > s.startIndex {
            i = s.index(before: i)
            if s[i] == "(" && i > s.startIndex && s[s.index(before: i)] == " " { return s.index(before: i) }
        }
        return nil
    }

    static func looksLikeFile<S: StringProtocol>(_ s: S) -> Bool {
        guard let first = s.first else { return false }
        if first == "<" { return s.last == ">" }
        return (s.contains(".") || s.contains("/")) && !s.contains(" ") && !s.hasPrefix("0x")
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension ProfileBuilder {
    func renameMetric(_ i: Int, to v: ValueType) { setMetric(i, v) }
}
