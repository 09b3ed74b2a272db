/// Chrome DevTools / V8 `.cpuprofile` (FORMATS.md §4.1): `nodes` (tree via `children` or
/// `parent`), `samples` (leaf node ids) and `timeDeltas` (µs); and the old form with a nested
/// `head` tree and absolute `timestamps`. Two metrics: samples/count and time/microseconds
/// (the default), where a sample weighs the time until the next one.
public enum ChromeCPUProfileReader: ProfileReader {
    public static let name = "cpuprofile"
    public static let title = "Chrome DevTools .cpuprofile"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        let info = JSONPrefix(prefix)
        guard info.container == .object else { return .no }
        if info.has("nodes") && info.has("samples") && info.has("timeDeltas") { return .yes }
        if let off = info.offset(of: "nodes") {
            let (keys, _) = JSONPrefix.firstElementKeys(prefix, at: off)
            if keys.contains("callFrame") && keys.contains("id") { return .yes }
        }
        if let off = info.offset(of: "head") {
            let (keys, _) = JSONPrefix.objectKeys(prefix, at: off)
            if (keys.contains("functionName") || keys.contains("callFrame")) && !info.has("traceEvents") { return .yes }
        }
        return info.complete || complete ? .no : (info.keys.isEmpty ? .needMore : .no)
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let input = try JSONInput(source)
        return try input.scan { buffer in
            var s = JSONScanner(buffer)
            let p = CPUProfileData()
            p.input = input
            p.reservesFromInput = true
            try p.parseTop(&s)
            p.input = nil
            return try p.build(format: name)
        }
    }
}

/// A `.cpuprofile` as parsed: used by the trace-event reader too (embedded CPU profiles).
/// Names and URLs are interned by their bytes (`strings`), never made into Strings a node.
final class CPUProfileData {
    var strings = ByteInterner(capacity: 1024)
    var ids: [Int] = []
    var parentId: [Int] = []           // from `parent`; `CPUProfileData.none` when absent
    var parentIndex: [Int32] = []      // old format: the enclosing node object
    var names: [Int32] = []            // in `strings`; -1 for none or empty
    var urls: [Int32] = []             // in `strings`; -1 for none or empty
    var lines: [Int32] = []            // 0-based, -1 unknown
    var hitCounts: [Int] = []
    var childOwner: [Int32] = []       // node index of each `children` entry, in order
    var childIds: [Int] = []           // and the child id it names
    var samples: [Int] = []
    var sampleOffsets: Int = 0
    var timeDeltas: [Double] = []
    var timestamps: [Double]? = nil    // old format: absolute µs
    var startTime: Double? = nil
    var endTime: Double? = nil
    var oldFormat = false
    var nodesOffset = 0
    /// The document being parsed, told which of its bytes are no longer needed: everything is
    /// read into the arrays above in one pass, nothing is read twice.
    var input: JSONInput?
    /// Size the node arrays from the bytes left when `nodes` starts: for a whole .cpuprofile,
    /// whose nodes are most of the file; not for a trace's many small embedded profiles.
    var reservesFromInput = false

    static let none = Int.min

    func parseTop(_ s: inout JSONScanner) throws {
        guard s.peekKind() == .object else { throw s.failure("a .cpuprofile JSON object ('{')") }
        try s.beginObject()
        while let k = try s.nextKey() {
            try parseField(k, &s)
        }
        s.skipWhitespace()
        if !s.atEnd { throw s.failure("end of input after the top-level object") }
    }

    /// One key of a profile object; returns false if the key is not a profile field (skipped).
    @discardableResult
    func parseField(_ k: JSONString, _ s: inout JSONScanner) throws -> Bool {
        if k.equals("nodes") {
            s.skipWhitespace()
            nodesOffset = s.pos
            if reservesFromInput { reserveNodes(forBytes: s.count - s.pos) }
            try s.beginArray()
            while try s.nextElement() {
                input?.release(below: s.pos)
                if !compactNode(&s) { try parseNode(&s, parent: -1, nested: false) }
            }
        } else if k.equals("head") {
            oldFormat = true
            s.skipWhitespace()
            nodesOffset = s.pos
            try parseNode(&s, parent: -1, nested: true)
        } else if k.equals("samples") {
            s.skipWhitespace()
            sampleOffsets = s.pos
            try s.beginArray()
            while try s.nextElement() {
                input?.release(below: s.pos)
                samples.append(try s.readInt())
            }
        } else if k.equals("timeDeltas") {
            try s.beginArray()
            while try s.nextElement() {
                input?.release(below: s.pos)
                timeDeltas.append(try s.readLooseNumber() ?? 0)
            }
        } else if k.equals("timestamps") {
            var t: [Double] = []
            try s.beginArray()
            while try s.nextElement() { t.append(try s.readLooseNumber() ?? 0) }
            timestamps = t
        } else if k.equals("startTime") {
            startTime = try s.readLooseNumber()
        } else if k.equals("endTime") {
            endTime = try s.readLooseNumber()
        } else {
            try s.skipValue()
            return false
        }
        return true
    }

    /// Sizes the node arrays for the nodes that `bytes` of the file can hold, so that they are
    /// not copied at each doubling. A compact node takes about 100 bytes, so the estimate is
    /// bounded by the file itself: a file that claims more nodes than it holds cannot make
    /// this allocate more, and one of smaller nodes still grows the arrays as it is read.
    private func reserveNodes(forBytes bytes: Int) {
        let n = min(max(bytes, 0) / 100, 1 << 26) + ids.count
        guard n > ids.capacity else { return }
        ids.reserveCapacity(n); parentId.reserveCapacity(n); parentIndex.reserveCapacity(n)
        names.reserveCapacity(n); urls.reserveCapacity(n); lines.reserveCapacity(n); hitCounts.reserveCapacity(n)
        childOwner.reserveCapacity(childOwner.count + n); childIds.reserveCapacity(childIds.count + n)
    }

    @inline(__always)
    private func internString(_ s: inout JSONScanner) throws -> Int32 {
        guard s.peekKind() == .string else { try s.skipValue(); return -1 }
        let v = try s.readString()
        return v.count == 0 ? -1 : strings.intern(v.base, v.count)
    }

    /// A node of the `nodes` array written compactly, as V8 and converters do:
    /// `{"id":N,"callFrame":{"functionName":"…","scriptId":"…","url":"…","lineNumber":N,
    /// "columnNumber":N},"hitCount":N}` with `,"children":[N,…]` before the `}` or not; strings
    /// plain ASCII with no escape, numbers integers of at most 15 digits. Read by bytes, without a
    /// key-by-key scan; anything else leaves the position where it was and returns false, for the
    /// general path (and its errors), which reads the same values from such a node.
    private func compactNode(_ s: inout JSONScanner) -> Bool {
        let start = s.pos, base = s.base, end = s.count
        @inline(__always) func byte(_ i: Int) -> UInt8 { base.load(fromByteOffset: i, as: UInt8.self) }
        /// The offset after `text` at `i`, nil when it is not there.
        @inline(__always) func after(_ i: Int, _ text: StaticString) -> Int? {
            s.matches(i, text) ? i + text.utf8CodeUnitCount : nil
        }
        /// The offset of the closing quote of a plain string starting at `i`.
        @inline(__always) func plain(_ i: Int) -> Int? { s.plainStringEnd(from: i) }
        /// An integer at `i` and the offset after it; what follows is checked by the caller.
        @inline(__always) func integer(_ i: Int) -> (Int, Int)? {
            var j = i
            let neg = j < end && byte(j) == 0x2D
            if neg { j += 1 }
            let digits = j
            var v = 0
            while j < end, byte(j) &- 0x30 < 10 {
                v = v &* 10 &+ Int(byte(j) &- 0x30)
                j += 1
            }
            guard j > digits, j - digits <= 15 else { return nil }
            return (neg ? -v : v, j)
        }
        guard s.depth + 2 < s.maxDepth,
              let a0 = after(start, "{\"id\":"), let (id, a1) = integer(a0),
              let n0 = after(a1, ",\"callFrame\":{\"functionName\":\""), let n1 = plain(n0),
              let c0 = after(n1, "\",\"scriptId\":\""), let c1 = plain(c0),
              let u0 = after(c1, "\",\"url\":\""), let u1 = plain(u0),
              let l0 = after(u1, "\",\"lineNumber\":"), let (line, l1) = integer(l0),
              let k0 = after(l1, ",\"columnNumber\":"), let (_, k1) = integer(k0),
              let h0 = after(k1, "},\"hitCount\":"), let (hits, h1) = integer(h0), hits >= 0 else { return false }
        let index = Int32(ids.count)
        let children = childIds.count
        var close = h1
        if let ch0 = after(h1, ",\"children\":[") {
            var j = ch0
            if let e = after(j, "]") {
                close = e
            } else {
                while true {
                    guard let (child, e) = integer(j) else { break }
                    childOwner.append(index)
                    childIds.append(child)
                    if let next = after(e, ",") { j = next; continue }
                    if let e2 = after(e, "]") { close = e2 }
                    break
                }
            }
            if close == h1 {
                childOwner.removeSubrange(children...)
                childIds.removeSubrange(children...)
                return false
            }
        }
        guard after(close, "}") != nil else {
            childOwner.removeSubrange(children...)
            childIds.removeSubrange(children...)
            return false
        }
        s.pos = close + 1
        ids.append(id)
        parentId.append(CPUProfileData.none)
        parentIndex.append(-1)
        names.append(n1 == n0 ? -1 : strings.intern(base + n0, n1 - n0))
        urls.append(u1 == u0 ? -1 : strings.intern(base + u0, u1 - u0))
        lines.append(abs(line) < 2_000_000_000 ? Int32(line) : -1)
        hitCounts.append(hits)
        return true
    }

    /// A node object; `nested`: the old format, whose `children` are node objects. Recursion is
    /// bounded by the scanner's depth limit (each level is two JSON levels).
    private func parseNode(_ s: inout JSONScanner, parent: Int32, nested: Bool) throws {
        s.skipWhitespace()
        let at = s.pos
        try s.beginObject()
        let index = ids.count
        var id: Int? = nil
        var name: Int32 = -1, url: Int32 = -1, line: Int32 = -1, hits = 0
        var parentField = CPUProfileData.none
        ids.append(0); parentId.append(CPUProfileData.none); parentIndex.append(parent)
        names.append(-1); urls.append(-1); lines.append(-1); hitCounts.append(0)
        func callFrameField(_ k: JSONString, _ s: inout JSONScanner) throws -> Bool {
            if k.equals("functionName") { name = try internString(&s) }
            else if k.equals("url") { url = try internString(&s) }
            else if k.equals("lineNumber") {
                if let v = try s.readLooseNumber(), v.isFinite, abs(v) < 2e9 { line = Int32(v) }
            } else { return false }
            return true
        }
        while let k = try s.nextKey() {
            if k.equals("id") {
                guard let v = try s.readLooseNumber(), v.isFinite, v == v.rounded(), abs(v) < 9e15 else {
                    throw ProfileError("node id is not an integer", offset: at)
                }
                id = Int(v)
            } else if k.equals("callFrame") {
                try s.beginObject()
                while let ck = try s.nextKey() {
                    if try !callFrameField(ck, &s) { try s.skipValue() }
                }
            } else if k.equals("hitCount") {
                if let v = try s.readLooseNumber(), v.isFinite, v >= 0, v < 9e15 { hits = Int(v) }
            } else if k.equals("parent") {
                if let v = try s.readLooseNumber(), v.isFinite, v == v.rounded(), abs(v) < 9e15 { parentField = Int(v) }
            } else if k.equals("children") {
                try s.beginArray()
                while try s.nextElement() {
                    if nested || s.peekKind() == .object {
                        try parseNode(&s, parent: Int32(index), nested: true)
                    } else {
                        childOwner.append(Int32(index))
                        childIds.append(try s.readInt())
                    }
                }
            } else if nested, try callFrameField(k, &s) {
                // old format: callFrame fields sit on the node
            } else {
                try s.skipValue()
            }
        }
        guard let id else { throw ProfileError("node without an 'id'", offset: at) }
        ids[index] = id
        parentId[index] = parentField
        names[index] = name
        urls[index] = url
        lines[index] = line
        hitCounts[index] = hits
    }

    static let specialNames: Set<String> = ["(root)", "(program)", "(idle)", "(garbage collector)"]

    /// Node ids to node indices: an array when the ids are dense enough (V8 numbers them from
    /// 1), else a dictionary. The first node with an id keeps it.
    private struct IdIndex {
        var dense: [Int32] = []
        var sparse: [Int: Int32] = [:]
        var isDense = false

        init(_ ids: [Int], duplicate: (Int) -> Void) {
            let n = ids.count
            if let lo = ids.min(), let hi = ids.max(), lo >= 0, hi < 4 * n + 1024 {
                isDense = true
                dense = [Int32](repeating: -1, count: hi + 1)
                for i in 0..<n {
                    if dense[ids[i]] >= 0 { duplicate(i); continue }
                    dense[ids[i]] = Int32(i)
                }
            } else {
                sparse.reserveCapacity(n)
                for i in 0..<n {
                    if sparse[ids[i]] != nil { duplicate(i); continue }
                    sparse[ids[i]] = Int32(i)
                }
            }
        }

        @inline(__always)
        subscript(_ id: Int) -> Int32? {
            if isDense {
                guard id >= 0 && id < dense.count else { return nil }
                let i = dense[id]
                return i >= 0 ? i : nil
            }
            return sparse[id]
        }
    }

    /// Builds the tree under `root` of `b` (metrics: samples/count at `countMetric`, time/µs at `timeMetric`).
    func addTo(_ b: ProfileBuilder, under root: Int32, countMetric: Int, timeMetric: Int) throws -> (samples: Int, warnings: [String]) {
        var warnings: [String] = []
        let n = ids.count
        let index = IdIndex(ids) { i in warnings.append("duplicate node id \(ids[i])") }
        var parent = [Int32](repeating: -1, count: n)
        for i in 0..<n {
            if parentIndex[i] >= 0 { parent[i] = parentIndex[i] }
            else if parentId[i] != CPUProfileData.none, let pi = index[parentId[i]] { parent[i] = pi }
        }
        for j in childIds.indices {
            if let ci = index[childIds[j]] { parent[Int(ci)] = childOwner[j] }
            else { warnings.append("node \(ids[Int(childOwner[j])]) lists unknown child \(childIds[j])") }
        }
        // Which of our strings are special names (interned here if absent, to compare ids),
        // and each string as the builder's, mapped once.
        var specialIds: [Int32] = []
        for text in CPUProfileData.specialNames { specialIds.append(strings.intern(text)) }
        let rootName = strings.intern("(root)")
        var stringMap = [Int32](repeating: -1, count: strings.count)
        var special = [Bool](repeating: false, count: strings.count)
        for id in specialIds { special[Int(id)] = true }
        let anonymous = b.frames.intern("(anonymous)")
        @inline(__always) func mapString(_ id: Int32) -> Int32 {
            let m = stringMap[Int(id)]
            if m >= 0 { return m }
            let r = strings.withBytes(id) { t in
                t.isEmpty ? b.frames.intern("") : b.frames.intern(t.baseAddress!, t.count)
            }
            stringMap[Int(id)] = r
            return r
        }
        func frameOf(_ i: Int) -> Int32 {
            let nm = names[i], u = urls[i], l = lines[i]
            let kind: FrameKind = nm >= 0 && special[Int(nm)] ? .special : .function
            return b.frames.frame(name: nm >= 0 ? mapString(nm) : anonymous, file: u >= 0 ? mapString(u) : -1,
                                  line: l >= 0 ? Int32(clamping: Int64(l) + 1) : 0, kind: kind,
                                  lineIsDefinition: kind == .function)
        }
        // `(root)` at the top is the profile root itself.
        @inline(__always) func isTopRoot(_ k: Int) -> Bool { parent[k] < 0 && names[k] == rootName }
        var node = [Int32](repeating: -1, count: n)
        var parentsFirst = true
        for i in 0..<n where parent[i] >= Int32(i) { parentsFirst = false; break }
        if parentsFirst && n > 0 {
            // The usual order (V8 writes parents first): one bulk `addTree`, its probes
            // prefetched, rather than a `child(of:frame:)` a node. Tree node i + 1 is node i,
            // tree node 0 the root; a top `(root)` has no frame (it merges into the root).
            var tp = [Int32](repeating: 0, count: n + 1)
            var tf = [Int32](repeating: -1, count: n + 1)
            for i in 0..<n {
                tp[i + 1] = parent[i] + 1
                tf[i + 1] = isTopRoot(i) ? -1 : frameOf(i)
            }
            let identity = (0..<Int32(b.frames.frameCount)).map { $0 }
            let ids = b.addTree(parent: tp, frame: tf, selfWeight: [], frameMap: identity, under: root)
            for i in 0..<n { node[i] = ids[i + 1] }
        } else {
            // Builder node per profile node, resolved iteratively (parents first; cycles are errors).
            var chain: [Int] = []
            for i in 0..<n where node[i] < 0 {
                chain.removeAll(keepingCapacity: true)
                var j = i
                while j >= 0 && node[j] < 0 {
                    chain.append(j)
                    if chain.count > n { throw ProfileError("node parents form a cycle (at node id \(ids[i]))", offset: nodesOffset) }
                    j = Int(parent[j])
                }
                var up: Int32 = j >= 0 ? node[j] : root
                for k in chain.reversed() {
                    if isTopRoot(k) { node[k] = up; continue }
                    up = b.child(of: up, frame: frameOf(k))
                    node[k] = up
                }
            }
        }
        // Sample times: t_i = start + Σ deltas (negative deltas clamp to the last time).
        var times: [Double] = []
        let m = samples.count
        if let ts = timestamps {
            times = ts
        } else {
            var t = startTime ?? 0
            var last = -Double.infinity
            times.reserveCapacity(timeDeltas.count)
            for d in timeDeltas {
                t += d
                last = max(last, t)
                times.append(last)
            }
        }
        var unknown = 0
        if m > 0 {
            if times.count < m {
                warnings.append("\(m) samples but \(times.count) time stamps: samples without a time weigh 0")
            }
            // Sample i lasts until the next time stamp; the last one until endTime, or the
            // mean interval when endTime is not after it.
            let endT: Double? = {
                guard let e = endTime else { return nil }
                return oldFormat ? e * 1_000_000 : e
            }()
            for i in 0..<m {
                guard let ni = index[samples[i]] else { unknown += 1; continue }
                let leaf = node[Int(ni)]
                b.addSelf(leaf, metric: countMetric, 1)
                guard i < times.count else { continue }
                var w: Double
                if i + 1 < times.count {
                    w = times[i + 1] - times[i]
                } else if let e = endT, e > times[i] {
                    w = e - times[i]
                } else {
                    w = i > 0 ? (times[i] - times[0]) / Double(i) : 0
                }
                if !w.isFinite || w < 0 { w = 0 }
                if w != 0 { b.addSelf(leaf, metric: timeMetric, w) }
            }
        } else if hitCounts.contains(where: { $0 > 0 }) {
            // No samples: hit counts, spread evenly over the profile's duration.
            let hits = hitCounts.reduce(0, +)
            var span = (endTime ?? 0) - (startTime ?? 0)
            if oldFormat { span *= 1_000_000 }
            let per = span > 0 && span.isFinite ? span / Double(hits) : 0
            for i in 0..<n where hitCounts[i] > 0 {
                b.addSelf(node[i], metric: countMetric, Double(hitCounts[i]))
                if per > 0 { b.addSelf(node[i], metric: timeMetric, Double(hitCounts[i]) * per) }
            }
            warnings.append("no 'samples': weights come from hit counts")
            return (hits, warnings)
        }
        if unknown > 0 { warnings.append("\(unknown) sample(s) refer to unknown node ids (skipped)") }
        return (m - unknown, warnings)
    }

    func build(format: String) throws -> ProfileBuilder {
        if ids.isEmpty { throw ProfileError("no profile nodes ('nodes' or 'head' missing or empty)", offset: nodesOffset) }
        let b = ProfileBuilder(format: format, metrics: [ValueType("samples", "count"), ValueType("time", "microseconds")],
                               defaultMetric: 1)
        let (count, warnings) = try addTo(b, under: 0, countMetric: 0, timeMetric: 1)
        b.sampleCount = count
        b.warnings += warnings.prefix(20)
        if oldFormat { b.metadata.append(("format", "old (head/timestamps)")) }
        return b
    }
}
