/// Scalene's JSON profile (`scalene run -o FILE.json`, FORMATS.md §11): per source line, CPU time
/// split into Python, native (C) and system, in percent of all CPU samples, and memory
/// (`n_malloc_mb`, `n_mallocs`); plus `stacks`, the Python stacks of the CPU samples with their
/// counts.
///
/// The per-line numbers are the ground truth, so every line's weights are kept exactly: a line
/// that ends recorded stacks shares its CPU weights among them in proportion to their counts
/// (so the tree shows who called it), any other line is a one-frame stack of its function.
/// Memory is not sampled along those stacks, so it stays on the line's one-frame stack.
/// Metrics: cpu (= python + native + system), python, native, system, and with memory
/// profiling malloc (bytes) and mallocs.
public enum ScaleneReader: ProfileReader {
    public static let name = "scalene"
    public static let title = "Scalene JSON (scalene run -o FILE.json)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        let info = JSONPrefix(prefix)
        guard info.container == .object else { return .no }
        // Scalene writes its keys sorted: `alloc_samples` first, then `args`, `async_profile`,
        // `combined_stacks`, ..., `elapsed_time_sec`, `files`.
        guard info.has("alloc_samples") else { return .no }
        let others = ["args", "async_profile", "combined_stacks", "elapsed_time_sec", "files", "max_footprint_mb"]
        return others.contains(where: info.has) ? .yes : .no
    }

    static let maxDepth = 1 << 14, maxLine = 1 << 30

    struct Line {
        var file: String
        var line: Int
        var cpu: [Double]          // python, native, system (percent)
        var malloc: Double         // bytes
        var mallocs: Double
        var functionLine: Int?     // start_function_line
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        try read(input: JSONInput(source))
    }

    /// `scan` keeps the input (a mapped file's mapping) alive while the scanner reads it, and
    /// turns a file cut meanwhile by another process into the error the other readers give.
    static func read(input: JSONInput) throws -> ProfileBuilder {
        try input.scan { try parse($0) }
    }

    static func parse(_ buffer: UnsafeRawBufferPointer) throws -> ProfileBuilder {
        var s = JSONScanner(buffer, maxDepth: 64)
        var lines: [Line] = []
        var functions: [String: [Int: String]] = [:]      // file → definition line → name
        var stacks: [(frames: [(file: String, name: String, line: Int)], count: Double)] = []
        var elapsed: Double? = nil, memory = false, footprint: Double? = nil, program: String? = nil
        var sawFiles = false, lineEntries = 0, fileCount = 0

        func number(_ what: String) throws -> Double {
            let at = s.pos
            guard s.peekKind() == .number else { try s.skipValue(); return 0 }
            let v = try s.readNumber()
            guard v.isFinite, v > -1e-9 else { throw ProfileError("\(what) is \(v), not a finite non-negative number", offset: at) }
            return max(v, 0)
        }
        func lineNumber() throws -> Int? {
            let at = s.pos
            guard s.peekKind() == .number else { try s.skipValue(); return nil }
            let v = try s.readInt()
            guard v >= 0, v < maxLine else { throw ProfileError("line number \(v) out of range", offset: at) }
            return v
        }

        try s.beginObject()
        while let k = try s.nextKey() {
            if k.equals("files"), s.peekKind() == .object {
                sawFiles = true
                try s.beginObject()
                while let fk = try s.nextKey() {
                    let file = fk.string
                    fileCount += 1
                    guard s.peekKind() == .object else { try s.skipValue(); continue }
                    try s.beginObject()
                    while let part = try s.nextKey() {
                        let isLines = part.equals("lines"), isFunctions = part.equals("functions")
                        guard (isLines || isFunctions), s.peekKind() == .array else { try s.skipValue(); continue }
                        try s.beginArray()
                        while try s.nextElement() {
                            let at = s.pos
                            guard s.peekKind() == .object else { throw s.failure("a line object") }
                            var l = Line(file: file, line: -1, cpu: [0, 0, 0], malloc: 0, mallocs: 0, functionLine: nil)
                            var text: String? = nil
                            try s.beginObject()
                            while let lk = try s.nextKey() {
                                if lk.equals("lineno") { l.line = try lineNumber() ?? -1 }
                                else if lk.equals("line"), s.peekKind() == .string { text = try s.readStringValue() }
                                else if lk.equals("n_cpu_percent_python") { l.cpu[0] = try number("n_cpu_percent_python") }
                                else if lk.equals("n_cpu_percent_c") { l.cpu[1] = try number("n_cpu_percent_c") }
                                else if lk.equals("n_sys_percent") { l.cpu[2] = try number("n_sys_percent") }
                                else if lk.equals("n_malloc_mb") { l.malloc = try number("n_malloc_mb") * 1_048_576 }
                                else if lk.equals("n_mallocs") { l.mallocs = try number("n_mallocs") }
                                else if lk.equals("start_function_line") { l.functionLine = try lineNumber() }
                                else { try s.skipValue() }
                            }
                            guard l.line >= 0 else { throw ProfileError("a line entry without a lineno", offset: at) }
                            if isLines {
                                lineEntries += 1
                                if l.cpu.contains(where: { $0 > 0 }) || l.malloc > 0 || l.mallocs > 0 { lines.append(l) }
                            } else if let name = text {
                                functions[file, default: [:]][l.line] = name
                            }
                        }
                    }
                }
            } else if k.equals("stacks"), s.peekKind() == .array {
                try s.beginArray()
                while try s.nextElement() {
                    let at = s.pos
                    var frames: [(file: String, name: String, line: Int)] = []
                    var count = 0.0
                    try s.beginArray()
                    var item = 0
                    while try s.nextElement() {
                        if item == 0, s.peekKind() == .array {
                            try s.beginArray()
                            while try s.nextElement() {
                                guard s.peekKind() == .string else { throw s.failure("a stack frame string") }
                                guard frames.count < maxDepth else { throw ProfileError("stack deeper than \(maxDepth)", offset: at) }
                                let f = try s.readStringValue()
                                guard let parsed = parseFrame(f) else {
                                    throw ProfileError("stack frame \"\(f.prefix(80))\" is not \"FILE FUNCTION:LINE;\"", offset: at)
                                }
                                frames.append(parsed)
                            }
                        } else if item == 1, s.peekKind() == .number {
                            count = try number("a stack's count")              // older Scalene: a bare count
                        } else if item == 1, s.peekKind() == .object {
                            try s.beginObject()
                            while let sk = try s.nextKey() {
                                if sk.equals("count") { count = try number("a stack's count") } else { try s.skipValue() }
                            }
                        } else { try s.skipValue() }
                        item += 1
                    }
                    if !frames.isEmpty && count > 0 { stacks.append((frames, count)) }
                }
            } else if k.equals("elapsed_time_sec") { elapsed = try number("elapsed_time_sec") }
            else if k.equals("max_footprint_mb") { footprint = try number("max_footprint_mb") }
            else if k.equals("memory"), s.peekKind() == .bool { memory = try s.readBool() }
            else if k.equals("program"), s.peekKind() == .string { program = try s.readStringValue() }
            else { try s.skipValue() }
        }
        s.skipWhitespace()
        guard s.atEnd else { throw s.failure("the end of the input") }
        guard sawFiles else { throw ProfileError("no \"files\" object (expected Scalene JSON)", offset: 0) }

        var metrics = [ValueType("cpu", "percent"), ValueType("python", "percent"),
                       ValueType("native", "percent"), ValueType("system", "percent")]
        if memory { metrics += [ValueType("malloc", "bytes"), ValueType("mallocs", "count")] }
        let b = ProfileBuilder(format: name, metrics: metrics, defaultMetric: 0)

        // Stacks by their leaf line.
        struct Key: Hashable { var file: String; var line: Int }
        var byLeaf: [Key: [Int]] = [:]
        for (i, st) in stacks.enumerated() {
            let leaf = st.frames[st.frames.count - 1]
            byLeaf[Key(file: leaf.file, line: leaf.line), default: []].append(i)
        }
        func functionName(_ l: Line) -> String {
            if let fl = l.functionLine, let n = functions[l.file]?[fl] { return n }
            return "<module>"
        }
        var onStacks = 0
        for l in lines {
            let cpu = [l.cpu[0] + l.cpu[1] + l.cpu[2]] + l.cpu
            let lineStacks = byLeaf[Key(file: l.file, line: l.line)] ?? []
            let counted = lineStacks.reduce(0.0) { $0 + stacks[$1].count }
            let own = b.frames.frame(name: functionName(l), file: l.file, line: l.line)
            if counted > 0 && cpu[0] > 0 {
                onStacks += 1
                for i in lineStacks {
                    let share = stacks[i].count / counted
                    let path = stacks[i].frames.map { b.frames.frame(name: $0.name, file: $0.file, line: $0.line) }
                    _ = b.addStack(path, weights: cpu.map { $0 * share })
                }
            } else if cpu[0] > 0 {
                _ = b.addStack([own], weights: cpu)
            }
            if memory && (l.malloc > 0 || l.mallocs > 0) {
                _ = b.addStack([own], weights: [0, 0, 0, 0, l.malloc, l.mallocs])
            }
        }
        if let elapsed { b.metadata.append(("elapsed", ValueFormat.fixed(elapsed, 3) + " s")) }
        if let program { b.metadata.append(("program", program)) }
        if let footprint { b.metadata.append(("peak memory", ValueFormat.fixed(footprint, 1) + " MB")) }
        b.metadata.append(("files", String(fileCount)))
        b.metadata.append(("source lines", String(lineEntries)))
        b.metadata.append(("lines with samples", String(lines.count)))
        b.metadata.append(("lines on recorded stacks", String(onStacks)))
        if lines.isEmpty { b.warnings.append("Scalene recorded no samples on any line") }
        return b
    }

    /// `"/path/to/file.py function:LINE;"`: the line after the last `:`, the function between
    /// the last space before it and the `:` (paths may hold spaces; qualified names do not).
    static func parseFrame(_ f: String) -> (file: String, name: String, line: Int)? {
        var t = Substring(f)
        while t.last == ";" { t = t.dropLast() }
        guard let colon = t.lastIndex(of: ":"), let line = Int(t[t.index(after: colon)...]), line >= 0, line < maxLine else { return nil }
        let head = t[..<colon]
        guard let space = head.lastIndex(of: " ") else { return nil }
        let file = String(head[..<space]), name = String(head[head.index(after: space)...])
        guard !file.isEmpty, !name.isEmpty else { return nil }
        return (file, name, line)
    }
}
