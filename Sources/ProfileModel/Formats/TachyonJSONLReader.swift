/// Python 3.15 `profiling.sampling --jsonl` (FORMATS.md §8.2): one JSON record a line, a `meta`
/// record first, then string and frame definitions and per-frame aggregates (`self`,
/// `cumulative` samples). Schema v 0 (`string_table`/`frame_table`, ids from 0) and v 1
/// (`str_def`/`frame_def` under `defs`) are both read; ids are opaque keys, unknown record
/// types and fields are ignored.
///
/// The file holds no stacks: the profile is flat. Each frame is a child of the root with its
/// self samples, and the function table carries the recorded cumulative samples. Functions are
/// kept per line, as the file records them: a recursive function sampled at two lines is in
/// both lines' cumulative counts, so adding its lines up would count those samples twice.
public enum TachyonJSONLReader: ProfileReader {
    public static let name = "tachyon-jsonl"
    public static let title = "Tachyon JSONL (Python profiling.sampling --jsonl)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        var first: Substring? = nil
        prefix.forEachLine(complete: complete) { l in
            if l.allSatisfy({ $0 == " " || $0 == "\t" }) { return true }
            first = l
            return false
        }
        guard let line = first else {
            // No complete line yet: the start must still look like a record.
            return prefix.count < 4096 && !complete && (prefix.first == 0x7B || prefix.count == 0) ? .needMore : .no
        }
        guard line.first == "{" else { return .no }
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBytes { b -> SniffResult in
            var s = JSONScanner(UnsafeRawBufferPointer(b), maxDepth: 64)
            do {
                try s.beginObject()
                var isMeta = false
                while let k = try s.nextKey() {
                    if k.equals("type"), s.peekKind() == .string {
                        isMeta = try s.readString().equals("meta")
                    } else {
                        try s.skipValue()
                    }
                }
                s.skipWhitespace()
                return isMeta && s.atEnd ? .yes : .no
            } catch { return .no }
        }
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let p = TachyonJSONLParser()
        try p.readLines(from: source)
        return try p.finish()
    }
}

final class TachyonJSONLParser: LineParser {
    private(set) var lineNumber = 0
    private var sawMeta = false
    private var ended = false
    private var interval: Int? = nil
    private var strings: [Int: String] = [:]
    private struct RawFrame { var path: Int; var name: Int; var line: Int; var synthetic: Bool; var at: Int }
    private var frames: [Int: RawFrame] = [:]
    private var frameOrder: [Int] = []
    private var selfSamples: [Int: Double] = [:]
    private var cumulative: [Int: Double] = [:]
    private var aggAt: [Int: Int] = [:]          // frame id → line of its first aggregate
    private var aggTotal: Int? = nil
    private var endTotal: Int? = nil
    private var meta: [(String, String)] = []
    private var records = 0

    /// Definitions and aggregates kept: beyond this the file is not a real profile.
    static let maxEntries = 1 << 24

    private func located(_ e: ProfileError) -> ProfileError {
        var m = e.message
        if let o = e.offset { m += " (byte \(o + 1) of the line)" }
        return ProfileError(m, line: lineNumber)
    }

    func line(_ b: UnsafeRawBufferPointer) throws {
        lineNumber += 1
        guard let base = b.baseAddress, let (start, end) = LineSplitter.trimmed(base, b.count) else { return }
        let text = UnsafeRawBufferPointer(rebasing: b[start..<end])
        var s = JSONScanner(text, maxDepth: 64)
        do {
            try record(&s)
        } catch let e as ProfileError {
            throw e.line != nil ? e : located(e)
        }
    }

    private func record(_ s: inout JSONScanner) throws {
        // Keys in any order: find the type and where the lists are, then read them.
        try s.beginObject()
        var type = ""
        var listAt: [String: Int] = [:]
        var fields: [String: Double] = [:]
        var mode: String? = nil, kind: String? = nil
        while let k = try s.nextKey() {
            let key = k.string
            switch s.peekKind() {
            case .string:
                let v = try s.readStringValue()
                if key == "type" { type = v } else if key == "mode" { mode = v } else if key == "kind" { kind = v }
            case .number:
                fields[key] = try s.readNumber()
            case .array:
                s.skipWhitespace()
                listAt[key] = s.pos
                try s.skipValue()
            default:
                try s.skipValue()
            }
        }
        s.skipWhitespace()
        guard s.atEnd else { throw s.failure("the end of the line after the record") }
        if !sawMeta {
            guard type == "meta" else {
                throw ProfileError("expected a \"meta\" record first, found \"\(type)\"", line: lineNumber)
            }
        }
        records += 1
        switch type {
        case "meta":
            sawMeta = true
            if let v = fields["v"] {
                meta.append(("schema", "v \(v.isFinite && abs(v) < 1e15 && v == v.rounded() ? String(Int(v)) : String(v))"))
            }
            if let i = fields["sample_interval_usec"], i.isFinite, i >= 0, i < 1e15 {
                interval = Int(i)
            }
            if let mode { meta.append(("mode", mode)) }
        case "string_table", "str_def":
            guard let at = listAt["strings"] ?? listAt["defs"] else { return }
            try each(&s, at) { s in
                var id: Int? = nil, value: String? = nil
                while let k = try s.nextKey() {
                    if k.equals("str_id") || k.equals("id") { id = try self.id(&s) }
                    else if k.equals("value") || k.equals("str"), s.peekKind() == .string { value = try s.readStringValue() }
                    else { try s.skipValue() }
                }
                guard let id, let value else { throw s.failure("a string definition with str_id and value") }
                try self.room(self.strings.count)
                self.strings[id] = value
            }
        case "frame_table", "frame_def":
            guard let at = listAt["frames"] ?? listAt["defs"] else { return }
            try each(&s, at) { s in
                var id: Int? = nil, path: Int? = nil, name: Int? = nil, line = 0, synthetic = false
                while let k = try s.nextKey() {
                    if k.equals("frame_id") || k.equals("id") { id = try self.id(&s) }
                    else if k.equals("path_str_id") { path = try self.id(&s) }
                    else if k.equals("func_str_id") { name = try self.id(&s) }
                    else if k.equals("line"), s.peekKind() == .number { line = Int(clamping: Int64(max(-1, min(1e9, try s.readNumber())))) }
                    else if k.equals("synthetic"), s.peekKind() == .bool { synthetic = try s.readBool() }
                    else { try s.skipValue() }
                }
                guard let id, let path, let name else {
                    throw s.failure("a frame definition with frame_id, path_str_id and func_str_id")
                }
                try self.room(self.frames.count)
                if self.frames[id] == nil { self.frameOrder.append(id) }
                self.frames[id] = RawFrame(path: path, name: name, line: line, synthetic: synthetic, at: self.lineNumber)
            }
        case "agg":
            // Only per-frame aggregates are defined; other kinds may come later.
            guard kind == nil || kind == "frame", let at = listAt["entries"] else { return }
            if let t = fields["samples_total"], t.isFinite { aggTotal = Int(clamping: Int64(max(0, min(t, 9e15)))) }
            try each(&s, at) { s in
                var id: Int? = nil, selfN = 0.0, cum = 0.0
                while let k = try s.nextKey() {
                    if k.equals("frame_id") { id = try self.id(&s) }
                    else if k.equals("self") { selfN = try self.count(&s) }
                    else if k.equals("cumulative") { cum = try self.count(&s) }
                    else { try s.skipValue() }
                }
                guard let id else { throw s.failure("an aggregate entry with frame_id") }
                try self.room(self.selfSamples.count)
                self.selfSamples[id, default: 0] += selfN
                self.cumulative[id, default: 0] += cum
                if self.aggAt[id] == nil { self.aggAt[id] = self.lineNumber }
            }
        case "end":
            ended = true
            if let t = fields["samples_total"], t.isFinite { endTotal = Int(clamping: Int64(max(0, min(t, 9e15)))) }
        default:
            break
        }
    }

    private func room(_ n: Int) throws {
        if n >= TachyonJSONLParser.maxEntries {
            throw ProfileError("more than \(TachyonJSONLParser.maxEntries) definitions", line: lineNumber)
        }
    }

    private func id(_ s: inout JSONScanner) throws -> Int {
        if s.peekKind() == .string {
            // Opaque keys: a string id is hashed into the same space as numbers.
            let v = try s.readStringValue()
            return Int(v) ?? (v.hashValue | Int.min)
        }
        return try s.readInt()
    }

    private func count(_ s: inout JSONScanner) throws -> Double {
        let at = s.pos
        let v = try s.readNumber()
        guard v.isFinite, v >= 0, v < 1e15 else { throw ProfileError("sample count \(v) out of range", offset: at) }
        return v
    }

    private func each(_ s: inout JSONScanner, _ at: Int, _ body: (inout JSONScanner) throws -> Void) throws {
        s.pos = at
        try s.beginArray()
        while try s.nextElement() {
            guard s.peekKind() == .object else { try s.skipValue(); continue }
            try s.beginObject()
            try body(&s)
        }
    }

    func finish() throws -> ProfileBuilder {
        guard sawMeta else { throw ProfileError("no records (expected a \"meta\" line)", line: max(1, lineNumber)) }
        let b = ProfileBuilder(format: TachyonJSONLReader.name, metrics: [ValueType("samples", "count")], defaultMetric: 0)
        var frameOf: [Int: Int32] = [:]
        func name(_ id: Int, _ at: Int) throws -> String {
            guard let s = strings[id] else {
                throw ProfileError("frame names string \(id), which no string record defines", line: at)
            }
            return s
        }
        for id in frameOrder {
            let f = frames[id]!
            let path = try name(f.path, f.at), fn = try name(f.name, f.at)
            if f.synthetic || (f.line <= 0 && (path == "~" || path.isEmpty) && fn.hasPrefix("<")) {
                frameOf[id] = b.frames.frame(name: fn, file: nil, line: nil, kind: fn == "<native>" ? .native : .special)
            } else {
                frameOf[id] = b.frames.frame(name: fn, file: path, line: f.line > 0 ? f.line : nil, kind: .function,
                                             lineIsDefinition: true)
            }
        }
        var F = b.frames.functionCount
        var selfW = [Double](repeating: 0, count: F), totalW = [Double](repeating: 0, count: F)
        var total = 0.0
        // Aggregates in file order of their frames, so the tree's order is stable.
        var order: [Int: Int] = [:]
        for (k, id) in frameOrder.enumerated() { order[id] = k }
        let ids = selfSamples.keys.sorted { (aggAt[$0]!, order[$0] ?? Int.max, $0) < (aggAt[$1]!, order[$1] ?? Int.max, $1) }
        for id in ids {
            guard let f = frameOf[id] else {
                throw ProfileError("aggregate for frame \(id), which no frame record defines", line: aggAt[id]!)
            }
            let sv = selfSamples[id]!, cv = cumulative[id] ?? 0
            if sv > 0 { b.addStack([f], weights: [sv]) }
            total += sv
            let fn = Int(b.frames.frameFunction[Int(f)])
            F = b.frames.functionCount
            if selfW.count < F { selfW += [Double](repeating: 0, count: F - selfW.count); totalW += [Double](repeating: 0, count: F - totalW.count) }
            selfW[fn] += sv
            totalW[fn] += max(cv, sv)
        }
        if records > 0 && selfSamples.isEmpty { b.warnings.append("no per-frame aggregates (\"agg\" records)") }
        b.exactFunctions = FunctionTable(count: F, selfWeight: [selfW], totalWeight: [totalW], calls: nil,
                                         primitiveCalls: nil, edgeCaller: [], edgeCallee: [], edgeWeight: [[]],
                                         edgeCalls: nil)
        b.sampleCount = Int(total)
        b.metadata = meta
        if let interval { b.metadata.append(("interval", "\(interval) µs")) }
        b.metadata.append(("stacks", "none recorded (flat per-frame aggregates)"))
        if !ended { b.warnings.append("no \"end\" record: the file is cut, aggregates may be missing") }
        if let t = endTotal ?? aggTotal, Double(t) != total {
            b.warnings.append("the file says \(t) samples; its per-frame self samples add up to \(Int(total))")
        }
        return b
    }
}
