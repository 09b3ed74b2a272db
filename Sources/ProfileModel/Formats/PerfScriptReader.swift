/// `perf script` text (FORMATS.md §7), read the way inferno-collapse-perf and
/// stackcollapse-perf.pl read it with their default options: one record per blank-line-separated
/// block, an event line (`comm pid[/tid] [cpu] time: [period] event:`) and then one stack line per
/// frame, leaf first (`addr symbol[+0xoff] (dso)`). The root frame is the command name (spaces
/// become `_`, a process frame), under it the `[pid/]tid` (a thread frame); each frame's file is
/// its DSO (none when perf says `[unknown]`); symbols lose their `+0x` offset and argument list, `[unknown]` becomes `[dso]`,
/// Java inlined frames (`a->b`) are split, Rust symbols perf left half-mangled are fixed. Each
/// record weighs its period (1 when absent); only the first event type seen is kept.
public enum PerfScriptReader: ProfileReader {
    public static let name = "perf-script"
    public static let title = "perf script text"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        if prefix.contains(0) { return .no }
        var lastWasEvent = false
        var result: SniffResult? = nil
        prefix.forEachLine(complete: complete) { l in
            let bytes = Array(trimmedBlanks(l).utf8)
            if bytes.first == 0x23 { return true }                    // '#'
            if bytes.isEmpty { lastWasEvent = false; return true }
            let ok = bytes.withUnsafeBytes { b -> Bool in
                guard let base = b.baseAddress else { return false }
                return lastWasEvent ? PerfScriptParser.stackLineParts(base, b.count) != nil
                                    : PerfScriptParser.eventLineParts(base, b.count) != nil
            }
            if lastWasEvent { result = ok ? .yes : .no; return false }
            if !ok { result = .no; return false }
            lastWasEvent = true
            return true
        }
        if let result { return result }
        return complete ? .no : .needMore
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let parser = PerfScriptParser()
        try source.forEachChunk {
            parser.feed($0)
            if parser.overlongLine > 0 { throw LineSplitter.overlongError(line: parser.overlongLine) }
        }
        return try parser.finish()
    }
}

/// Incremental `perf script` parser (feed any chunk sizes, then `finish`).
final class PerfScriptParser {
    public let builder: ProfileBuilder
    private var lines = LineSplitter()
    public private(set) var lineNumber = 0
    /// Records kept (with at least one frame).
    public private(set) var events = 0
    public private(set) var total = 0.0
    /// The event type kept (the first one seen), and how many records of other types were skipped.
    public private(set) var eventName: String? = nil
    private var eventFilter: [UInt8]? = nil
    public private(set) var skippedEvents: [String: Int] = [:]
    private var skippedOrder: [String] = []
    public private(set) var weirdLines = 0
    private var firstWeirdLine = 0
    private var periodSeen = false

    // Record state.
    private var inEvent = false
    private var skipStack = false
    private var period: Double? = nil
    private var commFrame: Int32 = -1
    private var threadFrame: Int32 = -1
    private var commIsJava = false
    private var leafFirst: [Int32] = []

    // Caches: command names → root frames; (symbol, dso, java?) → frames.
    private var comms = ByteInterner(capacity: 64)
    private var commToFrame: [Int32] = []
    private var commJava: [Bool] = []
    // (pid word, command frame) → thread frames.
    private var threads = ByteInterner(capacity: 64)
    private var threadToFrame: [Int32] = []
    private var raw = ByteInterner(capacity: 4096)
    private var rawStart: [Int32] = []
    private var rawCount: [Int32] = []
    private var rawFrames: [Int32] = []
    private var key: [UInt8] = []

    // Path reuse.
    private var path: [Int32] = []
    private var prevPath: [Int32] = []
    private var prevNodes: [Int32] = []

    public init(builder: ProfileBuilder? = nil) {
        self.builder = builder ?? ProfileBuilder(format: PerfScriptReader.name, metrics: [ValueType("samples", "count")])
    }

    public func feed(_ input: UnsafeRawBufferPointer) {
        lines.feed(input) { processLine($0, $1) }
    }

    public func finish() throws -> ProfileBuilder {
        lines.finish { processLine($0, $1) }
        if !leafFirst.isEmpty { afterEvent() }
        if events == 0 {
            if weirdLines > 0 {
                throw ProfileError("no perf sample with a stack (expected an event line 'comm pid time: event:' "
                                   + "followed by stack lines 'addr symbol (dso)')", line: firstWeirdLine)
            }
            throw ProfileError("no perf sample with a stack", line: max(lineNumber, 1))
        }
        let label = eventName.flatMap { $0.isEmpty ? nil : $0 } ?? "samples"
        // perf's software clocks count their period in nanoseconds: that is time, not a count.
        let clock = label == "cpu-clock" || label == "task-clock"
        builder.setMetric(0, periodSeen ? ValueType(label, clock ? "nanoseconds" : "count") : ValueType("samples", "count"))
        if let eventName, !eventName.isEmpty { builder.metadata.append(("event", eventName)) }
        builder.sampleCount = events
        builder.warnings = warnings
        return builder
    }

    public var warnings: [String] {
        var w: [String] = []
        if !skippedOrder.isEmpty {
            let n = skippedEvents.values.reduce(0, +)
            let list = skippedOrder.map { "\($0.isEmpty ? "?" : $0): \(skippedEvents[$0] ?? 0)" }.joined(separator: ", ")
            w.append("\(n) record(s) of other event types skipped (\(list)); only the first type seen, "
                     + "'\(eventName ?? "")', is kept")
        }
        if weirdLines > 0 {
            w.append("\(weirdLines) line(s) that are neither event nor stack lines skipped (first at line \(firstWeirdLine))")
        }
        return w
    }

    @inline(__always)
    private func weird() {
        weirdLines += 1
        if firstWeirdLine == 0 { firstWeirdLine = lineNumber }
    }

    @inline(__always)
    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }

    /// The first line over `LineSplitter.maxLength` (0: none).
    public private(set) var overlongLine = 0

    private func processLine(_ p: UnsafeRawPointer, _ length: Int) {
        lineNumber += 1
        if length < 0 {
            if overlongLine == 0 { overlongLine = lineNumber }
            weird()
            return
        }
        if length > 0 && p.load(as: UInt8.self) == 0x23 { return }                // '#'
        var end = length
        while end > 0 && PerfScriptParser.isSpace(p.load(fromByteOffset: end - 1, as: UInt8.self)) { end -= 1 }
        if end == 0 {
            afterEvent()
        } else if inEvent {
            stackLine(p, end)
        } else {
            eventLine(p, end)
            if !leafFirst.isEmpty { afterEvent() }      // an event line that carried its one frame
        }
    }

    /// inferno's event_line_parts: the first all-digit word (optionally `pid/tid`) followed by a
    /// space ends the command name. Returns (comm start, comm end, index after the pid word).
    static func eventLineParts(_ p: UnsafeRawPointer, _ n: Int) -> (Int, Int, Int)? {
        var wordStart = 0
        var allDigits = false
        var lastWasSpace = false
        for idx in 0..<n {
            let c = p.load(fromByteOffset: idx, as: UInt8.self)
            if c == 0x20 {
                if allDigits && !lastWasSpace && wordStart > 0 {
                    var a = 0, b = wordStart - 1
                    while a < b && isSpace(p.load(fromByteOffset: a, as: UInt8.self)) { a += 1 }
                    while b > a && isSpace(p.load(fromByteOffset: b - 1, as: UInt8.self)) { b -= 1 }
                    return (a, b, idx + 1)
                }
                wordStart = idx + 1
                allDigits = true
            } else if c == 0x2F || (c >= 0x30 && c <= 0x39) {
                // still all digits ('/' separates pid and tid)
            } else {
                allDigits = false
            }
            lastWasSpace = c == 0x20
        }
        return nil
    }

    private func eventLine(_ p: UnsafeRawPointer, _ n: Int) {
        inEvent = true
        guard let (commStart, commEnd, after) = PerfScriptParser.eventLineParts(p, n) else {
            weird()
            inEvent = false
            return
        }
        // `[cpu] time: [period] event[:modifiers]:[ stack]` — the event is the last word between
        // the first and second colons, the period the word before it.
        var c1 = -1, c2 = -1
        var i = after
        while i < n {
            if p.load(fromByteOffset: i, as: UInt8.self) == 0x3A {
                if c1 < 0 { c1 = i } else { c2 = i; break }
            }
            i += 1
        }
        var recordPeriod: Double? = nil
        if c1 >= 0 {
            let segEnd = c2 >= 0 ? c2 : n
            var s = segEnd
            while s > c1 + 1 && p.load(fromByteOffset: s - 1, as: UInt8.self) != 0x20 { s -= 1 }
            let event = UnsafeRawBufferPointer(start: p + s, count: segEnd - s)
            if let filter = eventFilter {
                if !filter.elementsEqual(event) {
                    let name = String(decoding: event, as: UTF8.self)
                    if skippedEvents[name] == nil { skippedOrder.append(name) }
                    skippedEvents[name, default: 0] += 1
                    skipStack = true
                    return
                }
            } else {
                eventFilter = Array(event)
                eventName = String(decoding: event, as: UTF8.self)
            }
            // The period: the word before the event, if it is a number.
            var e = s
            while e > c1 + 1 && p.load(fromByteOffset: e - 1, as: UInt8.self) == 0x20 { e -= 1 }
            var b = e
            while b > c1 + 1 && p.load(fromByteOffset: b - 1, as: UInt8.self) != 0x20 { b -= 1 }
            if b < e && e - b <= 18 {
                var v: Int64 = 0
                var ok = true
                for j in b..<e {
                    let c = p.load(fromByteOffset: j, as: UInt8.self)
                    if c < 0x30 || c > 0x39 { ok = false; break }
                    v = v * 10 + Int64(c - 0x30)
                }
                if ok { recordPeriod = Double(v) }
            }
        }
        period = recordPeriod
        if recordPeriod != nil { periodSeen = true }
        // The root frames: the command name (spaces replaced by '_', as the collapsers write it)
        // as a process frame, then the `[pid/]tid` word perf printed as a thread frame, so
        // `--threads split` separates commands and threads and merged mode hides both.
        var isNew = false
        let cid = comms.intern(p + commStart, commEnd - commStart, isNew: &isNew)
        if isNew {
            let name = String(decoding: UnsafeRawBufferPointer(start: p + commStart, count: commEnd - commStart),
                              as: UTF8.self).replacingSpaces()
            commToFrame.append(builder.frames.frame(name: name, file: nil, line: nil, kind: .process))
            commJava.append(name == "java")
        }
        commFrame = commToFrame[Int(cid)]
        commIsJava = commJava[Int(cid)]
        // The pid word ends at the space before `after`; perf prints `tid` alone by default and
        // `pid/tid` with `-F +pid`.
        var w = after - 1
        while w > 0 && p.load(fromByteOffset: w - 1, as: UInt8.self) != 0x20 { w -= 1 }
        key.removeAll(keepingCapacity: true)
        key.append(contentsOf: UnsafeRawBufferPointer(start: p + w, count: after - 1 - w))
        key.append(0)
        withUnsafeBytes(of: commFrame) { key.append(contentsOf: $0) }
        var threadIsNew = false
        let tid = key.withUnsafeBytes { threads.intern($0.baseAddress!, $0.count, isNew: &threadIsNew) }
        if threadIsNew {
            let word = String(decoding: UnsafeRawBufferPointer(start: p + w, count: after - 1 - w), as: UTF8.self)
            let parts = word.split(separator: "/", omittingEmptySubsequences: false)
            let name = parts.count == 2 ? "pid \(parts[0]) tid \(parts[1])" : "tid \(word)"
            threadToFrame.append(builder.frames.frame(name: name, file: nil, line: nil, kind: .thread))
        }
        threadFrame = threadToFrame[Int(tid)]
        // A one-frame stack may follow the event on the same line.
        if c2 >= 0 {
            var s = c2 + 1
            var k = s
            while k < n {
                let c = p.load(fromByteOffset: k, as: UInt8.self)
                if c == 0x3A || c == 0x20 { s = k + 1; break }
                k += 1
            }
            if k == n { s = c2 + 1 }
            while s < n && PerfScriptParser.isSpace(p.load(fromByteOffset: s, as: UInt8.self)) { s += 1 }
            if s < n {
                stackLine(p + s, n - s)
                inEvent = false
            }
        }
    }

    /// inferno's stack_line_parts: (pc range, symbol range, module range without the parentheses).
    /// The symbol is " " when empty (two spaces before the module).
    static func stackLineParts(_ p: UnsafeRawPointer, _ n: Int) -> (sym: (Int, Int), mod: (Int, Int))? {
        var s = 0
        while s < n && isSpace(p.load(fromByteOffset: s, as: UInt8.self)) { s += 1 }
        guard let sp = memchr(p + s, 0x20, n - s) else { return nil }
        let pcEnd = UnsafeRawPointer(sp) - p
        let rest = pcEnd + 1
        var last = n - 1
        while last >= rest && p.load(fromByteOffset: last, as: UInt8.self) != 0x20 { last -= 1 }
        guard last >= rest else { return nil }
        let modStart = last + 1
        guard n - modStart >= 2, p.load(fromByteOffset: modStart, as: UInt8.self) == 0x28,
              p.load(fromByteOffset: n - 1, as: UInt8.self) == 0x29 else { return nil }
        var a = rest, b = last
        while a < b && isSpace(p.load(fromByteOffset: a, as: UInt8.self)) { a += 1 }
        while b > a && isSpace(p.load(fromByteOffset: b - 1, as: UInt8.self)) { b -= 1 }
        return ((a, b), (modStart + 1, n - 1))
    }

    @inline(__always)
    private static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
    }

    private func stackLine(_ p: UnsafeRawPointer, _ n: Int) {
        if skipStack { return }
        guard let (sym, mod) = PerfScriptParser.stackLineParts(p, n) else { weird(); return }
        var (a, b) = sym
        let emptySymbol = a == b                           // shown as " ", like stackcollapse-perf.pl
        // Strip a `+0x<hex>` symbol offset: scan back over hex digits to the `x` of `+0x`.
        if !emptySymbol {
            var j = b - 1
            while j >= a && PerfScriptParser.isHex(p.load(fromByteOffset: j, as: UInt8.self)) { j -= 1 }
            if j >= a + 2 && p.load(fromByteOffset: j, as: UInt8.self) == 0x78
                && p.load(fromByteOffset: j - 1, as: UInt8.self) == 0x30
                && p.load(fromByteOffset: j - 2, as: UInt8.self) == 0x2B {
                b = j - 2
            }
            if b > a && p.load(fromByteOffset: a, as: UInt8.self) == 0x28 { return }   // `(...)`: skipped
        }
        // Cache key: symbol, NUL, module, and whether the command is java (tidy_java).
        key.removeAll(keepingCapacity: true)
        if emptySymbol { key.append(0x20) } else { key.append(contentsOf: UnsafeRawBufferPointer(start: p + a, count: b - a)) }
        key.append(0)
        key.append(contentsOf: UnsafeRawBufferPointer(start: p + mod.0, count: mod.1 - mod.0))
        key.append(commIsJava ? 1 : 0)
        var isNew = false
        let rid = key.withUnsafeBytes { raw.intern($0.baseAddress!, $0.count, isNew: &isNew) }
        if isNew {
            let symbol = emptySymbol ? " " : String(decoding: UnsafeRawBufferPointer(start: p + a, count: b - a), as: UTF8.self)
            let module = String(decoding: UnsafeRawBufferPointer(start: p + mod.0, count: mod.1 - mod.0), as: UTF8.self)
            rawStart.append(Int32(rawFrames.count))
            let names = PerfScriptParser.frameNames(symbol: symbol, module: module, java: commIsJava)
            let kernel = PerfScriptParser.isKernel(module)
            // The DSO is the frame's file, so reports and the viewer print it beside the symbol
            // (as `perf report --sort dso,sym` does) and one symbol in two objects is two functions.
            let dso: String? = module.isEmpty || module == "[unknown]" ? nil : module
            for name in names {
                rawFrames.append(builder.frames.frame(name: name, file: dso, line: nil, kind: kernel ? .native : .function))
            }
            rawCount.append(Int32(names.count))
        }
        let start = Int(rawStart[Int(rid)]), count = Int(rawCount[Int(rid)])
        var k = start + count - 1
        while k >= start { leafFirst.append(rawFrames[k]); k -= 1 }
    }

    private func afterEvent() {
        if !leafFirst.isEmpty {
            path.removeAll(keepingCapacity: true)
            path.append(commFrame)
            path.append(threadFrame)
            var k = leafFirst.count - 1
            while k >= 0 { path.append(leafFirst[k]); k -= 1 }
            var shared = 0
            let m = min(path.count, prevPath.count)
            while shared < m && path[shared] == prevPath[shared] { shared += 1 }
            let top: Int32 = shared > 0 ? prevNodes[shared - 1] : 0
            let node = builder.descend(from: top, path: path, after: shared, nodes: &prevNodes)
            swap(&path, &prevPath)
            let w = period ?? 1
            builder.addSelf(node, metric: 0, w)
            total += w
            events += 1
        }
        inEvent = false
        skipStack = false
        period = nil
        leafFirst.removeAll(keepingCapacity: true)
    }

    // MARK: frame names (inferno's defaults)

    static func isKernel(_ module: String) -> Bool {
        module != "[unknown]" && (module.hasPrefix("[") || module.hasSuffix("vmlinux"))
    }

    /// The frames one stack line stands for, outermost first (Java inlining splits on `->`).
    static func frameNames(symbol: String, module: String, java: Bool) -> [String] {
        let fixed = fixPartiallyDemangledRust(symbol)
        var out: [String] = []
        for part in fixed.components(separatedBy: "->") {
            var f = part
            if f == "[unknown]" && module != "[unknown]" {
                let base = module.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? module
                f = "[" + base + "]"
            }
            f = tidyGeneric(f)
            if java && f.hasPrefix("L") && f.contains("/") { f.removeFirst() }
            if !out.isEmpty { f += "_[i]" }
            out.append(f)
        }
        return out
    }

    /// `;` becomes `:` and a top-level argument list is dropped, except Go's `pkg.(*T).M` and C++'s
    /// `(anonymous namespace)`; parentheses inside `<>`, `{}` or `[]` are not argument lists.
    static func tidyGeneric(_ s: String) -> String {
        var u = Array(s.utf8)
        for i in u.indices where u[i] == 0x3B { u[i] = 0x3A }
        var depth = 0
        var lastDot = -1
        var cut = u.count
        let anon = Array("(anonymous namespace)".utf8)
        var i = 0
        while i < u.count {
            switch u[i] {
            case 0x3C, 0x7B, 0x5B: depth += 1                       // < { [
            case 0x3E, 0x7D, 0x5D, 0x29: depth -= 1                 // > } ] )
            case 0x28:                                              // (
                if depth == 0 {
                    let isGo = lastDot == i
                    let isAnon = u.count - i >= anon.count && Array(u[i..<(i + anon.count)]) == anon
                    if !isGo && !isAnon { cut = i; i = u.count; continue }
                }
                depth += 1
            case 0x2E: lastDot = i + 1                              // .
            default: break
            }
            i += 1
        }
        return String(decoding: u[0..<cut], as: UTF8.self)
    }

    /// inferno's fix_partially_demangled_rust_symbol: `_$LT$a..b$GT$::f::h0123456789abcdef` →
    /// `<a::b>::f`. Other symbols are returned unchanged.
    static func fixPartiallyDemangledRust(_ symbol: String) -> String {
        let u = Array(symbol.utf8)
        let hashLength = 17
        guard u.count >= hashLength else { return symbol }
        let h = u[(u.count - hashLength)...]
        guard h.first == 0x68, h.dropFirst().allSatisfy(isHex) else { return symbol }
        var rest = Array(u[0..<(u.count - hashLength)])
        if rest.count >= 2 && rest[rest.count - 1] == 0x3A && rest[rest.count - 2] == 0x3A { rest.removeLast(2) }
        if rest.count >= 2 && rest[0] == 0x5F && rest[1] == 0x24 { rest.removeFirst() }
        let table: [(String, String)] = [
            ("$SP$", "@"), ("$BP$", "*"), ("$RF$", "&"), ("$LT$", "<"), ("$GT$", ">"), ("$LP$", "("),
            ("$RP$", ")"), ("$C$", ","), ("$u7e$", "~"), ("$u20$", " "), ("$u27$", "'"), ("$u3d$", "="),
            ("$u5b$", "["), ("$u5d$", "]"), ("$u7b$", "{"), ("$u7d$", "}"), ("$u3b$", ";"), ("$u2b$", "+"),
            ("$u21$", "!"), ("$u22$", "\""),
        ]
        let patterns = table.map { (Array($0.0.utf8), Array($0.1.utf8)) }
        var out: [UInt8] = []
        var i = 0
        outer: while i < rest.count {
            let c = rest[i]
            if c == 0x2E {                                                  // '.'
                if i + 1 < rest.count && rest[i + 1] == 0x2E { out += [0x3A, 0x3A]; i += 2 } else { out.append(0x2E); i += 1 }
            } else if c == 0x24 {                                           // '$'
                for (pat, rep) in patterns where rest.count - i >= pat.count && Array(rest[i..<(i + pat.count)]) == pat {
                    out += rep
                    i += pat.count
                    continue outer
                }
                out += rest[i...]
                break
            } else {
                var j = i
                while j < rest.count && rest[j] != 0x24 && rest[j] != 0x2E { j += 1 }
                out += rest[i..<j]
                i = j
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    fileprivate func replacingSpaces() -> String {
        String(decoding: utf8.map { $0 == 0x20 ? 0x5F : $0 }, as: UTF8.self)
    }
}
