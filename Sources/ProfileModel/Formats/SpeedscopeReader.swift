/// speedscope JSON (py-spy, speedscope, pyinstrument, austin2speedscope): FORMATS.md §3.
///
/// Each profile (sampled or evented) becomes a thread root named after the profile, except that
/// sampled profiles of one recording in different units (memray: "Memory" bytes, "Allocations")
/// become one tree with a metric each. Samples refer to `shared.frames` by index, and py-spy
/// writes `shared` *after* `profiles`, so the reader first builds a tree keyed by raw frame index (reusing the previous sample's path for
/// a shared prefix), then replays it into the builder once the frames are known.
public enum SpeedscopeReader: ProfileReader {
    public static let name = "speedscope"
    public static let title = "speedscope JSON (py-spy, speedscope, pyinstrument)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        let info = JSONPrefix(prefix)
        guard info.container == .object else { return .no }
        if let off = info.offset(of: "$schema"), let s = JSONPrefix.string(prefix, at: off),
           s.contains("speedscope.app/file-format-schema") {
            return .yes
        }
        // Files without `$schema`: both speedscope keys, and profiles of a speedscope type.
        if info.has("shared") && info.has("profiles"), let off = info.offset(of: "profiles") {
            let (keys, _) = JSONPrefix.firstElementKeys(prefix, at: off)
            if keys.contains("samples") || keys.contains("events") { return .yes }
        }
        return info.complete || complete ? .no : (info.keys.isEmpty ? .needMore : .no)
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let parser = SpeedscopeParser()
        do {
            let input = try JSONInput(source)
            try withExtendedLifetime(input) { try parser.parse(input.buffer) }
        }
        return try parser.finish()
    }
}

final class SpeedscopeParser {
    // The raw tree: node → (parent, raw frame). Raw frame ≥ 0 is a `shared.frames` index;
    // -(p + 1) is the thread root of profile p.
    private var rawParent: [Int32] = [-1]
    private var rawFrame: [Int32] = [-1]
    private var rawSelf: [Double] = [0]
    private var rawMap = PairMap(capacity: 1 << 14)

    let builder = ProfileBuilder(format: SpeedscopeReader.name, metrics: [])
    private var frameIds: [Int32] = []
    private var haveShared = false
    private var maxIndex = -1
    private var maxIndexOffset = 0
    private var warnings: [String] = []
    private var nonFiniteWeights = 0
    private var outOfOrder = 0
    private var badCloses = 0
    private var dangling = 0

    private struct ProfileInfo {
        var name: String?
        var unit: String?
        var sampled = false
        var samples = 0
        /// Raw leaf node of each sample, to tell parallel profiles of one recording apart.
        var leaves: [Int32] = []
    }
    private var profiles: [ProfileInfo] = []
    private var meta: [(String, String)] = []

    private var s = JSONScanner(UnsafeRawBufferPointer(start: nil, count: 0))

    @inline(__always)
    private func rawChild(_ node: Int32, _ f: Int32) -> Int32 {
        rawMap.getOrInsert(node, f) {
            let id = Int32(truncatingIfNeeded: rawParent.count)
            rawParent.append(node)
            rawFrame.append(f)
            rawSelf.append(0)
            return id
        }
    }

    func parse(_ buffer: UnsafeRawBufferPointer) throws {
        s = JSONScanner(buffer)
        guard s.peekKind() == .object else { throw s.failure("a speedscope JSON object ('{')") }
        try s.beginObject()
        var sawProfiles = false
        while let k = try s.nextKey() {
            if k.equals("shared") {
                try parseShared()
            } else if k.equals("profiles") {
                sawProfiles = true
                try s.beginArray()
                while try s.nextElement() { try parseProfile() }
            } else if k.equals("exporter") || k.equals("name") {
                let key = k.equals("exporter") ? "exporter" : "name"
                if s.peekKind() == .string { meta.append((key, try s.readStringValue())) } else { try s.skipValue() }
            } else if k.equals("activeProfileIndex") {
                if s.peekKind() == .number { meta.append(("active profile", String(format0(try s.readNumber())))) }
                else { try s.skipValue() }       // null or anything else: no preference
            } else {
                try s.skipValue()
            }
        }
        s.skipWhitespace()
        if !s.atEnd { throw s.failure("end of input after the top-level object") }
        if !sawProfiles { throw ProfileError("speedscope file has no 'profiles'", offset: 0) }
        if maxIndex >= 0 && !haveShared {
            throw ProfileError("samples refer to frames but the file has no 'shared.frames'", offset: maxIndexOffset)
        }
        if maxIndex >= frameIds.count {
            throw ProfileError("frame index \(maxIndex) out of range (shared.frames has \(frameIds.count))",
                               offset: maxIndexOffset)
        }
    }

    private func format0(_ v: Double) -> String {
        v.isFinite && v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    // MARK: shared frames

    private func parseShared() throws {
        try s.beginObject()
        while let k = try s.nextKey() {
            guard k.equals("frames") else { try s.skipValue(); continue }
            haveShared = true
            try s.beginArray()
            while try s.nextElement() {
                s.skipWhitespace()
                let at = s.pos
                try s.beginObject()
                var name: Int32 = -1, file: Int32 = -1, line: Int32 = 0
                while let fk = try s.nextKey() {
                    if fk.equals("name") {
                        if s.peekKind() == .string {
                            let v = try s.readString()
                            name = builder.frames.intern(v.base, v.count)
                        } else { try s.skipValue() }
                    } else if fk.equals("file") {
                        if s.peekKind() == .string {
                            let v = try s.readString()
                            file = v.count == 0 ? -1 : builder.frames.intern(v.base, v.count)
                        } else { try s.skipValue() }
                    } else if fk.equals("line") {
                        if s.peekKind() == .number {
                            let v = try s.readNumber()
                            line = v.isFinite && v >= 1 ? Int32(clamping: Int64(min(v, 2e9))) : 0
                        } else { try s.skipValue() }
                    } else {
                        try s.skipValue()
                    }
                }
                if name < 0 {
                    name = builder.frames.intern("(unnamed frame \(frameIds.count) at offset \(at))")
                }
                // py-spy puts `thread (TID): NAME` (and with --subprocesses `process PID:"CMD"`)
                // pseudo-frames, with an empty file, at the root of each sample.
                var kind = FrameKind.function
                if file < 0 {
                    let text = builder.frames.strings.string(name)
                    if text.hasPrefix("thread (") || text.hasPrefix("process ") {
                        let k = FoldedParser.parseFrame(text).kind
                        if k.isGrouping { kind = k }
                    }
                }
                frameIds.append(builder.frames.frame(name: name, file: file, line: line, kind: kind))
            }
        }
    }

    // MARK: profiles

    private func parseProfile() throws {
        s.skipWhitespace()
        let at = s.pos
        try s.beginObject()
        let p = profiles.count
        guard p < Int(Int32.max) - 1 else { throw ProfileError("too many profiles", offset: at) }
        let root = rawChild(0, Int32(-(p + 1)))
        var info = ProfileInfo()
        var leaves: [Int32] = []
        var weights: [Double]? = nil
        var endValue: Double? = nil
        var evented: (top: Int32, lastAt: Double)? = nil
        while let k = try s.nextKey() {
            if k.equals("type") {
                let t = try s.readStringValue()
                if t == "sampled" { info.sampled = true }
                else if t != "evented" { warnings.append("profile \(p): unknown type '\(t)'") }
            } else if k.equals("name") {
                if s.peekKind() == .string { info.name = try s.readStringValue() } else { try s.skipValue() }
            } else if k.equals("unit") {
                if s.peekKind() == .string { info.unit = try s.readStringValue() } else { try s.skipValue() }
            } else if k.equals("endValue") {
                if s.peekKind() == .number { endValue = try s.readNumber() } else { try s.skipValue() }
            } else if k.equals("samples") {
                info.sampled = true
                leaves = try parseSamples(root: root)
            } else if k.equals("weights") {
                var w: [Double] = []
                try s.beginArray()
                while try s.nextElement() { w.append(clean(try s.readNumber())) }
                weights = w
            } else if k.equals("events") {
                evented = try parseEvents(root: root)
            } else {
                try s.skipValue()
            }
        }
        if !leaves.isEmpty || weights != nil {
            let w = weights ?? []
            if weights == nil {
                warnings.append("profile \(p): no 'weights', each sample counts 1")
                for leaf in leaves { rawSelf[Int(leaf)] += 1 }
            } else if w.count != leaves.count {
                throw ProfileError("profile \(p) has \(leaves.count) samples but \(w.count) weights", offset: at)
            } else {
                for i in 0..<leaves.count { rawSelf[Int(leaves[i])] += w[i] }
            }
            info.samples = leaves.count
            info.leaves = leaves
        }
        if let (top, lastAt) = evented, top >= 0 {
            // Frames still open at the end: they ran until the profile's end.
            let end = max(lastAt, clean(endValue ?? lastAt))
            rawSelf[Int(top)] += end - lastAt
        }
        profiles.append(info)
    }

    @inline(__always)
    private func clean(_ v: Double) -> Double {
        if v.isFinite && abs(v) <= 1e290 { return v }
        nonFiniteWeights += 1
        return 0
    }

    /// Reads a frame index (a non-negative integer below 2^31).
    @inline(__always)
    private func readIndex() throws -> Int32 {
        s.skipWhitespace()
        let at = s.pos
        let v = try s.readNumber()
        guard v >= 0, v <= Double(Int32.max), v == v.rounded() else {
            throw ProfileError("bad frame index \(v) (expected an integer from 0)", offset: at)
        }
        if Int(v) > maxIndex { maxIndex = Int(v); maxIndexOffset = at }
        return Int32(v)
    }

    /// `samples`: arrays of frame indices, root first. The hot loop of big files: digits are
    /// parsed in place, and a sample that starts like the previous one reuses its nodes.
    private func parseSamples(root: Int32) throws -> [Int32] {
        var leaves: [Int32] = []
        var prevF: [Int32] = []
        var prevN: [Int32] = []
        var prevLen = 0
        let base = s.base, count = s.count
        @inline(__always) func byte(_ i: Int) -> UInt8 { base.load(fromByteOffset: i, as: UInt8.self) }
        @inline(__always) func ws(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }
        var prevTextStart = 0, prevTextLength = -1
        var prevLeaf = root
        try s.beginArray()
        while try s.nextElement() {
            s.skipWhitespace()
            guard s.pos < count, byte(s.pos) == 0x5B else { throw s.failure("a sample (an array of frame indices)") }
            // A sample written exactly like the previous one (a program sitting in a loop) is
            // the same stack: compare the text and skip parsing it.
            let textStart = s.pos
            if prevTextLength > 0, textStart + prevTextLength <= count,
               byte(textStart + prevTextLength - 1) == 0x5D,
               memcmp(base + textStart, base + prevTextStart, prevTextLength) == 0 {
                s.pos = textStart + prevTextLength
                leaves.append(prevLeaf)
                continue
            }
            var i = s.pos + 1
            var node = root
            var d = 0
            var same = true
            while true {
                while i < count && ws(byte(i)) { i += 1 }
                guard i < count else { s.pos = i; throw s.failure("']'") }
                var c = byte(i)
                if c == 0x5D { i += 1; break }
                if d > 0 {
                    guard c == 0x2C else { s.pos = i; throw s.failure("',' or ']'") }
                    i += 1
                    while i < count && ws(byte(i)) { i += 1 }
                    guard i < count else { s.pos = i; throw s.failure("a frame index") }
                    c = byte(i)
                }
                let numStart = i
                var v = 0
                while i < count {
                    let dg = byte(i) &- 0x30
                    if dg >= 10 { break }
                    v = v &* 10 &+ Int(dg)
                    if v > Int(Int32.max) {
                        throw ProfileError("frame index too large (expected an index into shared.frames)", offset: numStart)
                    }
                    i += 1
                }
                let f: Int32
                if i == numStart || (i < count && (byte(i) == 0x2E || byte(i) | 0x20 == 0x65)) {
                    s.pos = numStart            // -1, 1.0, 1e2, junk: the careful path
                    f = try readIndex()
                    i = s.pos
                } else {
                    f = Int32(truncatingIfNeeded: v)
                    if v > maxIndex { maxIndex = v; maxIndexOffset = numStart }
                }
                if same && d < prevLen && prevF[d] == f {
                    node = prevN[d]
                } else {
                    same = false
                    node = rawChild(node, f)
                    if d < prevF.count { prevF[d] = f; prevN[d] = node } else { prevF.append(f); prevN.append(node) }
                }
                d += 1
            }
            prevLen = d
            s.pos = i
            leaves.append(node)
            prevTextStart = textStart
            prevTextLength = i - textStart
            prevLeaf = node
        }
        return leaves
    }

    /// `events`: open/close events; time between two events goes to the innermost open frame.
    /// Returns the innermost frame still open (-1 if none) and the last time.
    private func parseEvents(root: Int32) throws -> (top: Int32, lastAt: Double) {
        var stackNodes: [Int32] = []
        var stackFrames: [Int32] = []
        var lastAt = -Double.infinity
        try s.beginArray()
        while try s.nextElement() {
            s.skipWhitespace()
            let at0 = s.pos
            try s.beginObject()
            var type: UInt8 = 0
            var frame: Int32 = -1
            var at = Double.nan
            while let k = try s.nextKey() {
                if k.equals("type") {
                    let t = try s.readString()
                    type = t.count == 1 ? t.base.load(as: UInt8.self) : 0
                } else if k.equals("frame") {
                    frame = try readIndex()
                } else if k.equals("at") {
                    at = try s.readNumber()
                } else {
                    try s.skipValue()
                }
            }
            guard type == 0x4F || type == 0x43 else {
                throw ProfileError("event without a type \"O\" or \"C\"", offset: at0)
            }
            guard frame >= 0 else { throw ProfileError("event without a 'frame'", offset: at0) }
            guard at.isFinite else { throw ProfileError("event without a finite 'at'", offset: at0) }
            if lastAt == -Double.infinity { lastAt = at }
            if at < lastAt { outOfOrder += 1; at = lastAt }
            if let top = stackNodes.last { rawSelf[Int(top)] += at - lastAt }
            lastAt = at
            if type == 0x4F {
                let node = rawChild(stackNodes.last ?? root, frame)
                stackNodes.append(node)
                stackFrames.append(frame)
            } else if stackFrames.last == frame {
                stackNodes.removeLast()
                stackFrames.removeLast()
            } else if let k = stackFrames.lastIndex(of: frame) {
                // Closing an outer frame closes the ones opened inside it.
                badCloses += 1
                stackNodes.removeSubrange(k...)
                stackFrames.removeSubrange(k...)
            } else {
                badCloses += 1
            }
        }
        if !stackNodes.isEmpty { dangling += stackNodes.count }
        return (stackNodes.last ?? -1, lastAt == -Double.infinity ? 0 : lastAt)
    }

    // MARK: building

    private static func unitMetric(_ u: String?) -> (ValueType, Double)? {
        switch u ?? "none" {
        case "nanoseconds": return (ValueType("time", "nanoseconds"), 1e-9)
        case "microseconds": return (ValueType("time", "microseconds"), 1e-6)
        case "milliseconds": return (ValueType("time", "milliseconds"), 1e-3)
        case "seconds": return (ValueType("time", "seconds"), 1)
        case "bytes": return (ValueType("memory", "bytes"), 1)
        case "none", "": return (ValueType("samples", "count"), 1)
        default: return nil
        }
    }

    func finish() throws -> ProfileBuilder {
        rawMap = PairMap(capacity: 16)
        let b = builder
        if profiles.isEmpty { throw ProfileError("speedscope file has no profiles", offset: 0) }
        // One metric per kind of unit; time units convert to the first one seen.
        var metricOf = [Int](repeating: 0, count: profiles.count)
        var scaleOf = [Double](repeating: 1, count: profiles.count)
        var timeMetric: (index: Int, secondsPerUnit: Double)? = nil
        for (p, info) in profiles.enumerated() {
            var (v, factor) = SpeedscopeParser.unitMetric(info.unit) ?? {
                let u = info.unit ?? ""
                warnings.append("profile \(p): unknown unit '\(u)'")
                return (ValueType("value", u), 1)
            }()
            if v.name == "time" {
                if let t = timeMetric { metricOf[p] = t.index; scaleOf[p] = factor / t.secondsPerUnit; continue }
                let i = b.addMetric(v)
                timeMetric = (i, factor)
                metricOf[p] = i
                continue
            }
            factor = 1
            if let i = b.metrics.firstIndex(of: v) { metricOf[p] = i } else { metricOf[p] = b.addMetric(v) }
            scaleOf[p] = factor
        }
        b.defaultMetric = timeMetric?.index ?? 0
        // Profiles of one recording in different units over the same samples (memray's
        // "Memory" bytes and "Allocations"): one tree with a metric each, not thread roots.
        let parallel = parallelProfiles(metricOf)
        if parallel {
            for (p, info) in profiles.enumerated() {
                if let name = info.name, !name.isEmpty, b.metrics[metricOf[p]].name != "time" {
                    b.setMetric(metricOf[p], ValueType(name.lowercased(), b.metrics[metricOf[p]].unit))
                }
            }
        }
        // Thread roots, named after the profiles (a repeated name gets a number).
        var used: [String: Int] = [:]
        var threadFrame = [Int32](repeating: -1, count: profiles.count)
        for (p, info) in profiles.enumerated() where !parallel {
            var name = info.name ?? "profile \(p + 1)"
            if let n = used[name] { used[name] = n + 1; name += " [\(n + 1)]" } else { used[name] = 1 }
            threadFrame[p] = b.frames.frame(name: name, file: nil, line: nil, kind: .thread)
        }
        // Replay in bulk (parents come before children): raw frames become frame ids, a
        // profile's root its thread frame (or nothing: -1 merges it into the root), and each
        // node's weight goes to its profile's metric. A `child(of:frame:)` a node, each probe
        // waited for, was a sixth of reading a deep file.
        let n = rawParent.count
        let shared = frameIds.count
        for i in 1..<max(n, 1) where rawFrame[i] < 0 { rawFrame[i] = Int32(shared) - rawFrame[i] - 1 }
        let frameMap = frameIds + threadFrame
        let plain = profiles.indices.allSatisfy { metricOf[$0] == metricOf[0] && scaleOf[$0] == 1 }
        var columns = [[Double]](repeating: [], count: b.metrics.count)
        if plain {
            swap(&columns[metricOf[0]], &rawSelf)
        } else {
            // Which profile each node is in: its thread root's (parents come first).
            var prof = [Int32](repeating: 0, count: n)
            for m in columns.indices { columns[m] = [Double](repeating: 0, count: n) }
            for i in 1..<max(n, 1) {
                let f = Int(rawFrame[i])
                let pi = f >= shared ? Int32(f - shared) : prof[Int(rawParent[i])]
                prof[i] = pi
                let w = rawSelf[i]
                if w != 0 { columns[metricOf[Int(pi)]][i] = w * scaleOf[Int(pi)] }
            }
        }
        b.addTree(parent: rawParent, frame: rawFrame, selfWeight: columns, frameMap: frameMap)
        rawParent = []; rawFrame = []; rawSelf = []
        for p in profiles.indices { profiles[p].leaves = [] }
        let sampled = profiles.filter(\.sampled)
        if !sampled.isEmpty { b.sampleCount = parallel ? sampled[0].samples : sampled.reduce(0) { $0 + $1.samples } }
        if nonFiniteWeights > 0 { warnings.append("\(nonFiniteWeights) non-finite or huge value(s) counted as 0") }
        if outOfOrder > 0 { warnings.append("\(outOfOrder) event(s) earlier than the one before (treated as simultaneous)") }
        if badCloses > 0 { warnings.append("\(badCloses) close event(s) that did not match the innermost open frame") }
        if dangling > 0 { warnings.append("\(dangling) frame(s) still open at the end (closed at the profile's end)") }
        b.warnings += warnings
        b.metadata += meta
        b.metadata.append(("profiles", String(profiles.count) + (parallel ? " (one tree, a metric each)" : "")))
        return b
    }

    /// True when every profile is sampled, each has a metric of its own, and all hold the same
    /// stacks in the same order: one recording measured in several units.
    private func parallelProfiles(_ metricOf: [Int]) -> Bool {
        guard profiles.count >= 2, Set(metricOf).count == profiles.count,
              profiles.allSatisfy({ $0.sampled && $0.leaves.count == profiles[0].leaves.count && !$0.leaves.isEmpty })
        else { return false }
        let first = profiles[0].leaves
        for q in profiles.dropFirst() {
            for (a0, b0) in zip(first, q.leaves) {
                var a = a0, c = b0
                while true {                       // the same frames up to each profile's root
                    let fa = rawFrame[Int(a)], fc = rawFrame[Int(c)]
                    if fa < 0 && fc < 0 { break }
                    if fa != fc { return false }
                    a = rawParent[Int(a)]; c = rawParent[Int(c)]
                }
            }
        }
        return true
    }
}
