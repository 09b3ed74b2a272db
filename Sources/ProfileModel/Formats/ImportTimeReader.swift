/// `python -X importtime` (or `PYTHONPROFILEIMPORTTIME=1`) logs, FORMATS.md §10: on stderr, one
/// `import time: SELF | CUMULATIVE | NAME` line a module, in microseconds, the name indented two
/// spaces a nesting level. Lines are printed when an import finishes, so children come before
/// their parent; other stderr lines of the program are skipped. 3.14's `-X importtime=2`
/// `cached` rows (a module found already imported) become weightless nodes.
///
/// The tree's self weights are the printed self times, so each node's total adds up rounded
/// self times; the function table keeps each module's printed cumulative time.
public enum ImportTimeReader: ProfileReader {
    public static let name = "importtime"
    public static let title = "python -X importtime"

    static let prefix = Array("import time:".utf8)

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        var found = false, lines = 0
        prefix.forEachLine(complete: complete) { l in
            lines += 1
            let bytes = Array(l.utf8)
            if bytes.starts(with: ImportTimeReader.prefix) {
                let isHeader = l.contains("self [us]") && l.contains("cumulative")
                found = isHeader || bytes.withUnsafeBytes { ImportTimeParser.parse($0) != nil }
                return false
            }
            return lines < 200       // a program may print to stderr before its imports
        }
        return found ? .yes : .no
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let p = ImportTimeParser()
        try p.readLines(from: source)
        return try p.finish()
    }
}

final class ImportTimeParser: LineParser {
    private(set) var lineNumber = 0
    /// Modules kept: far more than any interpreter imports.
    static let maxModules = 1 << 22
    static let maxLevel = 4096

    private var names: [String] = []
    private var selfUs: [Double] = []
    private var cumUs: [Double] = []
    private var children: [[Int32]] = []
    /// Finished imports waiting for their parent's line, by nesting level.
    private var pending: [[Int32]] = [[]]
    /// `cached` rows whose level the padding does not tell: the next timed line adopts them.
    private var pendingUnplaced: [Int32] = []
    private var timed = 0, cached = 0, unparsed = 0, headers = 0

    /// A `import time: …` line: (self, cumulative, level, name bytes), nil when it is not one.
    /// `cached` rows have no times; their level comes from the padding (see FORMATS.md §10).
    static func parse(_ b: UnsafeRawBufferPointer) -> (own: Int64?, cum: Int64?, level: Int?, name: Range<Int>)? {
        var end = b.count
        while end > 0 && (b[end - 1] == 0x0D || b[end - 1] == 0x20) { end -= 1 }
        guard end > ImportTimeReader.prefix.count,
              ImportTimeReader.prefix.indices.allSatisfy({ b[$0] == ImportTimeReader.prefix[$0] }) else { return nil }
        var i = ImportTimeReader.prefix.count
        func field() -> (Int64?, Bool)? {           // a number, or `cached`; then `|`
            while i < end && b[i] == 0x20 { i += 1 }
            var v: Int64 = 0, digits = 0
            let start = i
            while i < end, b[i] >= 0x30, b[i] <= 0x39, digits < 18 { v = v * 10 + Int64(b[i] - 0x30); i += 1; digits += 1 }
            var isCached = false
            if digits == 0 {
                let word = Array("cached".utf8)
                guard end - start >= word.count, (0..<word.count).allSatisfy({ b[start + $0] == word[$0] }) else { return nil }
                i = start + word.count
                isCached = true
            }
            while i < end && b[i] == 0x20 { i += 1 }
            guard i < end, b[i] == 0x7C else { return nil }
            i += 1
            return (isCached ? nil : v, isCached)
        }
        guard let (s, sc) = field(), let (c, cc) = field(), sc == cc else { return nil }
        // One space, then two a level, then the name.
        guard i < end, b[i] == 0x20 else { return nil }
        i += 1
        var pad = 0
        while i + pad < end && b[i + pad] == 0x20 { pad += 1 }
        let nameStart = i + pad
        guard nameStart < end else { return nil }
        if sc {
            // Right-aligned in a field of 2×level: its level shows only when it is padded.
            let len = end - nameStart
            return (nil, nil, pad > 0 ? (pad + len) / 2 : nil, nameStart..<end)
        }
        return (s, c, pad / 2, nameStart..<end)
    }

    func line(_ b: UnsafeRawBufferPointer) throws {
        lineNumber += 1
        guard b.count >= ImportTimeReader.prefix.count,
              ImportTimeReader.prefix.indices.allSatisfy({ b[$0] == ImportTimeReader.prefix[$0] }) else { return }
        guard let row = ImportTimeParser.parse(b) else {
            let text = String(decoding: b, as: UTF8.self)
            if text.contains("self [us]") { headers += 1 } else { unparsed += 1 }
            return
        }
        if names.count >= ImportTimeParser.maxModules {
            throw ProfileError("more than \(ImportTimeParser.maxModules) import lines", line: lineNumber)
        }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: b[row.name]), as: UTF8.self)
        let id = Int32(names.count)
        names.append(name)
        selfUs.append(Double(row.own ?? 0))
        cumUs.append(Double(row.cum ?? 0))
        children.append([])
        guard let level = row.level else {
            cached += 1
            pendingUnplaced.append(id)
            return
        }
        if level > ImportTimeParser.maxLevel {
            throw ProfileError("import nested \(level) levels deep", line: lineNumber)
        }
        while pending.count <= level + 1 { pending.append([]) }
        if row.own == nil {
            cached += 1                               // pre-order: waits for its parent like a child
            pending[level].append(id)
            return
        }
        timed += 1
        children[Int(id)] = pending[level + 1] + pendingUnplaced
        pending[level + 1] = []
        pendingUnplaced = []
        // Deeper levels left over belong to an import that never printed (cut or interleaved).
        pending[level].append(id)
    }

    func finish() throws -> ProfileBuilder {
        guard timed > 0 else {
            throw ProfileError("no import time lines with times (expected 'import time: SELF | CUMULATIVE | NAME')",
                               line: max(1, lineNumber))
        }
        let b = ProfileBuilder(format: ImportTimeReader.name, metrics: [ValueType("time", "microseconds")])
        var roots = pending[0]
        var orphans = 0
        for l in 1..<pending.count { orphans += pending[l].count; roots += pending[l] }
        roots += pendingUnplaced
        var frameOf: [String: Int32] = [:]
        // The function table: printed self and cumulative times per module name. A name can
        // repeat (a failed import is retried; a package re-imported at the top): cumulative
        // times count only where no enclosing import has the same name, as totals do for
        // recursion, so a nested repeat is not counted twice.
        var selfW: [Double] = [], totalW: [Double] = []
        var path: [Int32] = [], onPath: [Int32: Int] = [:]
        // Iterative, root first: imports can nest deeper than the stack should.
        var stack: [(id: Int32, parent: Int32, depth: Int)] = roots.reversed().map { ($0, 0, 0) }
        while let (id, parent, depth) = stack.popLast() {
            while path.count > depth { let f = path.removeLast(); onPath[f]! -= 1 }
            let name = names[Int(id)]
            let f: Int32
            if let known = frameOf[name] { f = known } else {
                f = b.frames.frame(name: name, file: nil, line: nil, kind: .function)
                frameOf[name] = f
            }
            let node = b.child(of: parent, frame: f)
            b.addSelf(node, metric: 0, selfUs[Int(id)])
            let fn = Int(b.frames.frameFunction[Int(f)])
            while selfW.count <= fn { selfW.append(0); totalW.append(0) }
            selfW[fn] += selfUs[Int(id)]
            if onPath[f, default: 0] == 0 { totalW[fn] += cumUs[Int(id)] }
            path.append(f)
            onPath[f, default: 0] += 1
            for c in children[Int(id)].reversed() { stack.append((c, node, depth + 1)) }
        }
        let F = b.frames.functionCount
        while selfW.count < F { selfW.append(0); totalW.append(0) }
        b.exactFunctions = FunctionTable(count: F, selfWeight: [selfW], totalWeight: [totalW], calls: nil,
                                         primitiveCalls: nil, edgeCaller: [], edgeCallee: [], edgeWeight: [[]],
                                         edgeCalls: nil)
        b.metadata.append(("modules", String(timed)))
        if cached > 0 { b.metadata.append(("cached imports", String(cached))) }
        let rootCumulative = pending[0].reduce(0.0) { $0 + cumUs[Int($1)] }
        b.metadata.append(("total cumulative", "\(Int(rootCumulative)) µs"))
        if headers > 1 { b.metadata.append(("interpreters", String(headers))) }
        if orphans > 0 {
            b.warnings.append("\(orphans) import(s) whose parent's line is missing shown at the top (the log may be cut)")
        }
        if unparsed > 0 { b.warnings.append("\(unparsed) 'import time:' line(s) not understood were skipped") }
        return b
    }
}
