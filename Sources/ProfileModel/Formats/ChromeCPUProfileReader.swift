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
        return try withExtendedLifetime(input) {
            var s = JSONScanner(input.buffer)
            let p = CPUProfileData()
            try p.parseTop(&s)
            return try p.build(format: name)
        }
    }
}

/// A `.cpuprofile` as parsed: used by the trace-event reader too (embedded CPU profiles).
final class CPUProfileData {
    var ids: [Int] = []
    var parentId: [Int?] = []          // from `parent`
    var parentIndex: [Int32] = []      // old format: the enclosing node object
    var names: [String] = []
    var urls: [String] = []
    var lines: [Int] = []              // 0-based, -1 unknown
    var hitCounts: [Int] = []
    var childLists: [(Int, [Int])] = []  // node index, child ids
    var samples: [Int] = []
    var sampleOffsets: Int = 0
    var timeDeltas: [Double] = []
    var timestamps: [Double]? = nil    // old format: absolute µs
    var startTime: Double? = nil
    var endTime: Double? = nil
    var oldFormat = false
    var nodesOffset = 0

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
            try s.beginArray()
            while try s.nextElement() { try parseNode(&s, parent: -1, nested: false) }
        } else if k.equals("head") {
            oldFormat = true
            s.skipWhitespace()
            nodesOffset = s.pos
            try parseNode(&s, parent: -1, nested: true)
        } else if k.equals("samples") {
            s.skipWhitespace()
            sampleOffsets = s.pos
            try s.beginArray()
            while try s.nextElement() { samples.append(try s.readInt()) }
        } else if k.equals("timeDeltas") {
            try s.beginArray()
            while try s.nextElement() { timeDeltas.append(try s.readLooseNumber() ?? 0) }
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

    /// A node object; `nested`: the old format, whose `children` are node objects. Recursion is
    /// bounded by the scanner's depth limit (each level is two JSON levels).
    private func parseNode(_ s: inout JSONScanner, parent: Int32, nested: Bool) throws {
        s.skipWhitespace()
        let at = s.pos
        try s.beginObject()
        let index = ids.count
        var id: Int? = nil
        var name = "", url = "", line = -1, hits = 0
        var parentField: Int? = nil
        var childIds: [Int] = []
        var nestedChildren = false
        ids.append(0); parentId.append(nil); parentIndex.append(parent); names.append(""); urls.append(""); lines.append(-1); hitCounts.append(0)
        func callFrameField(_ k: JSONString, _ s: inout JSONScanner) throws -> Bool {
            if k.equals("functionName") { if s.peekKind() == .string { name = try s.readStringValue() } else { try s.skipValue() } }
            else if k.equals("url") { if s.peekKind() == .string { url = try s.readStringValue() } else { try s.skipValue() } }
            else if k.equals("lineNumber") {
                if let v = try s.readLooseNumber(), v.isFinite, abs(v) < 2e9 { line = Int(v) }
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
                        nestedChildren = true
                        try parseNode(&s, parent: Int32(index), nested: true)
                    } else {
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
        _ = nestedChildren
        ids[index] = id
        parentId[index] = parentField
        names[index] = name
        urls[index] = url
        lines[index] = line
        hitCounts[index] = hits
        if !childIds.isEmpty { childLists.append((index, childIds)) }
    }

    static let specialNames: Set<String> = ["(root)", "(program)", "(idle)", "(garbage collector)"]

    /// Builds the tree under `root` of `b` (metrics: samples/count at `countMetric`, time/µs at `timeMetric`).
    func addTo(_ b: ProfileBuilder, under root: Int32, countMetric: Int, timeMetric: Int) throws -> (samples: Int, warnings: [String]) {
        var warnings: [String] = []
        let n = ids.count
        var index: [Int: Int32] = [:]
        index.reserveCapacity(n)
        for i in 0..<n {
            if index[ids[i]] != nil { warnings.append("duplicate node id \(ids[i])"); continue }
            index[ids[i]] = Int32(i)
        }
        var parent = [Int32](repeating: -1, count: n)
        for i in 0..<n {
            if parentIndex[i] >= 0 { parent[i] = parentIndex[i] }
            else if let p = parentId[i], let pi = index[p] { parent[i] = pi }
        }
        for (i, kids) in childLists {
            for c in kids {
                if let ci = index[c] { parent[Int(ci)] = Int32(i) }
                else { warnings.append("node \(ids[i]) lists unknown child \(c)") }
            }
        }
        // Builder node per profile node, resolved iteratively (parents first; cycles are errors).
        var node = [Int32](repeating: -1, count: n)
        var frameCache: [String: Int32] = [:]
        func frameOf(_ i: Int) -> Int32 {
            let name = names[i].isEmpty ? "(anonymous)" : names[i]
            let key = "\(name)\u{0}\(urls[i])\u{0}\(lines[i])"
            if let f = frameCache[key] { return f }
            let kind: FrameKind = CPUProfileData.specialNames.contains(name) ? .special : .function
            let f = b.frames.frame(name: name, file: urls[i].isEmpty ? nil : urls[i],
                                   line: lines[i] >= 0 ? lines[i] + 1 : nil, kind: kind,
                                   lineIsDefinition: kind == .function)
            frameCache[key] = f
            return f
        }
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
                // `(root)` at the top is the profile root itself.
                if parent[k] < 0 && names[k] == "(root)" { node[k] = up; continue }
                up = b.child(of: up, frame: frameOf(k))
                node[k] = up
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
