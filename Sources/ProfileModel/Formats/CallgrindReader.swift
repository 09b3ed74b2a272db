/// callgrind profiles (valgrind, yappi `-f callgrind`, xdebug; FORMATS.md §9.3): per function its
/// self cost lines, and per call (`cfn=` … `calls=`) the inclusive cost of that call. Like pstats
/// this is a call graph, not stacks: the function table is exact and the call tree is estimated
/// from it (CallGraphEstimate.swift).
public enum CallgrindReader: ProfileReader {
    public static let name = "callgrind"
    public static let title = "callgrind (valgrind, yappi)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        if prefix.contains(0) { return .no }
        var sawEvents = false, sawFn = false, first = true, found = false
        // `fl=` counts too: yappi lists every file (`fl=(id) name`) before the first `fn=`.
        prefix.forEachLine(complete: complete) { l in
            let t = trimmedBlanks(l)
            if t.isEmpty { return true }
            if first && t.hasPrefix("# callgrind format") { found = true; return false }
            first = false
            if t.hasPrefix("events:") { sawEvents = true }
            if t.hasPrefix("fn=") || t.hasPrefix("fl=") { sawFn = true }
            found = sawEvents && sawFn
            return !found
        }
        if found { return .yes }
        return sawEvents && !complete ? .needMore : .no
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let parser = CallgrindParser()
        try source.forEachChunk { try parser.feed($0) }
        return try parser.finish()
    }
}

/// Line-by-line callgrind parser. The profile is built at `finish` (a call graph has no
/// meaningful partial state to show).
final class CallgrindParser {
    private var carry: [UInt8] = []
    private(set) var lineNumber = 0

    // Header.
    private(set) var events: [String] = []
    private var positions = 1
    private var metadata: [(String, String)] = []
    private var creator = ""
    private var sawBody = false

    // Name compression: callgrind id → string id, per kind.
    private var fileNames: [Int: Int32] = [:]
    private var fnNames: [Int: Int32] = [:]
    private var objNames: [Int: Int32] = [:]

    // Functions (by name and file string ids) and their self costs, flat [fn * M + m].
    private var strings = ByteInterner(capacity: 1024)
    private var fnIndex: [Int64: Int32] = [:]
    private var fnName: [Int32] = []
    private var fnFile: [Int32] = []
    private var selfCost: [Double] = []
    private var hasBlock: [Bool] = []           // named by an `fn=` line (not only as a callee)
    // Calls, by (caller, callee): count and inclusive cost, flat [edge * M + m].
    private var edgeIndex = PairMap(capacity: 256)
    private var eCaller: [Int32] = [], eCallee: [Int32] = []
    private var eCalls: [Int64] = []
    private var eCost: [Double] = []
    private(set) var callRecords = 0
    private(set) var costLines = 0
    /// Functions as callgrind names them: distinct (name, file) pairs with costs or calls.
    var functionCount: Int { fnName.count }
    /// Function ids defined by name compression (`fn=(id) name`, `cfn=(id) name`).
    var functionIds: Int { fnNames.count }

    // Body state.
    private var curFile: Int32 = -1
    private var curFn: Int32 = -1
    /// The function named by the last `fn=` (name, file), created when a cost or call needs it:
    /// yappi lists every `fn=(id) name` once up front, which defines names, not functions.
    private var curFnName: Int32 = -1
    private var curFnFile: Int32 = -1
    private var calleeFile: Int32 = -1
    private var calleeName: Int32 = -1
    private var pendingCall: (callee: Int32, count: Int64)? = nil
    private var pendingPositionLine = false
    private var prevPositions: [Int64] = []
    private var prevCosts: [Int64] = []
    private var values: [Int64] = []
    private var skippedLines = 0
    private var firstSkippedLine = 0
    private var fnLines = 0

    func feed(_ input: UnsafeRawBufferPointer) throws {
        guard var p = input.baseAddress, input.count > 0 else { return }
        var n = input.count
        if !carry.isEmpty {
            guard let nl = memchr(p, 0x0A, n) else { try hold(p, n); return }
            let k = UnsafeRawPointer(nl) - p
            if carry.count + k > LineSplitter.defaultMaxLength { throw LineSplitter.overlongError(line: lineNumber + 1) }
            carry.append(contentsOf: UnsafeRawBufferPointer(start: p, count: k))
            let line = carry
            carry = []
            try line.withUnsafeBytes { try processLine($0.baseAddress ?? p, $0.count) }
            p += k + 1; n -= k + 1
        }
        while n > 0 {
            guard let nl = memchr(p, 0x0A, n) else { break }
            let k = UnsafeRawPointer(nl) - p
            if k > LineSplitter.defaultMaxLength { throw LineSplitter.overlongError(line: lineNumber + 1) }
            try processLine(p, k)
            p += k + 1; n -= k + 1
        }
        if n > 0 { try hold(p, n) }
    }

    /// Carries a line's start over to the next chunk; a line over `--max-line` fails.
    private func hold(_ p: UnsafeRawPointer, _ n: Int) throws {
        if carry.count + n > LineSplitter.defaultMaxLength { throw LineSplitter.overlongError(line: lineNumber + 1) }
        carry.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
    }

    private func fail(_ what: String) -> ProfileError { ProfileError(what, line: lineNumber) }

    private func processLine(_ p: UnsafeRawPointer, _ length: Int) throws {
        lineNumber += 1
        var end = length
        while end > 0 && PerfScriptParser.isSpace(p.load(fromByteOffset: end - 1, as: UInt8.self)) { end -= 1 }
        var start = 0
        if lineNumber == 1 && end >= 3 && p.load(as: UInt8.self) == 0xEF && p.load(fromByteOffset: 1, as: UInt8.self) == 0xBB
            && p.load(fromByteOffset: 2, as: UInt8.self) == 0xBF { start = 3 }
        while start < end && PerfScriptParser.isSpace(p.load(fromByteOffset: start, as: UInt8.self)) { start += 1 }
        if start == end { return }
        let b = p + start
        let n = end - start
        let c0 = b.load(as: UInt8.self)
        if c0 == 0x23 { return }                                                     // '#'
        if (c0 >= 0x30 && c0 <= 0x39) || c0 == 0x2B || c0 == 0x2D || c0 == 0x2A {    // digit + - *
            try costLine(b, n)
            return
        }
        // `key=value` (body) or `key: value` (header).
        var k = 0
        while k < n {
            let c = b.load(fromByteOffset: k, as: UInt8.self)
            if c == 0x3D || c == 0x3A { break }
            k += 1
        }
        guard k < n, k > 0 else { skip(); return }
        let key = String(decoding: UnsafeRawBufferPointer(start: b, count: k), as: UTF8.self)
        let value = trimmedBlanks(String(decoding: UnsafeRawBufferPointer(start: b + k + 1, count: n - k - 1), as: UTF8.self))
        if b.load(fromByteOffset: k, as: UInt8.self) == 0x3D {
            try specLine(key, value)
        } else {
            try headerLine(key, value)
        }
    }

    private func skip() {
        skippedLines += 1
        if firstSkippedLine == 0 { firstSkippedLine = lineNumber }
    }

    private func headerLine(_ key: String, _ value: String) throws {
        switch key {
        case "events":
            let names = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard !names.isEmpty else { throw fail("expected event names after 'events:'") }
            guard names.count <= CallgrindParser.maxEvents else {
                throw fail("\(names.count) event types (at most \(CallgrindParser.maxEvents) are supported)")
            }
            if !events.isEmpty && names != events {
                throw fail("a second 'events:' line with different events (\(names.joined(separator: " ")))")
            }
            if sawBody && events.isEmpty { throw fail("'events:' after the first cost line") }
            events = names
            prevCosts = [Int64](repeating: 0, count: names.count)
        case "positions":
            let names = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard (1...3).contains(names.count) else { throw fail("expected 'positions: line', 'instr' or 'instr line'") }
            positions = names.count
            prevPositions = [Int64](repeating: 0, count: positions)
        case "creator":
            creator = value
        default:
            break
        }
        if key != "events" && key != "event" { metadata.append((key, value)) }
    }

    /// `(id) name` defines, `(id)` refers, `name` is plain; returns a string id (-1 for empty).
    private func name(_ value: String, _ table: inout [Int: Int32], _ what: String) throws -> Int32 {
        guard value.hasPrefix("(") else { return value.isEmpty ? -1 : strings.intern(value) }
        guard let close = value.firstIndex(of: ")"),
              let id = Int(value[value.index(after: value.startIndex)..<close]) else {
            throw fail("expected '(id)' or '(id) name' for a \(what)")
        }
        let rest = trimmedBlanks(value[value.index(after: close)...])
        if !rest.isEmpty {
            let s = strings.intern(rest)
            table[id] = s
            return s
        }
        guard let s = table[id] else { throw fail("\(what) id (\(id)) used before it is defined") }
        return s
    }

    private func specLine(_ key: String, _ value: String) throws {
        sawBody = true
        switch key {
        case "fl":
            curFile = try name(value, &fileNames, "file")
            calleeFile = -1; calleeName = -1
        case "fi", "fe":
            _ = try name(value, &fileNames, "file")
        case "fn":
            fnLines += 1
            curFnName = try name(value, &fnNames, "function")
            curFnFile = curFile
            curFn = -1
            calleeFile = -1; calleeName = -1
            pendingCall = nil
        case "cfi", "cfl":
            calleeFile = try name(value, &fileNames, "file")
        case "cfn":
            calleeName = try name(value, &fnNames, "function")
        case "ob", "cob":
            _ = try name(value, &objNames, "object")
        case "calls":
            callRecords += 1
            let parts = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = parts.first, let count = CallgrindParser.number(Array(first.utf8)), count >= 0 else {
                throw fail("expected 'calls=<count> <target position>'")
            }
            guard currentFunction() >= 0 else { throw fail("'calls=' before any 'fn='") }
            guard calleeName >= 0 else { throw fail("'calls=' without a 'cfn=' naming the called function") }
            pendingCall = (function(calleeName, file: calleeFile >= 0 ? calleeFile : curFile), count)
            calleeFile = -1; calleeName = -1
        case "jump", "jcnd":
            pendingPositionLine = true
        default:
            skip()
        }
    }

    /// The function of the current `fn=` block, created on first use.
    private func currentFunction() -> Int32 {
        if curFn < 0 && curFnName >= 0 {
            curFn = function(curFnName, file: curFnFile)
            hasBlock[Int(curFn)] = true
        }
        return curFn
    }

    /// The function (name, file); yappi writes names as `name file:line`, which become the
    /// name and its definition line.
    private func function(_ name: Int32, file: Int32) -> Int32 {
        let key = Int64(name) << 32 | Int64(UInt32(bitPattern: file))
        if let f = fnIndex[key] { return f }
        let f = Int32(fnName.count)
        fnIndex[key] = f
        fnName.append(name)
        fnFile.append(file)
        hasBlock.append(false)
        selfCost.append(contentsOf: repeatElement(0, count: max(events.count, 1)))
        return f
    }

    static func number(_ u: [UInt8]) -> Int64? {
        u.withUnsafeBytes { b in b.baseAddress.flatMap { number($0, 0, b.count) } }
    }

    /// More event types than any valgrind tool writes; each costs a Double per function and call.
    static let maxEvents = 64

    /// Decimal or `0x` hex digits in p[i..<end].
    @inline(__always)
    static func number(_ p: UnsafeRawPointer, _ i: Int, _ end: Int) -> Int64? {
        guard i < end else { return nil }
        var v: Int64 = 0
        if end - i > 2 && p.load(fromByteOffset: i, as: UInt8.self) == 0x30
            && (p.load(fromByteOffset: i + 1, as: UInt8.self) | 0x20) == 0x78 {
            guard end - i - 2 <= 16 else { return nil }
            for j in (i + 2)..<end {
                let c = p.load(fromByteOffset: j, as: UInt8.self)
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x61...0x66: d = c - 0x61 + 10
                case 0x41...0x46: d = c - 0x41 + 10
                default: return nil
                }
                v = (v << 4) | Int64(d)
            }
            return v
        }
        guard end - i <= 18 else { return nil }
        for j in i..<end {
            let c = p.load(fromByteOffset: j, as: UInt8.self)
            guard c >= 0x30 && c <= 0x39 else { return nil }
            v = v * 10 + Int64(c - 0x30)
        }
        return v
    }

    /// `<positions> <costs>`. Positions may be relative (`+n`, `-n`) or repeated (`*`); speedscope
    /// also reads costs that way, a harmless extension (costs are plain numbers in the spec).
    private func costLine(_ b: UnsafeRawPointer, _ n: Int) throws {
        sawBody = true
        guard !events.isEmpty else { throw fail("a cost line before the 'events:' line") }
        if prevPositions.count != positions { prevPositions = [Int64](repeating: 0, count: positions) }
        values.removeAll(keepingCapacity: true)
        var i = 0
        while i < n {
            while i < n && PerfScriptParser.isSpace(b.load(fromByteOffset: i, as: UInt8.self)) { i += 1 }
            if i == n { break }
            var j = i
            while j < n && !PerfScriptParser.isSpace(b.load(fromByteOffset: j, as: UInt8.self)) { j += 1 }
            let col = values.count
            let prev: Int64 = col < positions ? prevPositions[col]
                : (col - positions < prevCosts.count ? prevCosts[col - positions] : 0)
            let c = b.load(fromByteOffset: i, as: UInt8.self)
            let v: Int64
            if c == 0x2A && j == i + 1 {
                v = prev
            } else if c == 0x2B || c == 0x2D {
                guard let d = CallgrindParser.number(b, i + 1, j) else { throw fail("expected a number in a cost line") }
                v = c == 0x2B ? prev &+ d : prev &- d
            } else {
                guard let d = CallgrindParser.number(b, i, j) else { throw fail("expected a number in a cost line") }
                v = d
            }
            if col >= positions + events.count { break }      // extra columns are ignored
            values.append(v)
            i = j
        }
        guard values.count >= positions else { throw fail("expected \(positions) position(s) in a cost line") }
        for k in 0..<positions { prevPositions[k] = values[k] }
        let M = events.count
        for m in 0..<M { prevCosts[m] = positions + m < values.count ? values[positions + m] : 0 }
        if pendingPositionLine { pendingPositionLine = false; return }
        costLines += 1
        if let call = pendingCall {
            pendingCall = nil
            guard currentFunction() >= 0 else { return }
            let e = Int(edgeIndex.getOrInsert(curFn, call.callee) {
                eCaller.append(curFn); eCallee.append(call.callee); eCalls.append(0)
                eCost.append(contentsOf: repeatElement(0, count: M))
                return Int32(eCaller.count - 1)
            })
            eCalls[e] += call.count
            for m in 0..<M { eCost[e * M + m] += Double(prevCosts[m]) }
            return
        }
        if currentFunction() < 0 {
            // Costs before any `fn=` belong to an unnamed function.
            curFn = function(strings.intern("(unknown)"), file: curFile)
            hasBlock[Int(curFn)] = true
        }
        let base = Int(curFn) * M
        if selfCost.count < base + M { selfCost.append(contentsOf: repeatElement(0, count: base + M - selfCost.count)) }
        for m in 0..<M { selfCost[base + m] += Double(prevCosts[m]) }
    }

    func finish() throws -> ProfileBuilder {
        if !carry.isEmpty {
            let line = carry
            carry = []
            try line.withUnsafeBytes { b in if let base = b.baseAddress { try processLine(base, b.count) } }
        }
        guard !events.isEmpty else { throw ProfileError("no 'events:' line (not a callgrind profile?)", line: lineNumber) }
        guard !fnName.isEmpty else {
            // yappi names every function up front (`fn=(id) name`) and gives costs after: a file
            // cut in between has many `fn=` lines and no cost.
            if fnLines > 0 {
                throw ProfileError("the file ends at line \(lineNumber) after \(fnLines) 'fn=' lines but before any cost line (cut short?)",
                                   line: lineNumber)
            }
            throw ProfileError("no functions ('fn=' lines) before the end at line \(lineNumber) (cut short, or not a callgrind profile?)",
                               line: lineNumber)
        }
        let M = events.count
        let timeUnit = creator.lowercased().hasPrefix("yappi")
        let builder = ProfileBuilder(format: CallgrindReader.name,
                                     metrics: events.map { ValueType($0, timeUnit ? "microseconds" : "count") },
                                     defaultMetric: 0)
        builder.estimatedTree = true
        builder.metadata = metadata
        // Builder functions: (name, file, definition line); several callgrind ids can be one.
        let strs = strings
        var toFn = [Int32](repeating: -1, count: fnName.count)
        for f in 0..<fnName.count {
            var name = strs.string(fnName[f])
            let file: String? = fnFile[f] >= 0 ? strs.string(fnFile[f]) : nil
            var line: Int? = nil
            // yappi: "name file:line" where file is the function's own file.
            // The file may hold spaces itself (`<frozen importlib._bootstrap>`), so match the whole
            // " file:line" suffix rather than splitting at the last space.
            if let file, let colon = name.lastIndex(of: ":"),
               let l = Int(name[name.index(after: colon)...]), l >= 0,
               name[..<colon].hasSuffix(" " + file) {
                line = l
                name = String(name[..<name.index(colon, offsetBy: -(file.count + 1))])
            }
            let frame = builder.frames.frame(name: name, file: file, line: line, kind: .function, lineIsDefinition: true)
            toFn[f] = builder.frames.frameFunction[Int(frame)]
        }
        let F = builder.frames.functionCount
        var selfW = [[Double]](repeating: [Double](repeating: 0, count: F), count: M)
        for f in 0..<fnName.count {
            for m in 0..<M where f * M + m < selfCost.count { selfW[m][Int(toFn[f])] += selfCost[f * M + m] }
        }
        // Edges between builder functions.
        var idx = PairMap(capacity: max(16, eCaller.count))
        var caller: [Int32] = [], callee: [Int32] = [], calls: [Int64] = []
        var edgeW = [[Double]](repeating: [], count: M)
        for e in 0..<eCaller.count {
            let a = toFn[Int(eCaller[e])], c = toFn[Int(eCallee[e])]
            let k = Int(idx.getOrInsert(a, c) {
                caller.append(a); callee.append(c); calls.append(0)
                for m in 0..<M { edgeW[m].append(0) }
                return Int32(caller.count - 1)
            })
            calls[k] += eCalls[e]
            for m in 0..<M { edgeW[m][k] += eCost[e * M + m] }
        }
        // Totals (KCachegrind's inclusive cost): self plus the calls made, recursive calls
        // excluded; for a function with no cost block of its own, what its callers report.
        var block = [Bool](repeating: false, count: F)
        for f in 0..<fnName.count where hasBlock[f] { block[Int(toFn[f])] = true }
        var totalW = selfW
        var inW = [[Double]](repeating: [Double](repeating: 0, count: F), count: M)
        var nc = [Int64](repeating: -1, count: F), cc = [Int64](repeating: -1, count: F)
        for k in 0..<caller.count {
            let a = Int(caller[k]), c = Int(callee[k])
            nc[c] = max(nc[c], 0) + calls[k]
            if a == c { continue }
            cc[c] = max(cc[c], 0) + calls[k]
            for m in 0..<M {
                totalW[m][a] += edgeW[m][k]
                inW[m][c] += edgeW[m][k]
            }
        }
        for m in 0..<M { for f in 0..<F where !block[f] { totalW[m][f] = inW[m][f] } }
        for f in 0..<F where nc[f] >= 0 && cc[f] < 0 { cc[f] = 0 }
        builder.exactFunctions = FunctionTable(
            count: F, selfWeight: selfW, totalWeight: totalW, calls: nc, primitiveCalls: cc,
            edgeCaller: caller, edgeCallee: callee, edgeWeight: edgeW, edgeCalls: calls)
        CallGraphEstimate(count: F, selfWeight: selfW, totalWeight: totalW, calls: nc, primitiveCalls: cc,
                          isEntry: [Bool](repeating: true, count: F), edgeCaller: caller, edgeCallee: callee,
                          edgeWeight: edgeW, edgeCalls: calls,
                          rootTotal: selfW.map { $0.reduce(0, +) }).build(into: builder)
        if skippedLines > 0 {
            builder.warnings.append("\(skippedLines) line(s) not understood skipped (first at line \(firstSkippedLine))")
        }
        if pendingCall != nil { builder.warnings.append("the last 'calls=' line has no cost line") }
        return builder
    }
}
