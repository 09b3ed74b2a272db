/// speedscope JSON (py-spy, speedscope, pyinstrument, austin2speedscope): FORMATS.md §3.
///
/// Each profile (sampled or evented) becomes a thread root named after the profile, except that
/// sampled profiles of one recording in different units (memray: "Memory" bytes, "Allocations")
/// become one tree with a metric each. Samples refer to `shared.frames` by index, and py-spy
/// writes `shared` *after* `profiles`, so the builder's tree is first keyed by raw frame index
/// (a sample's text shared with the sample before is not parsed again, as in the folded
/// reader), and its frames are remapped once `shared.frames` is known. A caller that merges
/// lines or threads gets that tree built directly: `shared.frames` is read first (found from
/// the end when it comes last), so samples walk the merged frames.
public enum SpeedscopeReader: ProfileReader {
    public static let name = "speedscope"
    public static let title = "speedscope JSON (py-spy, speedscope, pyinstrument)"
    public static let mergesLinesWhileReading = true

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
        let input = try JSONInput(source)
        func run(merging: Bool) throws -> SpeedscopeParser {
            let parser = SpeedscopeParser()
            parser.mergeThreads = options.mergeThreads
            if merging { parser.mergeFrames = (options.mergeLines, options.mergeThreads) }
            if let seed = options.seedFrames { parser.builder.frames = seed }
            parser.input = input
            try input.scan { try parser.parse($0) }
            parser.input = nil
            return parser
        }
        let parser: SpeedscopeParser
        do {
            parser = try run(merging: options.mergeLines || options.mergeThreads)
        } catch is SpeedscopeParser.Unmapped {
            // A file the merged read does not handle as it is (no `shared` found where it was
            // guessed, a second `shared`, an index past it): read again as written, frames
            // remapped at the end and the caller merging afterwards.
            input.releaseAll()
            parser = try run(merging: false)
        }
        return try parser.finish()
    }
}

final class SpeedscopeParser {
    // Until `finish`, the builder's tree has raw frames: ≥ 0 is a `shared.frames` index,
    // -(p + 1) the thread root of profile p. `rawSelf` is each node's weight in its profile's
    // own unit (metrics are known at the end), grown as nodes get weight.
    private var rawSelf: [Double] = [0]

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
        /// Self weight by `shared.frames` entry, in the profile's unit (lines merged while reading).
        var votes: [(frame: Int32, weight: Double)] = []
    }
    private var profiles: [ProfileInfo] = []
    /// Evented profiles (threads) straight under the root, without a thread root of their own:
    /// the tree `Profile.mergingThreads()` would make, without building the one with them. Only
    /// where that merge adds like to like: a profile whose unit, known before its events, is the
    /// first profile's (the nodes under the root count in the first profile's metric). The
    /// others keep their roots, which `finish` or `mergingThreads` merges. Sampled profiles keep
    /// theirs: py-spy's carry thread pseudo-frames of their own, which need that rebuild anyway.
    var mergeThreads = false
    private var mergedWhileReading: [Bool] = []
    private var meta: [(String, String)] = []

    /// Merge executing lines and/or leave grouping frames out while reading: `shared.frames`
    /// entries become the frames the caller wants (`frameIds` -1 for a grouping frame left
    /// out), when they are known before the samples. Set by the reader; `mapped` says whether
    /// this read's `frameIds` are such frames.
    var mergeFrames: (lines: Bool, threads: Bool)? = nil
    private var mapped = false
    private var hasDrops = false
    /// Per `shared.frames` entry when lines merge: its function and line, which the weight
    /// of samples ending in it votes for (`ProfileBuilder.voteLine`).
    private var rawFunction: [Int32] = []
    private var rawLine: [Int32] = []
    private var votingLines = false
    /// Self weight per `shared.frames` entry in the profile being read, and the entries that
    /// have some: moved into the profile's `votes` at its end.
    private var voteWeight: [Double] = []
    private var voteTouched: [Int32] = []
    /// Where the `shared` value read ahead of `profiles` starts and ends, until `parse` meets it.
    private var guessedShared: (start: Int, end: Int)? = nil
    private var guessConfirmed = false
    /// Thrown when the read with merged frames cannot go on as it started.
    struct Unmapped: Error {}

    private var s = JSONScanner(UnsafeRawBufferPointer(start: nil, count: 0))
    /// The document being parsed, told which of its bytes are no longer needed.
    var input: JSONInput?

    @inline(__always)
    private func rawChild(_ node: Int32, _ f: Int32) -> Int32 {
        builder.child(of: node, frame: f)
    }

    @inline(__always)
    private func addRaw(_ node: Int32, _ w: Double) {
        if Int(node) >= rawSelf.count { growRawSelf() }
        rawSelf[Int(node)] += w
    }

    private func growRawSelf() {
        rawSelf.append(contentsOf: repeatElement(0, count: builder.nodeCount - rawSelf.count))
    }

    func parse(_ buffer: UnsafeRawBufferPointer) throws {
        s = JSONScanner(buffer)
        guard s.peekKind() == .object else { throw s.failure("a speedscope JSON object ('{')") }
        try s.beginObject()
        var sawProfiles = false
        while let k = try s.nextKey() {
            if k.equals("shared") {
                s.skipWhitespace()
                if let g = guessedShared {
                    guard s.pos == g.start, !guessConfirmed else { throw Unmapped() }
                    s.pos = g.end
                    guessConfirmed = true
                } else if mapped && sawProfiles {
                    throw Unmapped()
                } else {
                    try parseShared(mapping: mergeFrames != nil && !sawProfiles)
                }
            } else if k.equals("profiles") {
                if !sawProfiles && !haveShared && mergeFrames != nil { guessShared() }
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
        if guessedShared != nil && !guessConfirmed { throw Unmapped() }
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

    /// The top-level `shared` value, read before `profiles` when it comes after them (py-spy
    /// writes it last): the last `"shared"` key in the input that parses as one. A guess, which
    /// `parse` confirms when it reaches the key (else the read starts again unmapped). A string
    /// cannot hold the bytes `"shared"` after a ',' or '{' with both quotes unescaped.
    private func guessShared() {
        let base = s.base
        var q = s.count
        while let c = quoteAfterD(before: q, from: max(s.pos, 7)) {
            q = c
            guard memcmp(base + q - 7, "\"shared", 7) == 0 else { continue }
            var i = q - 8
            while i >= 0 && isSpace(base.load(fromByteOffset: i, as: UInt8.self)) { i -= 1 }
            guard i >= 0, [0x2C, 0x7B].contains(base.load(fromByteOffset: i, as: UInt8.self)) else { continue }
            var j = q + 1
            while j < s.count && isSpace(base.load(fromByteOffset: j, as: UInt8.self)) { j += 1 }
            guard j < s.count, base.load(fromByteOffset: j, as: UInt8.self) == 0x3A else { continue }
            j += 1
            while j < s.count && isSpace(base.load(fromByteOffset: j, as: UInt8.self)) { j += 1 }
            guard j < s.count, base.load(fromByteOffset: j, as: UInt8.self) == 0x7B else { continue }
            // Read it with the pages behind the reader kept (they are not read yet), and the
            // frame table as it was if it is not one.
            let (saved, savedInput, savedFrames) = (s, input, builder.frames)
            s.pos = j
            input = nil
            let ok = (try? parseShared(mapping: true)) != nil && haveShared
            let valueEnd = s.pos
            (s, input) = (saved, savedInput)
            if ok {
                guessedShared = (j, valueEnd)
            } else {
                builder.frames = savedFrames
                (frameIds, rawFunction, rawLine, haveShared, mapped, hasDrops, votingLines) = ([], [], [], false, false, false, false)
            }
            return
        }
    }

    /// The last `"` before `end` (and at `from` or after) that follows a `d`: where a `"shared"`
    /// token can end. Eight bytes at a time, as `shared.frames` is mostly quotes and letters.
    private func quoteAfterD(before end: Int, from start: Int) -> Int? {
        let base = s.base
        var e = end
        while e - 8 >= max(start, 1) {
            let w = e - 8
            let quotes = JSONScanner.zeroBytes(base.loadUnaligned(fromByteOffset: w, as: UInt64.self) ^ 0x2222_2222_2222_2222)
            if quotes != 0 {
                let m = quotes & JSONScanner.zeroBytes(base.loadUnaligned(fromByteOffset: w - 1, as: UInt64.self) ^ 0x6464_6464_6464_6464)
                if m != 0 { return w + (63 - m.leadingZeroBitCount) / 8 }
            }
            e = w
        }
        while e > start {
            e -= 1
            if base.load(fromByteOffset: e, as: UInt8.self) == 0x22 && base.load(fromByteOffset: e - 1, as: UInt8.self) == 0x64 { return e }
        }
        return nil
    }

    @inline(__always)
    private func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    private func parseShared(mapping: Bool) throws {
        if mapping {
            mapped = true
            votingLines = mergeFrames?.lines == true
        }
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
                if !mapped {
                    frameIds.append(builder.frames.frame(name: name, file: file, line: line, kind: kind))
                } else if kind.isGrouping && mergeFrames?.threads == true {
                    frameIds.append(-1)
                    hasDrops = true
                    rawFunction.append(-1)
                    rawLine.append(0)
                } else if mergeFrames?.lines == true {
                    let (f, fn) = builder.frames.mergedLineFrame(name: name, file: file, line: line, kind: kind)
                    frameIds.append(f)
                    rawFunction.append(fn)
                    rawLine.append(line)
                } else {
                    frameIds.append(builder.frames.frame(name: name, file: file, line: line, kind: kind))
                    rawFunction.append(-1)
                    rawLine.append(0)
                }
                input?.release(below: s.pos)
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
        var info = ProfileInfo()
        var rootNode: Int32? = nil
        var merged = false
        func root(mergeable: Bool) -> Int32 {
            if let rootNode { return rootNode }
            merged = mergeable && mergeThreads && info.unit != nil && (p == 0 || info.unit == profiles[0].unit)
            let r = merged ? 0 : rawChild(0, Int32(-(p + 1)))
            rootNode = r
            return r
        }
        var leaves: [Int32] = []
        var leafFrames: [Int32] = []
        var weights: [Double]? = nil
        var endValue: Double? = nil
        var evented: (top: Int32, topFrame: Int32, lastAt: Double)? = nil
        while let k = try s.nextKey() {
            if k.equals("type") {
                let t = try s.readStringValue()
                if t == "sampled" { info.sampled = true }
                else if t != "evented" { warnings.append("profile \(p): unknown type '\(t)'") }
            } else if k.equals("name") {
                if s.peekKind() == .string { info.name = try s.readStringValue() } else { try s.skipValue() }
            } else if k.equals("unit") {
                if s.peekKind() == .string {
                    let u = try s.readStringValue()
                    // Samples already merged under the root count in the unit they were merged in.
                    if merged && u != info.unit { warnings.append("profile \(p): a later 'unit' '\(u)' ignored") }
                    else { info.unit = u }
                } else { try s.skipValue() }
            } else if k.equals("endValue") {
                if s.peekKind() == .number { endValue = try s.readNumber() } else { try s.skipValue() }
            } else if k.equals("samples") {
                info.sampled = true
                (leaves, leafFrames) = try parseSamples(root: root(mergeable: mapped))
            } else if k.equals("weights") {
                var w: [Double] = []
                try s.beginArray()
                while try s.nextElement() { w.append(clean(try s.readNumber())) }
                weights = w
            } else if k.equals("events") {
                evented = try parseEvents(root: root(mergeable: true))
            } else {
                try s.skipValue()
            }
        }
        _ = root(mergeable: false)      // a profile with neither samples nor events has its root too
        if !leaves.isEmpty || weights != nil {
            let w = weights ?? []
            if weights == nil {
                warnings.append("profile \(p): no 'weights', each sample counts 1")
                for leaf in leaves { addRaw(leaf, 1) }
            } else if w.count != leaves.count {
                throw ProfileError("profile \(p) has \(leaves.count) samples but \(w.count) weights", offset: at)
            } else {
                for i in 0..<leaves.count { addRaw(leaves[i], w[i]) }
            }
            for i in leafFrames.indices { vote(leafFrames[i], weights == nil ? 1 : w[i]) }
            info.samples = leaves.count
            info.leaves = leaves
        }
        if let (top, topFrame, lastAt) = evented, top >= 0 {
            // Frames still open at the end: they ran until the profile's end.
            let end = max(lastAt, clean(endValue ?? lastAt))
            addRaw(top, end - lastAt)
            vote(topFrame, end - lastAt)
        }
        for f in voteTouched {
            info.votes.append((f, voteWeight[Int(f)]))
            voteWeight[Int(f)] = 0
        }
        voteTouched.removeAll()
        profiles.append(info)
        mergedWhileReading.append(merged)
    }

    /// Self weight for `shared.frames` entry `f` (-1: none), when lines merge while reading.
    @inline(__always)
    private func vote(_ f: Int32, _ w: Double) {
        guard votingLines, f >= 0, w > 0 else { return }
        if voteWeight.isEmpty { voteWeight = [Double](repeating: 0, count: frameIds.count) }
        if voteWeight[Int(f)] == 0 { voteTouched.append(f) }
        voteWeight[Int(f)] += w
    }

    /// A frame index read while `frameIds` are merged frames: its frame (-1 for one left out).
    /// An index past `shared.frames` stops the merged read (the plain one says where it is).
    @inline(__always)
    private func mappedFrame(_ raw: Int32) throws -> Int32 {
        guard Int(raw) < frameIds.count else { throw Unmapped() }
        return frameIds[Int(raw)]
    }

    /// `descend` through merged frames, where a frame left out (-1) is no node: its entry in
    /// `nodes` is its parent's node.
    private func walk(from node: Int32, through path: UnsafeBufferPointer<Int32>, nodes: UnsafeMutablePointer<Int32>) -> Int32 {
        if !hasDrops || !path.contains(-1) { return builder.descend(from: node, through: path, nodes: nodes) }
        var n = node
        for (j, f) in path.enumerated() {
            if f >= 0 { n = builder.child(of: n, frame: f) }
            nodes[j] = n
        }
        return n
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

    /// `samples`: arrays of frame indices, root first. The hot loop of big files. Consecutive
    /// samples share long prefixes: the frames whose text (and the byte after it) equals the
    /// previous sample's are that sample's, nodes included, so only the rest is parsed (digits
    /// in place) and walked in the builder. With merged frames (`mapped`) `frames` holds those,
    /// and the second array each sample's last `shared.frames` entry, for line votes.
    private func parseSamples(root: Int32) throws -> ([Int32], [Int32]) {
        var leaves: [Int32] = []
        var leafFrames: [Int32] = []
        let voting = votingLines
        var lastRaw: Int32 = -1         // the last frame index parsed: the leaf's, once parsed
        var frames: [Int32] = []        // this sample's frames (the previous one's until parsed)
        var nodes: [Int32] = []         // their nodes
        var ends: [Int] = []            // where each frame's text ends, from the sample's '['
        var prevStart = 0, prevLength = 0
        let base = s.base, count = s.count
        @inline(__always) func byte(_ i: Int) -> UInt8 { base.load(fromByteOffset: i, as: UInt8.self) }
        @inline(__always) func ws(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }
        try s.beginArray()
        while try s.nextElement() {
            s.skipWhitespace()
            guard s.pos < count, byte(s.pos) == 0x5B else { throw s.failure("a sample (an array of frame indices)") }
            let textStart = s.pos
            let m = min(prevLength, count - textStart)
            let a = base + textStart, b = base + prevStart
            var same = 0
            while same + 8 <= m && a.loadUnaligned(fromByteOffset: same, as: UInt64.self)
                == b.loadUnaligned(fromByteOffset: same, as: UInt64.self) { same += 8 }
            while same < m && a.load(fromByteOffset: same, as: UInt8.self) == b.load(fromByteOffset: same, as: UInt8.self) { same += 1 }
            var k = 0
            while k < ends.count && ends[k] < same { k += 1 }
            frames.removeSubrange(k...)
            ends.removeSubrange(k...)
            var i = k > 0 ? textStart + ends[k - 1] : textStart + 1
            var d = k
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
                frames.append(mapped ? try mappedFrame(f) : f)
                lastRaw = f
                ends.append(i - textStart)
                d += 1
            }
            let leaf: Int32
            if d > k {
                let from = k > 0 ? nodes[k - 1] : root
                if hasDrops {
                    nodes.removeSubrange(k...)
                    nodes.append(contentsOf: repeatElement(0, count: d - k))
                    leaf = frames.withUnsafeBufferPointer { fr in
                        nodes.withUnsafeMutableBufferPointer { out in
                            walk(from: from, through: UnsafeBufferPointer(rebasing: fr[k...]), nodes: out.baseAddress! + k)
                        }
                    }
                } else {
                    leaf = builder.descend(from: from, path: frames, after: k, nodes: &nodes)
                }
            } else {
                leaf = k > 0 ? nodes[k - 1] : root
            }
            s.pos = i
            leaves.append(leaf)
            if voting { leafFrames.append(d > 0 ? lastRaw : -1) }
            prevStart = textStart
            prevLength = i - textStart
            input?.release(below: prevStart)
        }
        return (leaves, leafFrames)
    }

    /// `events`: open/close events; time between two events goes to the innermost open frame.
    /// Returns the innermost frame still open (-1 if none) and the last time.
    /// Frames opened in a row are walked into the tree together (`descend`, its probes
    /// prefetched) when the next close needs them, not one cache miss at a time: until then
    /// `stackNodes` stops short of `stackFrames`, and the time given to the open frames above
    /// it waits in `pendingWeight` (stack position, time), added in order once they have nodes.
    /// `stackFrames` holds `shared.frames` indices as the events name them; with merged frames
    /// (`mapped`) the walk goes through theirs.
    private func parseEvents(root: Int32) throws -> (top: Int32, topFrame: Int32, lastAt: Double) {
        var stackNodes: [Int32] = []
        var stackFrames: [Int32] = []
        var pendingWeight: [(position: Int, weight: Double)] = []
        var walked: [Int32] = []
        var path: [Int32] = []
        func resolve() {
            let have = stackNodes.count
            guard have < stackFrames.count else { return }
            let n = stackFrames.count - have
            if walked.count < n { walked.append(contentsOf: repeatElement(0, count: n - walked.count)) }
            let from = have > 0 ? stackNodes[have - 1] : root
            if mapped {
                path.removeAll(keepingCapacity: true)
                for f in stackFrames[have...] { path.append(frameIds[Int(f)]) }
                path.withUnsafeBufferPointer { fr in
                    walked.withUnsafeMutableBufferPointer { out in _ = walk(from: from, through: fr, nodes: out.baseAddress!) }
                }
            } else {
                stackFrames.withUnsafeBufferPointer { fr in
                    walked.withUnsafeMutableBufferPointer { out in
                        _ = builder.descend(from: from, through: UnsafeBufferPointer(rebasing: fr[have...]), nodes: out.baseAddress!)
                    }
                }
            }
            stackNodes.append(contentsOf: walked[0..<n])
            for (position, weight) in pendingWeight {
                addRaw(stackNodes[position], weight)
                vote(stackFrames[position], weight)
            }
            pendingWeight.removeAll(keepingCapacity: true)
        }
        var lastAt = -Double.infinity
        try s.beginArray()
        while try s.nextElement() {
            s.skipWhitespace()
            let at0 = s.pos
            var type: UInt8 = 0
            var frame: Int32 = -1
            var at = Double.nan
            if !compactEvent(&type, &frame, &at) {
            try s.beginObject()
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
            }
            guard type == 0x4F || type == 0x43 else {
                throw ProfileError("event without a type \"O\" or \"C\"", offset: at0)
            }
            guard frame >= 0 else { throw ProfileError("event without a 'frame'", offset: at0) }
            if mapped && Int(frame) >= frameIds.count { throw Unmapped() }
            guard at.isFinite else { throw ProfileError("event without a finite 'at'", offset: at0) }
            input?.release(below: s.pos)
            if lastAt == -Double.infinity { lastAt = at }
            if at < lastAt { outOfOrder += 1; at = lastAt }
            if !stackFrames.isEmpty {
                if stackNodes.count == stackFrames.count {
                    addRaw(stackNodes[stackNodes.count - 1], at - lastAt)
                    vote(stackFrames[stackFrames.count - 1], at - lastAt)
                } else { pendingWeight.append((stackFrames.count - 1, at - lastAt)) }
            }
            lastAt = at
            if type == 0x4F {
                stackFrames.append(frame)
                continue
            }
            resolve()
            if stackFrames.last == frame {
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
        resolve()
        if !stackNodes.isEmpty { dangling += stackNodes.count }
        return (stackNodes.last ?? -1, stackFrames.last ?? -1, lastAt == -Double.infinity ? 0 : lastAt)
    }

    /// An event written as exporters write them, `{"type":"O","frame":12,"at":3.5}` with no
    /// spaces, read by bytes: most of an evented file. Anything else (other key orders, spaces,
    /// more keys, big or odd numbers, a cut) leaves `s.pos` where it was and returns false for
    /// the general path, which also gives the errors.
    private func compactEvent(_ type: inout UInt8, _ frame: inout Int32, _ at: inout Double) -> Bool {
        let start = s.pos, base = s.base, end = s.count
        guard s.depth < s.maxDepth, start + 24 <= end else { return false }
        @inline(__always) func matches(_ i: Int, _ text: StaticString) -> Bool { s.matches(i, text) }
        guard matches(start, "{\"type\":\"") else { return false }
        let t = base.load(fromByteOffset: start + 9, as: UInt8.self)
        guard t == 0x4F || t == 0x43, matches(start + 10, "\",\"frame\":") else { return false }
        var i = start + 20, v = 0
        let digits = i
        while i < end && i - digits < 9 {
            let d = base.load(fromByteOffset: i, as: UInt8.self) &- 0x30
            if d >= 10 { break }
            v = v * 10 + Int(d)
            i += 1
        }
        let nd = i - digits
        guard nd > 0, !(nd > 1 && base.load(fromByteOffset: digits, as: UInt8.self) == 0x30),
              matches(i, ",\"at\":") else { return false }
        s.pos = i + 6
        guard let a = try? s.readNumber(), s.pos < end, base.load(fromByteOffset: s.pos, as: UInt8.self) == 0x7D else {
            s.pos = start
            return false
        }
        s.pos += 1
        if v > maxIndex { maxIndex = v; maxIndexOffset = digits }
        type = t; frame = Int32(v); at = a
        return true
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
        let allMerged = !mergedWhileReading.contains(false)
        for (p, info) in profiles.enumerated() where !parallel && !allMerged {
            var name = info.name ?? "profile \(p + 1)"
            if let n = used[name] { used[name] = n + 1; name += " [\(n + 1)]" } else { used[name] = 1 }
            threadFrame[p] = b.frames.frame(name: name, file: nil, line: nil, kind: .thread)
        }
        // The raw tree's frames become frame ids: a raw index its `shared.frames` frame, a
        // profile's root its thread frame (or nothing, -1, merging it into the root). Each
        // node's weight goes to its profile's metric.
        let n = b.nodeCount
        if rawSelf.count < n { growRawSelf() }
        // Merged frames (`mapped`) are frame ids already: the map keeps them.
        let shared = mapped ? b.frames.frameCount : frameIds.count
        let frameMap = (mapped ? Array(0..<Int32(shared)) : frameIds) + threadFrame
        let plain = profiles.indices.allSatisfy { metricOf[$0] == metricOf[0] && scaleOf[$0] == 1 }
        var columns = [[Double]](repeating: [], count: b.metrics.count)
        if plain {
            swap(&columns[metricOf[0]], &rawSelf)
        } else {
            // Which profile each node is in: its thread root's (parents come first).
            let parent = b.parent, frame = b.frame
            var prof = [Int32](repeating: 0, count: n)
            for m in columns.indices { columns[m] = [Double](repeating: 0, count: n) }
            for i in 1..<max(n, 1) {
                let f = frame[i]
                let pi = f < 0 ? -(f + 1) : prof[Int(parent[i])]
                prof[i] = pi
                let w = rawSelf[i]
                if w != 0 { columns[metricOf[Int(pi)]][i] = w * scaleOf[Int(pi)] }
            }
        }
        rawSelf = []
        // Thread roots are the only children of the root, and `shared.frames` indices the only
        // frames below them: so a thread frame equal to a shared frame (py-spy's `thread (TID):
        // NAME` frame, under a profile of that name) never makes two siblings one. Only equal
        // frames within one of the two sets can.
        // Profiles merged while reading have no thread root to map.
        // Merged frames were walked as themselves, so equal ones are one node already.
        let distinct = (mapped || Set(frameIds).count == frameIds.count)
            && (allMerged || Set(threadFrame).count == threadFrame.count)
        if (allMerged || !threadFrame.contains(where: { $0 < 0 })) && distinct {
            // Siblings stay distinct: the tree stays as it is, with its frames renamed.
            if !(mapped && allMerged) {
                frameMap.withUnsafeBufferPointer { fmap in
                    b.remapFrames { f in f >= 0 ? fmap[Int(f)] : fmap[shared - Int(f) - 1] }
                }
            }
            for m in columns.indices where !columns[m].isEmpty { b.setSelfWeights(m, columns[m]) }
        } else {
            // Frames that merge (duplicate `shared.frames` entries, parallel profiles' roots):
            // replayed so that equal paths become one node.
            var (parent, frame) = b.takeTree()
            for i in 1..<max(n, 1) where frame[i] < 0 { frame[i] = Int32(shared) - frame[i] - 1 }
            b.addTree(parent: parent, frame: frame, selfWeight: columns, frameMap: frameMap)
            parent = []; frame = []
        }
        for p in profiles.indices { profiles[p].leaves = [] }
        // Lines merged while reading: each function is labelled by its hottest line.
        for (p, info) in profiles.enumerated() where metricOf[p] == b.defaultMetric {
            for (f, w) in info.votes { b.voteLine(function: rawFunction[Int(f)], line: rawLine[Int(f)], w * scaleOf[p]) }
        }
        // Parallel profiles are one recording, not threads: nothing to split again.
        let mergedCount = mergedWhileReading.filter { $0 }.count
        if mergedCount > 0 && !parallel { b.mergedThreads = mergedCount }
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
        let rawParent = builder.parent, rawFrame = builder.frame
        for q in profiles.dropFirst() {
            for (a0, b0) in zip(first, q.leaves) {
                var a = a0, c = b0
                // The same frames up to each profile's root: its thread root, or the root
                // itself for a profile merged while reading.
                while true {
                    let atRootA = a == 0 || rawFrame[Int(a)] < 0, atRootC = c == 0 || rawFrame[Int(c)] < 0
                    if atRootA && atRootC { break }
                    if atRootA != atRootC || rawFrame[Int(a)] != rawFrame[Int(c)] { return false }
                    a = rawParent[Int(a)]; c = rawParent[Int(c)]
                }
            }
        }
        return true
    }
}
