/// Firefox Profiler / gecko JSON (FORMATS.md §9.4): raw gecko profiles (what Firefox saves, possibly
/// inside the devtools `{"profile": …, "systemHost": …}` wrapper, with nested `processes`) and
/// processed profiles (Firefox Profiler's own files, Python 3.15 Tachyon `--gecko`).
///
/// Tables come in two shapes and both are read: rows (`{schema: {name: column}, data: [[…]]}`) and
/// columns (`{name: […], length}`). Strings are per thread (`stringTable` / `stringArray`) or shared
/// (`shared.stringArray`, written *after* the threads, so threads are resolved at the end).
/// Each thread becomes a thread root named after the thread; its samples are weighted by `weight`
/// when present (`weightType` "samples" → samples/count, "tracing-ms" → time/milliseconds,
/// "bytes" → memory/bytes), else 1 each.
public enum GeckoReader: ProfileReader {
    public static let name = "gecko"
    public static let title = "Firefox Profiler / gecko JSON (Tachyon)"
    /// Lines are merged and thread roots left out while reading when the caller asks
    /// (`GeckoParser.mergeLines`, `mergeThreads`).
    public static let mergesLinesWhileReading = true

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        let info = JSONPrefix(prefix)
        guard info.container == .object else { return .no }
        if looksLikeProfile(prefix, info) { return .yes }
        // The devtools wrapper: `profile` is the gecko profile, `systemHost.name` says Firefox.
        if let off = info.offset(of: "profile"), off < prefix.count, prefix[off] == 0x7B {
            let inner = GeckoReader.keysWithOffsets(prefix, at: off)
            let keys = inner.map(\.key)
            if keys.contains("threads") || (keys.contains("meta") && metaLooksGecko(prefix, inner.first { $0.key == "meta" }!.offset)) {
                return .yes
            }
            if let libs = inner.first(where: { $0.key == "libs" }) {
                let (lk, _) = JSONPrefix.firstElementKeys(prefix, at: libs.offset)
                if lk.contains("start") && lk.contains("end") && (lk.contains("breakpadId") || lk.contains("debugName")) {
                    return .yes
                }
            }
        }
        if let off = info.offset(of: "systemHost") {
            let inner = GeckoReader.keysWithOffsets(prefix, at: off)
            if let n = inner.first(where: { $0.key == "name" }), JSONPrefix.string(prefix, at: n.offset) == "Firefox" {
                return .yes
            }
        }
        return info.complete || complete ? .no : (info.keys.isEmpty ? .needMore : .no)
    }

    /// `meta` + `threads`, or a first thread with gecko tables, or a gecko-looking `meta`.
    static func looksLikeProfile(_ p: UnsafeRawBufferPointer, _ info: JSONPrefix) -> Bool {
        if info.has("meta") && info.has("threads") { return true }
        if let off = info.offset(of: "threads") {
            let (keys, _) = JSONPrefix.firstElementKeys(p, at: off)
            if keys.contains("stackTable") || keys.contains("frameTable") { return true }
        }
        if let off = info.offset(of: "meta"), metaLooksGecko(p, off) { return true }
        return false
    }

    static func metaLooksGecko(_ p: UnsafeRawBufferPointer, _ off: Int) -> Bool {
        let (keys, _) = JSONPrefix.objectKeys(p, at: off)
        if keys.contains("preprocessedProfileVersion") { return true }
        return keys.contains("interval") && keys.contains("startTime")
            && (keys.contains("version") || keys.contains("stackwalk") || keys.contains("processType"))
    }

    /// Keys of the object at `offset` with the offsets of their values, as far as the prefix shows.
    static func keysWithOffsets(_ p: UnsafeRawBufferPointer, at offset: Int) -> [(key: String, offset: Int)] {
        var s = JSONScanner(p, maxDepth: 64)
        s.pos = offset
        var out: [(String, Int)] = []
        do {
            guard s.peekKind() == .object else { return [] }
            try s.beginObject()
            while let k = try s.nextKey() {
                let key = k.string
                s.skipWhitespace()
                out.append((key, s.pos))
                try s.skipValue()
            }
        } catch {}
        return out
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let parser = GeckoParser()
        parser.mergeLines = options.mergeLines
        parser.mergeThreads = options.mergeThreads
        parser.seedFrames = options.seedFrames
        let input = try JSONInput(source)
        parser.input = input
        try input.scan { try parser.parse($0) }
        parser.input = nil
        return try parser.build()
    }
}

final class GeckoParser {
    /// A gecko table in either shape. Cells are numbers; null, strings and objects read as NaN.
    struct Table {
        var offset: Int
        var columns: [String: [Double]] = [:]
        var schema: [String: Int]? = nil
        var cells: [Double] = []
        var rowStart: [Int] = []
        var length: Int? = nil
        var weightType: String? = nil

        init(offset: Int) { self.offset = offset }

        var isRows: Bool { schema != nil || !rowStart.isEmpty }

        var count: Int {
            if isRows { return rowStart.count }
            let n = columns.values.map(\.count).max() ?? 0
            if let length { return min(length, n) }
            return n
        }

        /// A column as an array (rows are materialised); nil when the table has no such column.
        func column(_ name: String) -> [Double]? {
            if !isRows { return columns[name] }
            guard let c = schema?[name] else { return nil }
            var out = [Double](repeating: .nan, count: rowStart.count)
            for r in 0..<rowStart.count {
                let start = rowStart[r]
                let end = r + 1 < rowStart.count ? rowStart[r + 1] : cells.count
                if start + c < end { out[r] = cells[start + c] }
            }
            return out
        }
    }

    struct RawThread {
        var offset: Int
        var scope: Int
        var name: String? = nil
        var processName: String? = nil
        var tid: String? = nil
        var pid: String? = nil
        var samples: Table? = nil
        var stackTable: Table? = nil
        var frameTable: Table? = nil
        var funcTable: Table? = nil
        var strings: [String]? = nil
    }

    private var s = JSONScanner(UnsafeRawBufferPointer(start: nil, count: 0))
    /// The document being parsed, told which of its bytes are no longer needed: tables and
    /// strings are read into arrays in one pass, and threads are built from those.
    var input: JSONInput?
    /// One frame per function instead of per executing line: the tree `Profile.mergingLines()`
    /// would make from the line-level one, without building that one. Each line's self weight
    /// (in the default metric) votes for the line that labels its function, as the line-level
    /// tree's frames would have at freeze.
    var mergeLines = false
    /// Every thread's stacks straight under the root, without thread frames: the tree
    /// `Profile.mergingThreads()` would make.
    var mergeThreads = false
    /// The frame table to extend (the viewer's re-read with lines split).
    var seedFrames: FrameTable? = nil
    private var threads: [RawThread] = []
    /// Shared strings per profile level, and each level's parent (nested `processes`).
    private var sharedStrings: [[String]?] = []
    private var scopeParent: [Int] = []
    private var meta: [(String, String)] = []
    private var warnings: [String] = []
    private var metaRecorded = false
    static let maxProfileNesting = 16

    // MARK: parsing

    func parse(_ buffer: UnsafeRawBufferPointer) throws {
        s = JSONScanner(buffer, maxDepth: 512)
        guard s.peekKind() == .object else { throw s.failure("a gecko profile JSON object ('{')") }
        try parseProfile(parentScope: -1, depth: 0)
        s.skipWhitespace()
        if !s.atEnd { throw s.failure("end of input after the top-level object") }
    }

    private func parseProfile(parentScope: Int, depth: Int) throws {
        guard depth <= GeckoParser.maxProfileNesting else {
            throw ProfileError("profiles nested deeper than \(GeckoParser.maxProfileNesting) levels", offset: s.pos)
        }
        let scope = sharedStrings.count
        sharedStrings.append(nil)
        scopeParent.append(parentScope)
        try s.beginObject()
        while let k = try s.nextKey() {
            if k.equals("threads") {
                guard s.peekKind() == .array else { try s.skipValue(); continue }
                try s.beginArray()
                while try s.nextElement() {
                    if s.peekKind() == .object { try parseThread(scope: scope) } else { try s.skipValue() }
                }
            } else if k.equals("processes") || k.equals("profile") {
                let many = k.equals("processes")
                if many && s.peekKind() == .array {
                    try s.beginArray()
                    while try s.nextElement() {
                        if s.peekKind() == .object { try parseProfile(parentScope: scope, depth: depth + 1) } else { try s.skipValue() }
                    }
                } else if !many && s.peekKind() == .object {
                    try parseProfile(parentScope: scope, depth: depth + 1)
                } else {
                    try s.skipValue()
                }
            } else if k.equals("shared") {
                guard s.peekKind() == .object else { try s.skipValue(); continue }
                try s.beginObject()
                while let sk = try s.nextKey() {
                    if sk.equals("stringArray") || sk.equals("stringTable") { sharedStrings[scope] = try parseStrings() }
                    else { try s.skipValue() }
                }
            } else if k.equals("meta") {
                try parseMeta(record: !metaRecorded)
                metaRecorded = true
            } else if k.equals("systemHost") {
                guard s.peekKind() == .object else { try s.skipValue(); continue }
                try s.beginObject()
                while let hk = try s.nextKey() {
                    if hk.equals("name"), s.peekKind() == .string { meta.append(("host", try s.readStringValue())) }
                    else { try s.skipValue() }
                }
            } else if k.equals("fileType") {
                if s.peekKind() == .string { meta.append(("file type", try s.readStringValue())) } else { try s.skipValue() }
            } else {
                try s.skipValue()
            }
        }
    }

    private func parseMeta(record: Bool) throws {
        guard s.peekKind() == .object else { try s.skipValue(); return }
        try s.beginObject()
        while let k = try s.nextKey() {
            let key = k.string
            switch (key, s.peekKind()) {
            case ("version", .number), ("preprocessedProfileVersion", .number), ("interval", .number):
                let v = try s.readNumber()
                if record && v.isFinite {
                    let label = key == "interval" ? "interval (ms)" : key == "version" ? "gecko version" : "processed version"
                    meta.append((label, v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)))
                }
            case ("product", .string), ("importedFrom", .string):
                let v = try s.readStringValue()
                if record { meta.append((key == "product" ? "product" : "imported from", v)) }
            default:
                try s.skipValue()
            }
        }
    }

    private func parseThread(scope: Int) throws {
        s.skipWhitespace()
        var t = RawThread(offset: s.pos, scope: scope)
        try s.beginObject()
        while let k = try s.nextKey() {
            if k.equals("name") {
                t.name = try readText()
            } else if k.equals("processName") {
                t.processName = try readText()
            } else if k.equals("tid") {
                t.tid = try readText()
            } else if k.equals("pid") {
                t.pid = try readText()
            } else if k.equals("samples") {
                t.samples = try parseTable(["stack", "time", "weight", "timeDeltas"])
            } else if k.equals("stackTable") {
                t.stackTable = try parseTable(["prefix", "frame"])
            } else if k.equals("frameTable") {
                t.frameTable = try parseTable(["location", "func", "line", "address"])
            } else if k.equals("funcTable") {
                t.funcTable = try parseTable(["name", "fileName", "lineNumber", "isJS", "relevantForJS"])
            } else if k.equals("stringTable") || k.equals("stringArray") {
                if s.peekKind() == .array { t.strings = try parseStrings() } else { try s.skipValue() }
            } else {
                try s.skipValue()
            }
        }
        threads.append(t)
    }

    /// A string or a number as text (tids and pids are either).
    private func readText() throws -> String? {
        switch s.peekKind() {
        case .string: return try s.readStringValue()
        case .number:
            s.skipWhitespace()
            let start = s.pos
            _ = try s.readNumber()
            return String(decoding: UnsafeRawBufferPointer(start: s.base + start, count: s.pos - start), as: UTF8.self)
        default:
            try s.skipValue()
            return nil
        }
    }

    private func parseStrings() throws -> [String] {
        var out: [String] = []
        try s.beginArray()
        while try s.nextElement() {
            input?.release(below: s.pos)
            if s.peekKind() == .string { out.append(try s.readStringValue()) } else { try s.skipValue(); out.append("") }
        }
        return out
    }

    @inline(__always)
    private func readCell() throws -> Double {
        switch s.peekKind() {
        case .number: return try s.readNumber()
        case .bool: return try s.readBool() ? 1 : 0
        default: try s.skipValue(); return .nan
        }
    }

    private func parseTable(_ wanted: Set<String>) throws -> Table? {
        s.skipWhitespace()
        var t = Table(offset: s.pos)
        guard s.peekKind() == .object else { try s.skipValue(); return nil }
        try s.beginObject()
        while let k = try s.nextKey() {
            if k.equals("schema") {
                t.schema = try parseSchema()
            } else if k.equals("data") {
                guard s.peekKind() == .array else { try s.skipValue(); continue }
                try s.beginArray()
                while try s.nextElement() {
                    input?.release(below: s.pos)
                    t.rowStart.append(t.cells.count)
                    if s.peekKind() == .array {
                        try s.beginArray()
                        while try s.nextElement() { t.cells.append(try readCell()) }
                    } else {
                        try s.skipValue()
                    }
                }
            } else if k.equals("length") {
                if s.peekKind() == .number {
                    let v = try s.readNumber()
                    if v.isFinite && v >= 0 && v <= Double(Int32.max) { t.length = Int(v) }
                } else { try s.skipValue() }
            } else if k.equals("weightType") {
                if s.peekKind() == .string { t.weightType = try s.readStringValue() } else { try s.skipValue() }
            } else if s.peekKind() == .array, wanted.contains(k.string) {
                let name = k.string
                var col: [Double] = []
                try s.beginArray()
                while true {
                    // Numbers in runs (nearly all of a column), anything else one by one.
                    let closed = s.appendNumbers(to: &col, limit: 1 << 14)
                    input?.release(below: s.pos)
                    if closed { break }
                    guard try s.nextElement() else { break }
                    col.append(try readCell())
                }
                t.columns[name] = col
            } else {
                try s.skipValue()
            }
        }
        return t
    }

    /// `{name: column}` (gecko) or `[name, …]`.
    private func parseSchema() throws -> [String: Int] {
        var out: [String: Int] = [:]
        switch s.peekKind() {
        case .object:
            try s.beginObject()
            while let k = try s.nextKey() {
                let name = k.string
                s.skipWhitespace()
                let at = s.pos
                guard s.peekKind() == .number else { try s.skipValue(); continue }
                let v = try s.readNumber()
                guard v >= 0, v < 4096, v == v.rounded() else {
                    throw ProfileError("bad schema column \(v) for '\(name)' (expected a small index)", offset: at)
                }
                out[name] = Int(v)
            }
        case .array:
            try s.beginArray()
            var i = 0
            while try s.nextElement() {
                if s.peekKind() == .string { out[try s.readStringValue()] = i } else { try s.skipValue() }
                i += 1
            }
        default:
            try s.skipValue()
        }
        return out
    }

    // MARK: building

    private func strings(for t: RawThread) -> [String]? {
        if let own = t.strings { return own }
        var sc = t.scope
        while sc >= 0 {
            if let sh = sharedStrings[sc] { return sh }
            sc = scopeParent[sc]
        }
        return nil
    }

    static func metric(for weightType: String?) -> ValueType {
        switch weightType ?? "samples" {
        case "samples": return ValueType("samples", "count")
        case "tracing-ms": return ValueType("time", "milliseconds")
        case "bytes": return ValueType("memory", "bytes")
        default: return ValueType("weight", weightType ?? "")
        }
    }

    func build() throws -> ProfileBuilder {
        let b = ProfileBuilder(format: GeckoReader.name, metrics: [])
        if let seedFrames { b.frames = seedFrames }
        // Line votes per thread, cast once the default metric is known: (metric, function, line, weight).
        var lineVotes: [(metric: Int, function: Int32, line: Int32, weight: Double)] = []
        if threads.isEmpty { throw ProfileError("gecko profile has no threads", offset: 0) }
        var namesUsed: [String: Int] = [:]
        var samplesTotal = 0
        var nonFinite = 0
        // At most a node per stack row, counted from the rows read (not from any claimed length).
        b.reserve(nodes: 1 + threads.reduce(0) { $0 + ($1.stackTable?.count ?? 0) })
        for (ti, t) in threads.enumerated() {
            // Thread root.
            var name = t.name ?? (t.tid.map { "Thread \($0)" } ?? "thread \(ti + 1)")
            if let n = namesUsed[name] {
                namesUsed[name] = n + 1
                if let pid = t.pid, let tid = t.tid { name += " (pid \(pid), tid \(tid))" }
                else if let tid = t.tid { name += " (tid \(tid))" }
                else { name += " [\(n + 1)]" }
            } else {
                namesUsed[name] = 1
            }
            let threadRoot = mergeThreads ? 0 : b.child(of: 0, frame: b.frames.frame(name: name, file: nil, line: nil, kind: .thread))
            let label = "thread \(ti) '\(t.name ?? "")'"
            let type = t.samples?.weightType
            let vt = GeckoParser.metric(for: type)
            if vt.name == "weight" { warnings.append("\(label): unknown weightType '\(type ?? "")' (values kept as they are)") }
            let m = b.metrics.firstIndex(of: vt) ?? b.addMetric(vt)
            guard let samples = t.samples, samples.count > 0 else { continue }
            guard let stackTable = t.stackTable, let frameTable = t.frameTable else {
                throw ProfileError("\(label) has samples but no stackTable/frameTable", offset: t.offset)
            }
            guard let stackCol = samples.column("stack") else {
                throw ProfileError("\(label): samples have no 'stack' column", offset: samples.offset)
            }
            let weightCol = samples.column("weight")
            let prefixCol = stackTable.column("prefix") ?? []
            guard let frameCol = stackTable.column("frame") else {
                throw ProfileError("\(label): stackTable has no 'frame' column", offset: stackTable.offset)
            }
            let stackCount = min(stackTable.count, frameCol.count)
            let frames = try FrameResolver(thread: t, label: label, frameTable: frameTable, strings: strings(for: t), builder: b,
                                           mergeLines: mergeLines)
            // Self weight per frame row (lines merged): what that row's line votes with.
            var rowSelf = [Double](repeating: 0, count: mergeLines ? frames.count : 0)

            var memo = [Int32](repeating: -1, count: stackCount)
            var chain: [Int] = []
            var chainFrames: [Int32] = []
            var chainNodes: [Int32] = []
            func index(_ v: Double, _ limit: Int, _ what: String, _ table: Table) throws -> Int {
                guard v >= 0, v < Double(limit), v == v.rounded() else {
                    throw ProfileError("\(label): \(what) \(v) out of range (\(limit) entries)", offset: table.offset)
                }
                return Int(v)
            }
            func node(forStack start: Int) throws -> Int32 {
                if memo[start] >= 0 { return memo[start] }
                chain.removeAll(keepingCapacity: true)
                var cur = start
                var base = threadRoot
                while true {
                    chain.append(cur)
                    guard chain.count <= stackCount else {
                        throw ProfileError("\(label): stackTable prefixes form a cycle at stack \(start)", offset: stackTable.offset)
                    }
                    let p = cur < prefixCol.count ? prefixCol[cur] : .nan
                    if p.isNaN { break }
                    let pi = try index(p, stackCount, "stack prefix", stackTable)
                    if memo[pi] >= 0 { base = memo[pi]; break }
                    cur = pi
                }
                // The missing part of the path, root first, walked in one `descend`: its probes
                // are prefetched together instead of one cache miss waited for per node.
                chainFrames.removeAll(keepingCapacity: true)
                for idx in chain.reversed() {
                    let fi = try index(frameCol[idx], frames.count, "stack frame", stackTable)
                    chainFrames.append(try frames.frame(fi))
                }
                if chainNodes.count < chainFrames.count {
                    chainNodes.append(contentsOf: repeatElement(0, count: chainFrames.count - chainNodes.count))
                }
                let leaf = chainFrames.withUnsafeBufferPointer { fr in
                    chainNodes.withUnsafeMutableBufferPointer { out in
                        b.descend(from: base, through: fr, nodes: out.baseAddress!)
                    }
                }
                let depth = chain.count
                for (j, idx) in chain.enumerated() { memo[idx] = chainNodes[depth - 1 - j] }
                return leaf
            }

            let n = samples.count
            if let len = samples.length, len != min(stackCol.count, n) || stackCol.count < len {
                warnings.append("\(label): samples 'length' is \(len) but the table has \(stackCol.count)")
            }
            for i in 0..<min(n, stackCol.count) {
                let sv = stackCol[i]
                let nd = sv.isNaN ? threadRoot : try node(forStack: try index(sv, stackCount, "sample stack", samples))
                var w = 1.0
                if let wc = weightCol, i < wc.count, !wc[i].isNaN {
                    w = wc[i]
                    if !w.isFinite || abs(w) > 1e290 { nonFinite += 1; w = 0 }
                }
                if w != 0 {
                    b.addSelf(nd, metric: m, w)
                    if mergeLines, !sv.isNaN {
                        let fi = Int(frameCol[Int(sv)])
                        rowSelf[fi] += w
                    }
                }
            }
            samplesTotal += min(n, stackCol.count)
            for (row, w) in rowSelf.enumerated() where w > 0 {
                let (fn, line) = frames.vote(row)
                lineVotes.append((m, fn, line, w))
            }
        }
        if mergeThreads { b.mergedThreads = threads.count }
        if b.metrics.isEmpty { b.addMetric(ValueType("samples", "count")) }
        b.defaultMetric = b.metrics.firstIndex { $0.name == "time" } ?? 0
        for v in lineVotes where v.metric == b.defaultMetric { b.voteLine(function: v.function, line: v.line, v.weight) }
        b.sampleCount = samplesTotal
        if nonFinite > 0 { warnings.append("\(nonFinite) non-finite or huge weight(s) counted as 0") }
        b.warnings += warnings
        b.metadata += meta
        b.metadata.append(("threads", String(threads.count)))
        return b
    }
}

/// Frame table rows → frame ids, computed on first use.
private struct FrameResolver {
    let label: String
    let table: GeckoParser.Table
    let strings: [String]?
    let builder: ProfileBuilder
    let count: Int
    // processed
    let funcCol: [Double]?
    let lineCol: [Double]?
    let funcName: [Double]
    let funcFile: [Double]?
    let funcLine: [Double]?
    let funcIsJS: [Double]?
    let funcCount: Int
    // raw
    let locationCol: [Double]?
    private let cache: FrameCache
    let mergeLines: Bool

    /// Per frame row: its frame id, and (lines merged) the function and line it votes for.
    final class FrameCache {
        var ids: [Int32]
        var function: [Int32]
        var line: [Int32]
        init(_ n: Int, votes: Bool) {
            ids = [Int32](repeating: -1, count: n)
            function = [Int32](repeating: -1, count: votes ? n : 0)
            line = [Int32](repeating: 0, count: votes ? n : 0)
        }
    }

    /// The function and line frame row `i` (resolved) votes for.
    func vote(_ i: Int) -> (Int32, Int32) { (cache.function[i], cache.line[i]) }

    /// The frame for a row: its own, or its function's one frame when lines are merged (of
    /// the function's kind, as `mergingLines` maps them).
    private func makeFrame(_ i: Int, name: String, file: String?, line: Int?, kind: FrameKind) -> Int32 {
        guard mergeLines, !kind.isGrouping else { return builder.frames.frame(name: name, file: file, line: line, kind: kind) }
        let (f, fn) = builder.frames.mergedLineFrame(name: name, file: file, line: line, kind: kind)
        cache.function[i] = fn
        cache.line[i] = Int32(clamping: line ?? 0)
        return f
    }

    init(thread t: GeckoParser.RawThread, label: String, frameTable: GeckoParser.Table, strings: [String]?,
         builder: ProfileBuilder, mergeLines: Bool) throws {
        self.label = label
        self.mergeLines = mergeLines
        table = frameTable
        self.strings = strings
        self.builder = builder
        funcCol = frameTable.column("func")
        lineCol = frameTable.column("line")
        locationCol = frameTable.column("location")
        if funcCol != nil {
            guard let ft = t.funcTable, let names = ft.column("name") else {
                throw ProfileError("\(label): frameTable refers to functions but there is no funcTable with 'name'",
                                   offset: t.funcTable?.offset ?? frameTable.offset)
            }
            funcName = names
            funcFile = ft.column("fileName")
            funcLine = ft.column("lineNumber")
            funcIsJS = ft.column("isJS")
            funcCount = min(ft.count, names.count)
            count = min(frameTable.count, funcCol!.count)
        } else if let loc = locationCol {
            funcName = []; funcFile = nil; funcLine = nil; funcIsJS = nil; funcCount = 0
            count = min(frameTable.count, loc.count)
        } else {
            throw ProfileError("\(label): frameTable has neither 'func' nor 'location'", offset: frameTable.offset)
        }
        if strings == nil && count > 0 {
            throw ProfileError("\(label): no string table (stringTable, stringArray or shared.stringArray)", offset: t.offset)
        }
        cache = FrameCache(count, votes: mergeLines)
    }

    private func string(_ v: Double, _ what: String) throws -> String? {
        if v.isNaN { return nil }
        let strs = strings ?? []
        guard v >= 0, v < Double(strs.count), v == v.rounded() else {
            throw ProfileError("\(label): \(what) string index \(v) out of range (\(strs.count) strings)", offset: table.offset)
        }
        return strs[Int(v)]
    }

    private static func line(_ v: Double?) -> Int? {
        guard let v, v.isFinite, v >= 1, v <= 2e9 else { return nil }
        return Int(v)
    }

    func frame(_ i: Int) throws -> Int32 {
        let cached = cache.ids[i]
        if cached >= 0 { return cached }
        let id: Int32
        let rowLine = FrameResolver.line(lineCol.flatMap { i < $0.count ? $0[i] : nil })
        if let funcCol {
            let fv = funcCol[i]
            guard fv >= 0, fv < Double(funcCount), fv == fv.rounded() else {
                throw ProfileError("\(label): frame \(i) refers to function \(fv), out of range (\(funcCount) functions)",
                                   offset: table.offset)
            }
            let f = Int(fv)
            let name = try string(funcName[f], "function name") ?? "<unknown>"
            let file = try funcFile.flatMap { f < $0.count ? try string($0[f], "file name") : nil }
            let line = rowLine ?? FrameResolver.line(funcLine.flatMap { f < $0.count ? $0[f] : nil })
            let isJS = funcIsJS.map { f < $0.count && $0[f] == 1 } ?? (file != nil)
            let kind: FrameKind = name == "(root)" ? .special : (file == nil && !isJS ? .native : .function)
            id = makeFrame(i, name: name.isEmpty ? "<unknown>" : name, file: file?.isEmpty == true ? nil : file,
                           line: line, kind: kind)
        } else {
            let loc = try string(locationCol![i], "location") ?? "<unknown>"
            let p = FrameResolver.parseLocation(loc)
            id = makeFrame(i, name: p.name, file: p.file, line: p.line ?? rowLine, kind: p.kind)
        }
        cache.ids[i] = id
        return id
    }

    /// `name (url:line:col)` as speedscope's firefox importer reads it; hex addresses are native
    /// frames; other labels (C++ pseudo-stack entries) are native frames named as written.
    static func parseLocation(_ loc: String) -> (name: String, file: String?, line: Int?, kind: FrameKind) {
        if loc == "(root)" { return (loc, nil, nil, .special) }
        if loc.hasPrefix("0x") && loc.count > 2 && loc.dropFirst(2).allSatisfy({ $0.isHexDigit }) {
            return (loc, nil, nil, .native)
        }
        let u = Array(loc.utf8)
        if u.last == 0x29 {     // ')'
            // The last " (" (greedy name), as the regex `(.*)\s+\((.*?)(?::(\d+))?(?::(\d+))?\)$` picks.
            var i = u.count - 2
            while i > 0 {
                if u[i] == 0x28 && (u[i - 1] == 0x20 || u[i - 1] == 0x09) { break }
                i -= 1
            }
            if i > 0 {
                var nameEnd = i - 1
                while nameEnd > 0 && (u[nameEnd - 1] == 0x20 || u[nameEnd - 1] == 0x09) { nameEnd -= 1 }
                let (file, line) = splitURL(Array(u[(i + 1)..<(u.count - 1)]))
                let name = String(decoding: u[0..<nameEnd], as: UTF8.self)
                return (name.isEmpty ? "(anonymous)" : name, file, line, .function)
            }
        }
        // A top-level script: `url:line:col` alone. The name stays the location, as written.
        if loc.contains("://") && !loc.contains(" ") {
            let (file, line) = splitURL(u)
            return (loc, file, line, .function)
        }
        return (loc.isEmpty ? "<unknown>" : loc, nil, nil, .native)
    }

    /// `url:line:col` → (url, line); the numbers are optional.
    static func splitURL(_ bytes: [UInt8]) -> (file: String?, line: Int?) {
        var inner = bytes
        var nums: [Int] = []
        for _ in 0..<2 {
            guard let colon = inner.lastIndex(of: 0x3A), colon + 1 < inner.count,
                  inner[(colon + 1)...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  inner.count - colon - 1 <= 9 else { break }
            nums.insert(Int(String(decoding: inner[(colon + 1)...], as: UTF8.self)) ?? 0, at: 0)
            inner.removeSubrange(colon...)
        }
        let file = String(decoding: inner, as: UTF8.self)
        return (file.isEmpty ? nil : file, nums.first.flatMap { $0 >= 1 ? $0 : nil })
    }
}
