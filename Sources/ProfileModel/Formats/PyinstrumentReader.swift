/// pyinstrument output (FORMATS.md §9.1), all into one `time/seconds` metric:
///
/// - `-r json`: `{…, "root_frame": Frame}` with Frame = `{function, file_path, line_no, time,
///   class_name?, children}`. The tree is already processed by pyinstrument (pruned, grouped), so a
///   node's self time is its `time` minus its children's (or an explicit `self_time`).
/// - `-r session` (`.pyisession`): `frame_records: [[[identifier, …root→leaf], seconds], …]`, the raw
///   and exact samples. An identifier is `function\0file\0firstlineno` followed by optional
///   `\x01`-separated attributes (`l<line>`, `c<class>`, `h<…>`); a leading `name\0<thread>\0id`
///   pseudo-frame becomes a thread root.
/// - the HTML renderer's data, `{session: {…}, frame_tree: {identifier, time, attributes, children}}`.
///
/// Frames are keyed by their definition line (pyinstrument's identity), so the three forms give the
/// same functions. Synthetic frames: `[self]` is its parent's own time and is folded into it;
/// `[await]`, `[out-of-context]` and other `[…]` frames stay as special frames; a `[root]` wrapper
/// is dropped. Methods are shown as `Class.method`.
public enum PyinstrumentReader: ProfileReader {
    public static let name = "pyinstrument"
    public static let title = "pyinstrument JSON and .pyisession"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        let info = JSONPrefix(prefix)
        guard info.container == .object else { return .no }
        func valueIs(_ key: String, _ kinds: Set<UInt8>) -> Bool {
            guard let off = info.offset(of: key), off < prefix.count else { return false }
            return kinds.contains(prefix[off])
        }
        let sessionKeys = ["sample_count", "start_time", "duration", "start_call_stack", "cpu_time", "target_description", "program"]
        let hasSessionKey = sessionKeys.contains { info.has($0) }
        // `-r json`: root_frame is a frame object (or null for an empty run).
        if valueIs("root_frame", [0x7B, 0x6E]) && hasSessionKey { return .yes }
        if valueIs("root_frame", [0x7B]), let off = info.offset(of: "root_frame") {
            let (keys, _) = JSONPrefix.objectKeys(prefix, at: off)
            if keys.contains("function") && (keys.contains("file_path") || keys.contains("time")) { return .yes }
        }
        // `-r session`: frame_records is an array.
        if valueIs("frame_records", [0x5B]) && hasSessionKey { return .yes }
        // HTML renderer data.
        if valueIs("frame_tree", [0x7B]) && valueIs("session", [0x7B]) { return .yes }
        if info.has("session") && info.keys.count == 1 && !info.complete && !complete,
           let off = info.offset(of: "session") {
            // The session object itself might not fit the prefix; look at its keys.
            let (keys, _) = JSONPrefix.objectKeys(prefix, at: off)
            if keys.contains("frame_records") || keys.contains("start_call_stack") { return .yes }
        }
        return info.complete || complete ? .no : (info.keys.isEmpty ? .needMore : .no)
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let parser = PyinstrumentParser()
        let input = try JSONInput(source)
        parser.input = input
        try input.scan { try parser.parse($0) }
        parser.input = nil
        return try parser.finish()
    }
}

final class PyinstrumentParser {
    let builder = ProfileBuilder(format: PyinstrumentReader.name, metrics: [ValueType("time", "seconds")])
    private var s = JSONScanner(UnsafeRawBufferPointer(start: nil, count: 0))
    /// The document being parsed, told which of its bytes are no longer needed.
    var input: JSONInput?
    private var warnings: [String] = []
    private var meta: [(String, String)] = []
    private var sampleCountField: Int? = nil
    private var recordCount = 0
    private var sawTree = false
    private var sawRecords = false
    private var negativeSelf = 0
    private var badTimes = 0
    private var form = ""

    // Raw tree nodes of the JSON / HTML forms (parents come before children). Names, files
    // and classes are ids in `texts` (-1: none), so a node costs no String of its own.
    private var rawParent: [Int32] = []
    private var rawName: [Int32] = []
    private var rawFile: [Int32] = []
    private var rawLine: [Int] = []
    private var rawClass: [Int32] = []
    private var texts = ByteInterner(capacity: 1024)
    private lazy var emptyText = texts.intern("")
    private var rawTime: [Double] = []
    private var rawSelf: [Double?] = []

    // Session form: identifier text → frame id (or a special marker).
    private var ids = ByteInterner(capacity: 1024)
    private var idFrame: [Int32] = []
    private var idIsThread: [Bool] = []
    private var threadNamesUsed: [String: Int] = [:]

    static let maxDepth = 100_000

    // MARK: parsing

    func parse(_ buffer: UnsafeRawBufferPointer) throws {
        // A frame tree nests two JSON levels per frame (object, children array).
        s = JSONScanner(buffer, maxDepth: 2 * PyinstrumentParser.maxDepth + 16)
        guard s.peekKind() == .object else { throw s.failure("a pyinstrument JSON object ('{')") }
        try s.beginObject()
        while let k = try s.nextKey() {
            if k.equals("root_frame") {
                form = "json"
                try parseTree(identifierForm: false)
            } else if k.equals("frame_tree") {
                form = "html-data"
                try parseTree(identifierForm: true)
            } else if k.equals("frame_records") {
                form = "session"
                try parseRecords()
            } else if k.equals("session") {
                if s.peekKind() == .object { try parseSessionObject() } else { try s.skipValue() }
            } else {
                let key = k.string
                try parseMetaField(key)
            }
            if cut { break }    // the input ended inside the records: keep what was read
        }
        s.skipWhitespace()
        if !cut && !s.atEnd { throw s.failure("end of input after the top-level object") }
        if !sawTree && !sawRecords {
            throw ProfileError("pyinstrument file has no 'root_frame', 'frame_records' or 'frame_tree'", offset: 0)
        }
    }

    /// The HTML data's `session` object: metadata plus, in principle, frame records.
    private func parseSessionObject() throws {
        try s.beginObject()
        while let k = try s.nextKey() {
            if k.equals("frame_records") {
                if form.isEmpty { form = "session" }
                try parseRecords()
                if cut { return }
            } else {
                try parseMetaField(k.string)
            }
        }
    }

    private func parseMetaField(_ key: String) throws {
        switch key {
        case "sample_count":
            if s.peekKind() == .number {
                let v = try s.readNumber()
                if v.isFinite && v >= 0 && v < 1e15 && v == v.rounded() { sampleCountField = Int(v) }
            } else { try s.skipValue() }
        case "duration", "cpu_time", "start_time", "min_interval", "max_interval":
            if s.peekKind() == .number {
                let v = try s.readNumber()
                if v.isFinite { meta.append((key, formatNumber(v))) }
            } else { try s.skipValue() }
        case "target_description", "program":
            if s.peekKind() == .string { meta.append((key, try s.readStringValue())) } else { try s.skipValue() }
        default:
            try s.skipValue()
        }
    }

    private func formatNumber(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    @inline(__always)
    private func cleanTime(_ v: Double) -> Double {
        if v.isFinite && abs(v) <= 1e15 { return v }
        badTimes += 1
        return 0
    }

    // MARK: tree forms (`root_frame`, `frame_tree`)

    /// Reads a frame tree without recursing on the input: an explicit stack of open frame objects.
    /// Each frame becomes a raw node when its `{` is read; keys may come in any order.
    private func parseTree(identifierForm: Bool) throws {
        if s.readNull() { sawTree = true; return }   // an empty run
        sawTree = true
        // Open frames: (raw node, inside its `children` array).
        var stack: [(node: Int32, inChildren: Bool)] = []
        try beginFrame(parent: -1)
        if !identifierForm { compactFrameHead(rawParent.count - 1) }
        stack.append((Int32(rawParent.count - 1), false))
        while let top = stack.last {
            if top.inChildren {
                if try s.nextElement() {
                    guard stack.count < PyinstrumentParser.maxDepth else {
                        throw ProfileError("frame tree nested deeper than \(PyinstrumentParser.maxDepth) levels", offset: s.pos)
                    }
                    try beginFrame(parent: top.node)
                    if !identifierForm { compactFrameHead(rawParent.count - 1) }
                    stack.append((Int32(rawParent.count - 1), false))
                } else {
                    stack[stack.count - 1].inChildren = false
                }
                continue
            }
            // Reading the keys of the frame object at the top.
            guard let k = try s.nextKey() else { stack.removeLast(); continue }
            let n = Int(top.node)
            if k.equals("children") {
                if s.readNull() { continue }
                try s.beginArray()
                stack[stack.count - 1].inChildren = true
            } else if k.equals("time") {
                rawTime[n] = cleanTime(try readNumberOrNull() ?? 0)
            } else if k.equals("self_time") {
                if let v = try readNumberOrNull() { rawSelf[n] = cleanTime(v) }
            } else if !identifierForm && k.equals("function") {
                rawName[n] = try readTextOrNull().map { $0 < 0 ? emptyText : $0 } ?? emptyText
            } else if !identifierForm && k.equals("file_path") {
                rawFile[n] = try readTextOrNull() ?? -1
            } else if !identifierForm && k.equals("line_no") {
                rawLine[n] = try readLine()
            } else if !identifierForm && k.equals("class_name") {
                rawClass[n] = try readTextOrNull() ?? -1
            } else if identifierForm && k.equals("identifier") {
                let v = try s.readString()
                let p = PyinstrumentParser.parseIdentifier(v.bytes)
                rawName[n] = texts.intern(p.function)
                rawFile[n] = p.file.map { texts.intern($0) } ?? -1
                rawLine[n] = p.line
                if let c = p.className, rawClass[n] < 0 { rawClass[n] = texts.intern(c) }
            } else if identifierForm && k.equals("attributes") {
                try parseAttributes(n)
            } else {
                try s.skipValue()
            }
        }
    }

    /// The head of frame `n`'s object as pyinstrument's JSON renderer writes it, read by bytes
    /// just past its `{`: `"function": "…","file_path_short": "…","file_path": "…","line_no": N,
    /// "time": N`, then `,"await_time": N` and `,"is_application_code": true|false` if they
    /// follow (a space after each colon or none), the strings plain ASCII. The key-by-key path
    /// cost most of the read. Anything else leaves the position where it was for that path,
    /// which reads the same values from such a head, and the rest of any object.
    private func compactFrameHead(_ n: Int) {
        let start = s.pos, base = s.base, end = s.count
        var i = start
        @inline(__always) func key(_ text: StaticString) -> Bool {
            guard s.matches(i, text) else { return false }
            i += text.utf8CodeUnitCount
            if i < end && base.load(fromByteOffset: i, as: UInt8.self) == 0x20 { i += 1 }
            return true
        }
        /// A plain string at `i`: where its bytes start and how many.
        @inline(__always) func string() -> (start: Int, count: Int)? {
            guard i < end, base.load(fromByteOffset: i, as: UInt8.self) == 0x22,
                  let close = s.plainStringEnd(from: i + 1) else { return nil }
            defer { i = close + 1 }
            return (i + 1, close - i - 1)
        }
        /// A number at `i` that the input goes on after, read as `readNumber` reads it.
        @inline(__always) func number() -> Double? {
            guard i < end, base.load(fromByteOffset: i, as: UInt8.self) &- 0x30 < 10 || base.load(fromByteOffset: i, as: UInt8.self) == 0x2D else { return nil }
            s.pos = i
            guard let v = try? s.readNumber(), s.pos < end else { return nil }
            i = s.pos
            return v
        }
        guard key("\"function\":"), let function = string(),
              key(",\"file_path_short\":"), string() != nil,
              key(",\"file_path\":"), let file = string(),
              key(",\"line_no\":"), let line = number(),
              key(",\"time\":"), let time = number() else { s.pos = start; return }
        var read = i
        if key(",\"await_time\":"), number() != nil { read = i }
        i = read
        if key(",\"is_application_code\":") {
            if s.matches(i, "true") { read = i + 4 } else if s.matches(i, "false") { read = i + 5 }
        }
        s.resumeObject(at: read)
        rawName[n] = function.count == 0 ? emptyText : texts.intern(base + function.start, function.count)
        rawFile[n] = file.count == 0 ? -1 : texts.intern(base + file.start, file.count)
        rawLine[n] = line.isFinite && line >= 1 && line <= 2e9 ? Int(line) : 0
        rawTime[n] = cleanTime(time)
    }

    private func beginFrame(parent: Int32) throws {
        guard rawParent.count < Int(Int32.max) - 1 else { throw ProfileError("too many frames", offset: s.pos) }
        input?.release(below: s.pos)
        try s.beginObject()
        rawParent.append(parent)
        rawName.append(emptyText)
        rawFile.append(-1)
        rawLine.append(0)
        rawClass.append(-1)
        rawTime.append(0)
        rawSelf.append(nil)
    }

    /// `attributes: {"l383": seconds, "cClass": seconds, …}`: the class name is the most seen `c…`.
    private func parseAttributes(_ n: Int) throws {
        guard s.peekKind() == .object else { try s.skipValue(); return }
        try s.beginObject()
        var best: (String, Double)? = nil
        while let k = try s.nextKey() {
            let key = k.string
            let v = try readNumberOrNull() ?? 0
            if key.hasPrefix("c") && key.count > 1 && (best == nil || v > best!.1) { best = (String(key.dropFirst()), v) }
        }
        if let best { rawClass[n] = texts.intern(best.0) }
    }

    private func readNumberOrNull() throws -> Double? {
        switch s.peekKind() {
        case .number: return try s.readNumber()
        default: try s.skipValue(); return nil
        }
    }

    /// A string's id in `texts` (nil for null or anything else; -1 for ""), from its bytes.
    private func readTextOrNull() throws -> Int32? {
        guard s.peekKind() == .string else { try s.skipValue(); return nil }
        let v = try s.readString()
        return v.count == 0 ? -1 : texts.intern(v.base, v.count)
    }

    private func readLine() throws -> Int {
        guard let v = try readNumberOrNull(), v.isFinite, v >= 1, v <= 2e9 else { return 0 }
        return Int(v)
    }

    // MARK: identifiers

    struct Identifier {
        var function: String
        var file: String?
        var line: Int
        var className: String?
        var isThread: Bool
        var isSynthetic: Bool
    }

    /// `function \0 file \0 line` then `\x01`-separated attributes.
    static func parseIdentifier(_ b: UnsafeRawBufferPointer) -> Identifier {
        var end = b.count
        var className: String? = nil
        if let a = b.firstIndex(of: 0x01) {
            end = a
            // Attributes: `c<class>` is the only one shown.
            var i = a
            while i < b.count {
                var j = i + 1
                while j < b.count && b[j] != 0x01 { j += 1 }
                if j > i + 2 && b[i + 1] == 0x63 {
                    className = String(decoding: UnsafeRawBufferPointer(rebasing: b[(i + 2)..<j]), as: UTF8.self)
                }
                i = j
            }
        }
        let id = UnsafeRawBufferPointer(rebasing: b[0..<end])
        guard let z1 = id.firstIndex(of: 0) else {
            let name = String(decoding: id, as: UTF8.self)
            return Identifier(function: name, file: nil, line: 0, className: className, isThread: false,
                              isSynthetic: name.hasPrefix("[") && name.hasSuffix("]"))
        }
        let function = String(decoding: UnsafeRawBufferPointer(rebasing: id[0..<z1]), as: UTF8.self)
        let rest = UnsafeRawBufferPointer(rebasing: id[(z1 + 1)...])
        let z2 = rest.firstIndex(of: 0) ?? rest.endIndex
        let fileText = String(decoding: UnsafeRawBufferPointer(rebasing: rest[rest.startIndex..<z2]), as: UTF8.self)
        var line = 0
        if z2 < rest.endIndex {
            var v = 0
            var ok = z2 + 1 < rest.endIndex
            for c in rest[(z2 + 1)...] {
                let d = c &- 0x30
                if d >= 10 || v > 1_000_000_000 { ok = false; break }
                v = v * 10 + Int(d)
            }
            if ok { line = v }
        }
        return Identifier(function: function, file: fileText.isEmpty ? nil : fileText, line: line,
                          className: className, isThread: fileText == "<thread>", isSynthetic: false)
    }

    // MARK: session form (`frame_records`)

    private func parseRecords() throws {
        sawRecords = true
        try s.beginArray()
        var prevIds: [Int32] = []
        var prevNodes: [Int32] = []
        var path: [Int32] = []
        while true {
            let before = s.pos
            do {
                guard try s.nextElement() else { break }
                input?.release(below: before)
                try parseRecord(&prevIds, &prevNodes, &path)
            } catch let e as ProfileError where s.hitEOF && recordCount > 0 {
                warnings.append("the input ends inside frame record \(recordCount + 1) at offset \(e.offset ?? before): "
                                + "read the \(recordCount) record(s) before it")
                s.pos = s.count
                cut = true
                return
            }
        }
    }

    /// Set when the file was cut inside the records: parsing stops there.
    private(set) var cut = false

    private func parseRecord(_ prevIds: inout [Int32], _ prevNodes: inout [Int32], _ path: inout [Int32]) throws {
        s.skipWhitespace()
        let at = s.pos
        try s.beginArray()
        guard try s.nextElement() else { throw ProfileError("empty frame record (expected [[frames…], seconds])", offset: at) }
        // The stack, root first.
        path.removeAll(keepingCapacity: true)
        try s.beginArray()
        var node: Int32 = 0
        var same = true
        var d = 0
        while try s.nextElement() {
            let v = try s.readString()
            let id = ids.intern(v.base, v.count)
            if Int(id) >= idFrame.count { registerIdentifier(v.bytes, id) }
            if same && d < prevIds.count && prevIds[d] == id {
                node = prevNodes[d]
            } else {
                same = false
                node = builder.child(of: node, frame: idFrame[Int(id)])
                if d < prevIds.count { prevIds[d] = id; prevNodes[d] = node } else { prevIds.append(id); prevNodes.append(node) }
            }
            d += 1
            guard d <= PyinstrumentParser.maxDepth else {
                throw ProfileError("frame record deeper than \(PyinstrumentParser.maxDepth) frames", offset: s.pos)
            }
        }
        if d < prevIds.count { prevIds.removeSubrange(d...); prevNodes.removeSubrange(d...) }
        guard try s.nextElement() else { throw ProfileError("frame record without a time (expected [[frames…], seconds])", offset: at) }
        s.skipWhitespace()
        let tAt = s.pos
        guard s.peekKind() == .number else { throw s.failure("a time in seconds") }
        let t = cleanTime(try s.readNumber())
        if t < 0 { throw ProfileError("negative time \(t) in frame record", offset: tAt) }
        while try s.nextElement() { try s.skipValue() }   // tolerate extra fields
        builder.addSelf(node, metric: 0, t)
        recordCount += 1
    }

    private func registerIdentifier(_ bytes: UnsafeRawBufferPointer, _ id: Int32) {
        let p = PyinstrumentParser.parseIdentifier(bytes)
        let f: Int32
        if p.isThread {
            var name = p.function.isEmpty ? "thread" : p.function
            if let n = threadNamesUsed[name] {
                threadNamesUsed[name] = n + 1
                name += " (\(p.line > 0 ? String(p.line) : String(n + 1)))"
            } else {
                threadNamesUsed[name] = 1
            }
            f = builder.frames.frame(name: name, file: nil, line: nil, kind: .thread)
        } else {
            f = frameId(function: p.function, file: p.file, line: p.line, className: p.className, synthetic: p.isSynthetic)
        }
        while idFrame.count <= Int(id) { idFrame.append(-1); idIsThread.append(false) }
        idFrame[Int(id)] = f
        idIsThread[Int(id)] = p.isThread
    }

    private func frameId(function: String, file: String?, line: Int, className: String?, synthetic: Bool) -> Int32 {
        if synthetic {
            return builder.frames.frame(name: function, file: nil, line: nil, kind: .special)
        }
        var name = function.isEmpty ? "<unknown>" : function
        if let c = className, !c.isEmpty, !name.hasPrefix(c + ".") { name = c + "." + name }
        let kind: FrameKind = file == "<built-in>" ? .native : .function
        return builder.frames.frame(name: name, file: file, line: line > 0 ? line : nil, kind: kind,
                                    lineIsDefinition: true)
    }

    // MARK: building

    func finish() throws -> ProfileBuilder {
        let b = builder
        if sawTree && !rawParent.isEmpty { buildTree() }
        if form == "session" || (sawRecords && !sawTree) {
            b.sampleCount = sampleCountField ?? recordCount
            if let n = sampleCountField, n != recordCount && !cut {
                warnings.append("sample_count says \(n) but the file has \(recordCount) frame record(s)")
            }
        } else {
            b.sampleCount = sampleCountField
        }
        if negativeSelf > 0 {
            warnings.append("\(negativeSelf) frame(s) whose children take more time than the frame (self time counted as 0)")
        }
        if badTimes > 0 { warnings.append("\(badTimes) non-finite or huge time(s) counted as 0") }
        b.warnings += warnings
        b.metadata.append(("form", form))
        b.metadata += meta
        return b
    }

    /// One `addTree` over the raw nodes: frames are made in node order (as a walk would
    /// make them), one per distinct (name, file, line, class), and the tree is added in bulk
    /// with its probes prefetched. `[self]` and a `[root]` wrapper map to no frame, so they
    /// merge into their parent.
    private func buildTree() {
        let n = rawParent.count
        var childSum = [Double](repeating: 0, count: n)
        for i in 0..<n where rawParent[i] >= 0 { childSum[Int(rawParent[i])] += rawTime[i] }
        // Per name id: nil until seen, then (bracketed, "[self]", "[root]").
        var nameKind = [(bracketed: Bool, isSelf: Bool, isRoot: Bool)?](repeating: nil, count: texts.count)
        var strings = [String?](repeating: nil, count: texts.count)
        func text(_ id: Int32) -> String? {
            guard id >= 0 else { return nil }
            if let t = strings[Int(id)] { return t }
            let t = texts.string(id)
            strings[Int(id)] = t
            return t
        }
        struct Key: Hashable { var name: Int32, file: Int32, cls: Int32, line: Int }
        var frameOf: [Key: Int32] = [:]
        // Local ids for `addTree`: 0 is the builder's root, raw node i is i + 1.
        var parent = [Int32](repeating: 0, count: n + 1)
        var frame = [Int32](repeating: -1, count: n + 1)
        var own = [Double](repeating: 0, count: n + 1)
        var atRoot = [Bool](repeating: false, count: n)      // merged into the builder's root
        for i in 0..<n {
            let p = Int(rawParent[i])
            parent[i + 1] = Int32(p + 1)
            let parentIsRoot = p < 0 || atRoot[p]
            let nameId = rawName[i]
            let kind: (bracketed: Bool, isSelf: Bool, isRoot: Bool)
            if let k = nameKind[Int(nameId)] { kind = k } else {
                let name = text(nameId) ?? ""
                kind = (name.hasPrefix("[") && name.hasSuffix("]"), name == "[self]", name == "[root]")
                nameKind[Int(nameId)] = kind
            }
            let synthetic = rawFile[i] < 0 && rawLine[i] == 0 && kind.bracketed
            if synthetic && kind.isSelf && !parentIsRoot {
                // The parent's own time, shown by pyinstrument as a child.
                own[i + 1] = max(0, rawTime[i])
                continue
            }
            if synthetic && kind.isRoot && parentIsRoot {
                atRoot[i] = true          // a dummy root wrapping several roots
                continue
            }
            let key = Key(name: nameId, file: rawFile[i], cls: rawClass[i], line: rawLine[i])
            if let f = frameOf[key] { frame[i + 1] = f } else {
                let f = frameId(function: text(nameId) ?? "", file: text(rawFile[i]), line: rawLine[i],
                                className: text(rawClass[i]), synthetic: synthetic)
                frameOf[key] = f
                frame[i + 1] = f
            }
            var w = rawSelf[i] ?? (rawTime[i] - childSum[i])
            if w < 0 {
                // Rounding (times are printed with 6 decimals) or an inconsistent file.
                if w < -1e-5 * max(1, abs(rawTime[i])) { negativeSelf += 1 }
                w = 0
            }
            own[i + 1] = w
        }
        rawName = []; rawFile = []; rawClass = []; rawLine = []; rawTime = []; rawSelf = []
        let identity = (0..<Int32(builder.frames.frameCount)).map { $0 }
        builder.addTree(parent: parent, frame: frame, selfWeight: [own], frameMap: identity)
    }
}
