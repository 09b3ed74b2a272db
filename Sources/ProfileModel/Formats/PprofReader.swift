#if canImport(FoundationEssentials)
import FoundationEssentials  // Data, for the string table's `bytes`
#else
import Foundation
#endif
import SwiftProtobuf
import CPrefetch

/// pprof `profile.proto` (Go runtime/pprof, Pyroscope agents, Parca, austin2pprof), gzipped or raw.
///
/// Decoding uses SwiftProtobuf with the committed `Generated/profile.pb.swift`; `string_table`
/// is declared `bytes` there so invalid UTF-8 is replaced (U+FFFD) instead of failing the file.
/// Sample types become metrics; the default metric is `default_sample_type`, else the last.
/// Each sample's locations (leaf first) are reversed to a root-first stack, and a location
/// with inlined functions (several `line` entries, innermost first) expands to several frames.
/// A location without lines is shown as `0x<address>` with its mapping's file.
/// Thread-like labels (`thread_name`, `thread_id`, `goroutine`, ...) put a thread grouping
/// frame above the sample's stack; other labels are counted in the metadata.
public enum PprofReader: ProfileReader {
    public static let mergesLinesWhileReading = true
    public static let name = "pprof"
    public static let title = "pprof profile.proto (Go, Pyroscope)"

    /// Label keys that name a thread (or goroutine): such samples get a thread grouping frame.
    static let threadLabelKeys: Set<String> = [
        "thread", "thread_id", "thread_name", "threadid", "thread id", "thread name", "tid",
        "goroutine", "goroutine_id", "goroutine id",
    ]

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        guard prefix.count > 0 else { return complete ? .no : .needMore }
        var w = PprofWire(prefix, strict: true, partial: !complete)
        do { try w.walkProfile() } catch { return .no }
        if w.topLevelFields == 0 { return .no }
        // string_table[0] must be "": when the first entry is in view it settles the question.
        if w.firstStringEmpty == false { return .no }
        // A whole file without a string table has no names at all: not a real profile.
        if complete && w.firstStringEmpty == nil { return .no }
        return .yes
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        // A plain file is mapped, not copied: the samples are read front to back and the pages
        // passed are handed back, so the file need not stay resident beside the tree.
        if let input = JSONInput.mapping(source) { return try read(mapped: input, options: options) }
        let bytes = try source.readAll()
        if bytes.isEmpty { throw ProfileError("empty pprof data (expected a profile.proto message)", offset: 0) }
        if let b = try bytes.withUnsafeBytes({ try readSamplesFromWire($0, options: options) }) { return b }
        return try readDecoded(bytes, options: options)
    }

    /// A mapped file; one cut by another process meanwhile fails saying so (`JSONInput.scan`).
    static func read(mapped input: JSONInput, options: ReadOptions) throws -> ProfileBuilder {
        try input.scan { p in
            if let b = try readSamplesFromWire(p, options: options, input: input) { return b }
            return try readDecoded([UInt8](p), options: options)
        }
    }

    /// The whole message decoded by SwiftProtobuf (samples too): for damaged data, which it
    /// locates in its error.
    private static func readDecoded(_ bytes: [UInt8], options: ReadOptions) throws -> ProfileBuilder {
        let profile = try decode(bytes)
        try checkSize(profile)
        return try build(profile, mergeLines: options.mergeLines, mergeThreads: options.mergeThreads,
                         seedFrames: options.seedFrames)
    }

    /// The usual way: SwiftProtobuf decodes all but the samples, which are read from the wire
    /// (`PprofSamples`). nil when the data is damaged: the full decode then says where.
    /// `input`: the mapped file `p` is, whose pages the sample walk hands back behind it.
    static func readSamplesFromWire(_ p: UnsafeRawBufferPointer, options: ReadOptions,
                                    input: JSONInput? = nil) throws -> ProfileBuilder? {
        guard let (rest, s) = PprofSamples.split(p) else { return nil }
        var samples = s
        samples.input = input
        // Finding the samples touched every page; each walk of them brings them back in turn.
        input?.releaseAll()
        var opts = BinaryDecodingOptions()
        opts.discardUnknownFields = true
        guard let pb = try? Perftools_Profiles_Profile(serializedBytes: rest, options: opts) else { return nil }
        var maxValues = 0
        if pb.sampleType.isEmpty {
            do { try samples.forEach { _, v, _ in maxValues = max(maxValues, v.count) } } catch { return nil }
            input?.releaseAll()
        }
        try checkSize(columns: pb.sampleType.isEmpty ? maxValues : pb.sampleType.count, samples: samples.count)
        do {
            return try build(pb, mergeLines: options.mergeLines, mergeThreads: options.mergeThreads,
                             seedFrames: options.seedFrames, wire: samples, wireMaxValues: maxValues)
        } catch is PprofSamples.Malformed {
            return nil
        }
    }

    /// As many metrics as callgrind reads events: each is a weight column over every node.
    static let maxSampleTypes = CallgrindParser.maxEvents

    /// Refuses shapes whose tree would not fit the memory budget before building it: a tree
    /// holds at least a node per sample, and a weight per node per sample type (30,000 types
    /// of 30,000 samples in a 735 KB file would need 7 GB).
    static func checkSize(_ pb: Perftools_Profiles_Profile) throws {
        var columns = pb.sampleType.count
        if columns == 0 { columns = pb.sample.reduce(0) { max($0, $1.value.count) } }
        try checkSize(columns: columns, samples: pb.sample.count)
    }

    static func checkSize(columns: Int, samples: Int) throws {
        guard columns <= maxSampleTypes else {
            throw ProfileError("\(columns) sample types (at most \(maxSampleTypes) are supported)", offset: 0)
        }
        try MemoryBudget.check(count: samples + 1, stride: 8 * max(columns, 1) + 16, offset: 0)
    }

    /// Decodes the message; on failure, finds where the wire structure breaks for the error.
    static func decode(_ bytes: [UInt8]) throws -> Perftools_Profiles_Profile {
        var opts = BinaryDecodingOptions()
        opts.discardUnknownFields = true
        do {
            return try Perftools_Profiles_Profile(serializedBytes: bytes, options: opts)
        } catch {
            let what: String
            switch error {
            case BinaryDecodingError.truncated: what = "truncated protobuf data"
            case BinaryDecodingError.malformedProtobuf: what = "malformed protobuf data"
            case BinaryDecodingError.messageDepthLimit: what = "protobuf messages nested too deeply"
            default: what = "protobuf decoding failed (\(error))"
            }
            let located: PprofWire.Failure? = bytes.withUnsafeBytes { p in
                var w = PprofWire(p, strict: false, partial: false)
                do { try w.walkProfile(); return nil } catch let f as PprofWire.Failure { return f } catch { return nil }
            }
            if let located {
                throw ProfileError("invalid pprof profile: \(what): \(located.message)", offset: located.offset)
            }
            throw ProfileError("invalid pprof profile: \(what)", offset: 0)
        }
    }

    /// `mergeLines`: one frame per function instead of per line; `mergeThreads`: no thread
    /// grouping frames; `seedFrames`: a frame table to extend (`ReadOptions`). `wire`: the
    /// samples, when `pb` was decoded without them.
    static func build(_ pb: Perftools_Profiles_Profile, mergeLines: Bool = false, mergeThreads: Bool = false,
                      seedFrames: FrameTable? = nil, wire: PprofSamples? = nil,
                      wireMaxValues: Int = 0) throws -> ProfileBuilder {
        let sampleRecords = wire?.count ?? pb.sample.count
        var warnings: [String] = []
        let strings = StringTable(pb.stringTable)
        if pb.stringTable.isEmpty {
            warnings.append("the string table is empty (names are missing)")
        } else if !pb.stringTable[0].isEmpty {
            warnings.append("string_table[0] is not empty, as profile.proto requires")
        }

        // Metrics: one per sample type (synthesised when a producer wrote none).
        var metrics = pb.sampleType.map { ValueType(strings[$0.type], strings[$0.unit]) }
        if metrics.isEmpty {
            let columns = wire != nil ? wireMaxValues : pb.sample.reduce(0) { max($0, $1.value.count) }
            metrics = columns == 0 ? [ValueType("samples", "count")]
                : (1...columns).map { ValueType("value\($0)", "") }
            warnings.append("no sample_type in the profile: value columns are unnamed")
        }
        var defaultMetric = metrics.count - 1
        if pb.defaultSampleType != 0 {
            let want = strings[pb.defaultSampleType]
            if let i = metrics.firstIndex(where: { $0.name == want }) { defaultMetric = i }
            else { warnings.append("default_sample_type '\(want)' is not a sample type; using the last") }
        }
        let builder = ProfileBuilder(format: name, metrics: metrics, defaultMetric: defaultMetric)
        if let seedFrames { builder.frames = seedFrames }
        let M = metrics.count

        // Names are interned into the frame table on first use, once per string index.
        var interned = [Int32](repeating: -2, count: pb.stringTable.count)
        var badStringIndexes = 0
        func intern(_ idx: Int64) -> Int32 {
            guard idx >= 0 && idx < Int64(interned.count) else { badStringIndexes += 1; return -1 }
            let i = Int(idx)
            if interned[i] == -2 {
                interned[i] = pb.stringTable[i].isEmpty ? -1 : builder.frames.intern(strings[idx])
            }
            return interned[i]
        }

        let functionIndex = IdIndex(pb.function.lazy.map(\.id))
        let mappingIndex = IdIndex(pb.mapping.lazy.map(\.id))
        let locationIndex = IdIndex(pb.location.lazy.map(\.id))
        var missingFunctions = 0

        // Each location's frames, root first (its last line is the caller-most), as CSR.
        var locStart = [Int32](repeating: 0, count: pb.location.count + 1)
        var locFrames: [Int32] = []
        locFrames.reserveCapacity(pb.location.count)
        for (li, loc) in pb.location.enumerated() {
            var fileOfMapping: Int32 = -1
            if loc.mappingID != 0, let mi = mappingIndex[loc.mappingID] {
                fileOfMapping = intern(pb.mapping[Int(mi)].filename)
            }
            func addressFrame() -> Int32 {
                let n = builder.frames.intern("0x" + String(loc.address, radix: 16))
                return builder.frames.frame(name: n, file: fileOfMapping, line: 0, kind: .native)
            }
            if loc.line.isEmpty {
                locFrames.append(addressFrame())
            } else {
                for line in loc.line.reversed() {
                    let lineNo = Int32(clamping: max(line.line, 0))
                    guard line.functionID != 0, let fi = functionIndex[line.functionID] else {
                        if line.functionID != 0 { missingFunctions += 1 }
                        locFrames.append(addressFrame())
                        continue
                    }
                    let fn = pb.function[Int(fi)]
                    var nameId = intern(fn.name)
                    if nameId < 0 { nameId = intern(fn.systemName) }
                    if nameId < 0 {
                        locFrames.append(addressFrame())
                        continue
                    }
                    let file = intern(fn.filename)
                    let f = mergeLines ? builder.frames.functionFrame(name: nameId, file: file, line: lineNo)
                        : builder.frames.frame(name: nameId, file: file, line: lineNo, kind: .function)
                    // Go records where each function starts: that labels it, not a sampled line.
                    if fn.startLine > 0 { builder.frames.define(functionOf: f, line: Int32(clamping: fn.startLine)) }
                    locFrames.append(f)
                }
            }
            locStart[li + 1] = Int32(locFrames.count)
        }

        // Room for the tree's columns up front, so they are not copied into fresh memory at each
        // doubling: a sample adds at most its frames as nodes (and a thread node), so the
        // location ids times the most frames a location has bound the tree. The bound only
        // reserves address space (pages are touched as nodes come), capped as `reserve` caps it
        // and to what the columns of a reasonable tree take. Not the index: its slots are all
        // touched at once and the bound can be far above the tree; it is sized below, from
        // how the tree grows.
        var mostFrames = 1
        for li in pb.location.indices { mostFrames = max(mostFrames, Int(locStart[li + 1] - locStart[li])) }
        let locationIds = wire?.bytes ?? pb.sample.reduce(0) { $0 + $1.locationID.count }
        let nodeBound = min(locationIds, 1 << 30) * min(mostFrames, 1 << 30) + min(sampleRecords, 1 << 30) + 1
        builder.reserve(nodes: min(nodeBound, (512 << 20) / (12 + 8 * M)), indexed: 0)

        // Each location's frames as one word: its only frame with the top bit set (most
        // locations have one line), else `start << 32 | end` in `locFrames`; 0: no location.
        // Kept by location id when the ids are dense: a sample's location is then one load, not
        // the dependent ones of id → index → CSR bounds → frame, each a cache miss on a big tree.
        func span(_ li: Int) -> UInt64 {
            let start = locStart[li], end = locStart[li + 1]
            return end - start == 1 ? 1 << 63 | UInt64(UInt32(bitPattern: locFrames[Int(start)]))
                : UInt64(start) << 32 | UInt64(end)
        }
        let spans = locFrames.count < 1 << 31 ? locationIndex.denseTable(span) : nil
        defer { spans?.deallocate() }
        // Merged lines' leaf weights (below) by location id too, beside the spans.
        let leafById = mergeLines ? spans.map { UnsafeMutableBufferPointer<Double>.allocate(capacity: $0.count) } : nil
        leafById?.initialize(repeating: 0)
        defer { leafById?.deallocate() }

        // Thread grouping frames come from thread-like labels (keys checked once per string index).
        var isThreadKey: [Int64: Bool] = [:]
        var threadFrames: [String: Int32] = [:]

        var labelCount = 0
        var labelKeys: [Int64: Int] = [:]
        var missingLocations = 0
        var valueCountMismatch = 0
        // Per sample state in raw buffers, not arrays: each write to an array captured by the
        // closure below checked that it was uniquely referenced first.
        typealias Scratch = PprofSamples.Scratch
        let columnSums = UnsafeMutablePointer<Double>.allocate(capacity: max(M, 1))
        columnSums.initialize(repeating: 0, count: max(M, 1))
        defer { columnSums.deallocate() }
        var stack = Scratch<Int32>()
        // Consecutive samples share most of their stack: only the frames below the first
        // difference from the previous sample (under the same thread node) are walked.
        var prevStack = Scratch<Int32>(), prevNodes = Scratch<Int32>(), prevTop: Int32 = -1
        // And the locations they share keep the previous sample's frames: looking each location
        // up (id, then its frames) was most of the reader's own time. Per location of the
        // previous sample, root first: its id, where its frames end in `prevStack`, and how many
        // locations up to it name no location (counted again for the warning).
        var locs = Scratch<UInt64>(), prevLocs = Scratch<UInt64>()
        var ends = Scratch<Int32>(), prevEnds = Scratch<Int32>()
        var missing = Scratch<Int32>(), prevMissing = Scratch<Int32>()
        defer {
            stack.deallocate(); prevStack.deallocate(); prevNodes.deallocate()
            locs.deallocate(); prevLocs.deallocate(); ends.deallocate(); prevEnds.deallocate()
            missing.deallocate(); prevMissing.deallocate()
        }
        // Merged lines: the leaf location's weight, which votes for the line that labels its
        // function (the location's innermost line).
        var leafWeight = [Double](repeating: 0, count: mergeLines ? pb.location.count : 0)
        var leafLocation = -1
        // Self weights go to the leaves in batches, per metric in sample order (so each node's
        // sum is added up as before): a leaf's weight is a cache miss, and a batch's misses
        // overlap where one per sample stalled the walk of the next.
        let batch = 512
        let batchNodes = UnsafeMutablePointer<Int32>.allocate(capacity: batch * M)
        let batchValues = UnsafeMutablePointer<Double>.allocate(capacity: batch * M)
        defer { batchNodes.deallocate(); batchValues.deallocate() }
        let batched = UnsafeMutablePointer<Int>.allocate(capacity: max(M, 1))
        batched.initialize(repeating: 0, count: max(M, 1))
        defer { batched.deallocate() }
        func flush(_ m: Int) {
            builder.addSelf(batchNodes + m * batch, batchValues + m * batch, count: batched[m], metric: m)
            batched[m] = 0
        }
        // The index is sized for the whole tree once an eighth of the samples is in: nodes so
        // far plus the rate of new nodes over the last sixteenth for each sample left. In a
        // file whose samples come in no particular order new paths only get rarer, so this
        // errs high, by little; a doubling still follows if the estimate falls short.
        var samplesSeen = 0, nodesAtSixteenth = 0
        let sixteenth = sampleRecords >= 1 << 16 ? sampleRecords / 16 : -1
        func add(_ locationID: UnsafeBufferPointer<UInt64>, _ value: UnsafeBufferPointer<Int64>,
                 _ label: UnsafeBufferPointer<PprofSamples.Label>) {
            var node: Int32 = 0
            samplesSeen += 1
            if samplesSeen == sixteenth {
                nodesAtSixteenth = builder.nodeCount
            } else if samplesSeen == 2 * sixteenth {
                let now = builder.nodeCount
                let rate = Double(now - nodesAtSixteenth) / Double(sixteenth)
                let estimate = Double(now) + rate * Double(sampleRecords - samplesSeen)
                builder.reserveIndex(for: Int(min(estimate, Double(nodeBound))))
            }
            if !label.isEmpty {
                labelCount += label.count
                var thread: String? = nil
                for l in label {
                    labelKeys[l.key, default: 0] += 1
                    let threadish: Bool
                    if let known = isThreadKey[l.key] { threadish = known } else {
                        threadish = threadLabelKeys.contains(strings[l.key].lowercased())
                        isThreadKey[l.key] = threadish
                    }
                    if threadish {
                        let v = l.str != 0 ? strings[l.str] : String(l.num)
                        let part = "\(strings[l.key])=\(v)"
                        thread = thread.map { $0 + " " + part } ?? part
                    }
                }
                if let thread {
                    let f: Int32
                    if let t = threadFrames[thread] { f = t } else {
                        // Merged: the thread is only counted (the metadata), and its samples
                        // go under the root, as `mergingThreads` would put them.
                        f = mergeThreads ? -1
                            : builder.frames.frame(name: "thread (\(thread))", file: nil, line: nil, kind: .thread)
                        threadFrames[thread] = f
                    }
                    if f >= 0 { node = builder.child(of: 0, frame: f) }
                }
            }
            // The sample's frames root first, then one walk down (its probes prefetched together).
            let top = node
            let L = locationID.count
            var sharedLocations = 0
            if top == prevTop {
                let m = min(L, prevLocs.count)
                while sharedLocations < m && locationID[L - 1 - sharedLocations] == prevLocs[sharedLocations] {
                    sharedLocations += 1
                }
            } else {
                prevNodes.count = 0
            }
            let kept = sharedLocations > 0 ? Int(prevEnds[sharedLocations - 1]) : 0
            var missed = sharedLocations > 0 ? prevMissing[sharedLocations - 1] : 0
            missingLocations += Int(missed)
            stack.replace(withPrefix: kept, of: prevStack)
            locs.replace(withPrefix: sharedLocations, of: prevLocs)
            ends.replace(withPrefix: sharedLocations, of: prevEnds)
            missing.replace(withPrefix: sharedLocations, of: prevMissing)
            var i = L - 1 - sharedLocations
            if let leafById, L > 0, locationID[0] < UInt64(leafById.count) {
                perftop_prefetch(leafById.baseAddress! + Int(locationID[0]))
            }
            if let spans {
                // Their misses start together.
                var j = i
                while j >= 0 {
                    if locationID[j] < UInt64(spans.count) { perftop_prefetch(spans.baseAddress! + Int(locationID[j])) }
                    j -= 1
                }
            }
            while i >= 0 {
                let id = locationID[i]
                let frames: UInt64
                if let spans { frames = id < UInt64(spans.count) ? spans[Int(id)] : 0 }
                else if let li = locationIndex[id] { frames = span(Int(li)) }
                else { frames = 0 }
                if frames >> 63 != 0 {
                    stack.append(Int32(truncatingIfNeeded: frames))
                } else if frames != 0 {
                    var k = Int(frames >> 32)
                    let e = Int(frames & 0xFFFF_FFFF)
                    while k < e { stack.append(locFrames[k]); k += 1 }
                } else {
                    missingLocations += 1
                    missed += 1
                    let n = builder.frames.intern("<unknown location \(id)>")
                    stack.append(builder.frames.frame(name: n, file: -1, line: 0, kind: .special))
                }
                locs.append(id)
                ends.append(Int32(truncatingIfNeeded: stack.count))
                missing.append(missed)
                i -= 1
            }
            if mergeLines, leafById == nil, L > 0, let li = locationIndex[locationID[0]] { leafLocation = Int(li) }
            // The shared locations' frames are equal by construction; the frames after them may
            // still match (another location with the same frames).
            var shared = kept
            if top == prevTop {
                let m = min(stack.count, prevStack.count)
                while shared < m && stack[shared] == prevStack[shared] { shared += 1 }
            }
            // `prevNodes` keeps the nodes of the shared frames; the walk writes the rest's.
            prevNodes.resize(to: stack.count)
            node = builder.descend(from: shared > 0 ? prevNodes[shared - 1] : top,
                                   through: UnsafeBufferPointer(start: stack.pointer + shared, count: stack.count - shared),
                                   nodes: prevNodes.pointer + shared)
            prevTop = top
            swap(&prevStack, &stack)
            swap(&prevLocs, &locs)
            swap(&prevEnds, &ends)
            swap(&prevMissing, &missing)
            if mergeLines, defaultMetric < value.count, value[defaultMetric] > 0 {
                if let leafById, let spans {
                    if L > 0, locationID[0] < UInt64(spans.count), spans[Int(locationID[0])] != 0 {
                        leafById[Int(locationID[0])] += Double(value[defaultMetric])
                    }
                } else if leafLocation >= 0 {
                    leafWeight[leafLocation] += Double(value[defaultMetric])
                }
            }
            leafLocation = -1
            if value.count != M { valueCountMismatch += 1 }
            for m in 0..<M {
                let w = m < value.count ? Double(value[m]) : 0
                if w != 0 {
                    let at = m * batch + batched[m]
                    batchNodes[at] = node
                    batchValues[at] = w
                    batched[m] += 1
                    if batched[m] == batch { flush(m) }
                    columnSums[m] += w
                }
            }
        }
        if let wire {
            try wire.forEach(add)
        } else {
            for s in pb.sample {
                let labels = s.label.map { PprofSamples.Label(key: $0.key, str: $0.str, num: $0.num) }
                s.locationID.withUnsafeBufferPointer { l in
                    s.value.withUnsafeBufferPointer { v in labels.withUnsafeBufferPointer { add(l, v, $0) } }
                }
            }
        }
        for m in 0..<M where batched[m] > 0 { flush(m) }

        if let leafById {
            for (li, loc) in pb.location.enumerated() where locationIndex[loc.id] == Int32(li) {
                leafWeight[li] = leafById[Int(loc.id)]
            }
        }
        for (li, w) in leafWeight.enumerated() where w > 0 {
            let loc = pb.location[li]
            guard let line = loc.line.first, line.line > 0, line.functionID != 0,
                  let fi = functionIndex[line.functionID], pb.function[Int(fi)].startLine <= 0 else { continue }
            // The location's innermost frame is the last of its CSR run (root first).
            let end = Int(locStart[li + 1])
            guard end > Int(locStart[li]) else { continue }
            let fnId = builder.frames.frameFunction[Int(locFrames[end - 1])]
            if fnId >= 0 { builder.voteLine(function: fnId, line: Int32(clamping: line.line), w) }
        }

        // What a report shows beside the tree.
        var meta: [(String, String)] = []
        meta.append(("sample records", String(sampleRecords)))
        if pb.hasPeriodType || pb.period != 0 {
            let pt = pb.periodType
            meta.append(("period", "\(pb.period) \(strings[pt.type])/\(strings[pt.unit])"))
        }
        if pb.durationNanos != 0 { meta.append(("duration", formatNanos(pb.durationNanos))) }
        if pb.timeNanos != 0 { meta.append(("time", formatTime(pb.timeNanos))) }
        meta.append(("default sample type", metrics[defaultMetric].description))
        if labelCount > 0 {
            let keys = labelKeys.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .prefix(8).map { "\(strings[$0.key]) (\($0.value))" }.joined(separator: ", ")
            meta.append(("labels", "\(labelCount); keys: \(keys)"))
        }
        if !threadFrames.isEmpty { meta.append(("threads (from labels)", String(threadFrames.count))) }
        if mergeThreads { builder.mergedThreads = threadFrames.count }
        meta.append(("locations", String(pb.location.count)))
        meta.append(("functions", String(pb.function.count)))
        meta.append(("mappings", String(pb.mapping.count)))
        meta.append(("strings", String(pb.stringTable.count)))
        if let main = pb.mapping.first, main.filename != 0 {
            let bid = main.buildID != 0 ? " (build id \(strings[main.buildID]))" : ""
            meta.append(("main binary", strings[main.filename] + bid))
        }
        if !pb.comment.isEmpty { meta.append(("comments", pb.comment.map { strings[$0] }.joined(separator: "; "))) }
        if pb.dropFrames != 0 { meta.append(("drop_frames", strings[pb.dropFrames])) }
        if pb.keepFrames != 0 { meta.append(("keep_frames", strings[pb.keepFrames])) }
        if pb.docURL != 0 { meta.append(("doc_url", strings[pb.docURL])) }

        if strings.invalidUTF8 > 0 {
            warnings.append("\(strings.invalidUTF8) string table entr\(strings.invalidUTF8 == 1 ? "y is" : "ies are") "
                            + "not valid UTF-8 (invalid bytes shown as U+FFFD)")
        }
        if missingLocations > 0 { warnings.append("\(missingLocations) sample location ids name no location") }
        if missingFunctions > 0 { warnings.append("\(missingFunctions) location lines name no function") }
        if valueCountMismatch > 0 {
            warnings.append("\(valueCountMismatch) samples do not have one value per sample type (\(M))")
        }
        if badStringIndexes > 0 {
            warnings.append("\(badStringIndexes) name indexes are outside the string table")
        }
        if pb.dropFrames != 0 || pb.keepFrames != 0 { warnings.append("drop_frames/keep_frames are not applied") }
        if sampleRecords == 0 { warnings.append("the profile has no samples") }

        // Samples: the event count where a samples/count column says it, else the records.
        if let c = metrics.firstIndex(where: { $0.unit == "count" && $0.name.hasPrefix("sample") }),
           columnSums[c] >= 0, columnSums[c] == columnSums[c].rounded(), let n = Int(exactly: columnSums[c]) {
            builder.sampleCount = n
        } else {
            builder.sampleCount = sampleRecords
        }
        builder.metadata = meta
        builder.warnings = warnings
        return builder
    }

    /// `2022-06-09T18:22:12Z` (UTC) from nanoseconds since the epoch.
    static func formatTime(_ ns: Int64) -> String {
        let ns = max(ns, Int64.min + 1_000_000_000)   // room for the rounding down below
        let secs = ns >= 0 ? ns / 1_000_000_000 : (ns - 999_999_999) / 1_000_000_000
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil, inverted).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { String(v).leftPad(2) }
        return "\(y)-\(two(m))-\(two(d))T\(two(rem / 3600)):\(two(rem % 3600 / 60)):\(two(rem % 60))Z"
    }

    /// `12.345 s`, with `(4h35m0s)` added past a minute.
    static func formatNanos(_ ns: Int64) -> String {
        let ns = min(max(ns, Int64.min + 500_000), Int64.max - 500_000)   // room for the rounding
        let ms = (ns + (ns >= 0 ? 500_000 : -500_000)) / 1_000_000
        let whole = ms / 1000, frac = abs(ms % 1000)
        var text = "\(ms < 0 && whole == 0 ? "-" : "")\(whole).\(String(frac).leftPad(3)) s"
        if abs(whole) >= 60 {
            let h = abs(whole) / 3600, m = abs(whole) % 3600 / 60, sec = abs(whole) % 60
            text += " (\(whole < 0 ? "-" : "")\(h > 0 ? "\(h)h" : "")\(m)m\(sec)s)"
        }
        return text
    }
}

/// The string table, decoded leniently: invalid UTF-8 is replaced, indexes outside it give "".
struct StringTable {
    let strings: [String]
    let invalidUTF8: Int

    init(_ raw: [Data]) {
        var invalid = 0
        strings = raw.map { d in
            d.withUnsafeBytes { b in
                let u = b.bindMemory(to: UInt8.self)
                if String(validating: u, as: UTF8.self) == nil { invalid += 1 }
                return String(decoding: u, as: UTF8.self)
            }
        }
        invalidUTF8 = invalid
    }

    subscript(_ i: Int64) -> String {
        i >= 0 && i < Int64(strings.count) ? strings[Int(i)] : ""
    }
}

/// Maps message ids (location, function, mapping) to their index: an array when the ids are
/// dense (the usual 1...n), a dictionary otherwise. The first of duplicate ids wins.
struct IdIndex {
    private var dense: [Int32] = []
    private var sparse: [UInt64: Int32] = [:]
    private var isDense = true

    init<S: Collection>(_ ids: S) where S.Element == UInt64 {
        let n = ids.count
        var maxId: UInt64 = 0
        for id in ids where id > maxId { maxId = id }
        if maxId <= UInt64(2 * n + 1024) {
            dense = [Int32](repeating: -1, count: Int(maxId) + 1)
            for (i, id) in ids.enumerated() where dense[Int(id)] < 0 { dense[Int(id)] = Int32(i) }
        } else {
            isDense = false
            sparse.reserveCapacity(n)
            for (i, id) in ids.enumerated() where sparse[id] == nil { sparse[id] = Int32(i) }
        }
    }

    /// `value(index)` for each id, in a table indexed by the id (0 where no id), when the ids
    /// are dense; nil otherwise. The caller deallocates it.
    func denseTable(_ value: (Int) -> UInt64) -> UnsafeMutableBufferPointer<UInt64>? {
        guard isDense else { return nil }
        let t = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: dense.count)
        for (id, i) in dense.enumerated() { t[id] = i < 0 ? 0 : value(Int(i)) }
        return t
    }

    @inline(__always)
    subscript(_ id: UInt64) -> Int32? {
        if isDense {
            guard id < UInt64(dense.count) else { return nil }
            let i = dense[Int(id)]
            return i < 0 ? nil : i
        }
        return sparse[id]
    }
}

/// A protobuf wire-format walker that knows the profile.proto schema. Sniffing uses it on the
/// first bytes (strict: only Profile's own fields at the top level, every known field with its
/// wire type; the data may be cut at the end), and a failed decode uses it to say at which byte
/// the structure breaks.
struct PprofWire {
    enum Msg: String { case profile = "Profile", valueType = "ValueType", sample = "Sample", label = "Label",
                       mapping = "Mapping", location = "Location", line = "Line", function = "Function" }
    enum Field { case varint, packable, bytes, message(Msg) }

    struct Failure: Error { let offset: Int; let message: String }

    static func field(_ m: Msg, _ n: UInt64) -> Field? {
        switch (m, n) {
        case (.profile, 1), (.profile, 11): .message(.valueType)
        case (.profile, 2): .message(.sample)
        case (.profile, 3): .message(.mapping)
        case (.profile, 4): .message(.location)
        case (.profile, 5): .message(.function)
        case (.profile, 6): .bytes
        case (.profile, 7...10), (.profile, 12), (.profile, 14), (.profile, 15): .varint
        case (.profile, 13): .packable
        case (.valueType, 1...2): .varint
        case (.sample, 1...2): .packable
        case (.sample, 3): .message(.label)
        case (.label, 1...4): .varint
        case (.mapping, 1...10): .varint
        case (.location, 1...3), (.location, 5): .varint
        case (.location, 4): .message(.line)
        case (.line, 1...3): .varint
        case (.function, 1...5): .varint
        default: nil
        }
    }

    static let fieldNames: [Msg: [UInt64: String]] = [
        .profile: [1: "sample_type", 2: "sample", 3: "mapping", 4: "location", 5: "function", 6: "string_table",
                   7: "drop_frames", 8: "keep_frames", 9: "time_nanos", 10: "duration_nanos", 11: "period_type",
                   12: "period", 13: "comment", 14: "default_sample_type", 15: "doc_url"],
        .sample: [1: "location_id", 2: "value", 3: "label"],
        .location: [4: "line"],
    ]

    static func describe(_ m: Msg, _ n: UInt64) -> String {
        if let name = fieldNames[m]?[n] { return "\(m.rawValue).\(name) (field \(n))" }
        return "\(m.rawValue) field \(n)"
    }

    let p: UnsafeRawBufferPointer
    /// Unknown top-level fields and known fields with the wrong wire type are failures (sniffing).
    let strict: Bool
    /// The data may be cut at `p.count` (a sniffing prefix): running out there ends the walk.
    let partial: Bool
    private(set) var topLevelFields = 0
    /// Whether string_table[0] is "" (nil: no string table entry seen).
    private(set) var firstStringEmpty: Bool? = nil
    private(set) var cut = false

    init(_ p: UnsafeRawBufferPointer, strict: Bool, partial: Bool) {
        self.p = p; self.strict = strict; self.partial = partial
    }

    mutating func walkProfile() throws { try walk(.profile, 0, p.count) }

    /// Reads a varint at `i` (< end); nil when the data is cut at the end of a partial prefix.
    private mutating func varint(_ i: inout Int, _ end: Int, what: @autoclosure () -> String) throws -> UInt64? {
        let start = i
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            if i >= end {
                if partial && end == p.count { cut = true; return nil }
                throw Failure(offset: start, message: "\(what()) is cut off by the end of its data")
            }
            let b = p[i]
            i += 1
            if shift == 63 && b > 1 {
                throw Failure(offset: start, message: "\(what()) is a varint longer than 64 bits")
            }
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    private mutating func walk(_ msg: Msg, _ start: Int, _ end: Int) throws {
        var i = start
        while i < end {
            let tagAt = i
            guard let tag = try varint(&i, end, what: "a field tag in \(msg.rawValue)") else { return }
            let num = tag >> 3, wire = tag & 7
            if msg == .profile { topLevelFields += 1 }
            if num == 0 { throw Failure(offset: tagAt, message: "field number 0 in \(msg.rawValue)") }
            if num > 536_870_911 { throw Failure(offset: tagAt, message: "field number too large in \(msg.rawValue)") }
            let spec = PprofWire.field(msg, num)
            // Unknown fields inside messages are allowed (newer profile.proto versions add some);
            // at the top level the sniffer accepts only Profile's own fields.
            if spec == nil && strict && msg == .profile {
                throw Failure(offset: tagAt, message: "unexpected \(PprofWire.describe(msg, num))")
            }
            func wrongWire() throws {
                if strict {
                    throw Failure(offset: tagAt, message: "\(PprofWire.describe(msg, num)) has wire type \(wire)")
                }
            }
            switch wire {
            case 0:
                if case .some(.bytes) = spec { try wrongWire() }
                if case .some(.message) = spec { try wrongWire() }
                guard try varint(&i, end, what: "the value of \(PprofWire.describe(msg, num))") != nil else { return }
            case 1, 5:
                if spec != nil { try wrongWire() }
                let n = wire == 1 ? 8 : 4
                if end - i < n {
                    if partial && end == p.count { cut = true; return }
                    throw Failure(offset: tagAt, message: "\(PprofWire.describe(msg, num)) is cut off by the end of its data")
                }
                i += n
            case 2:
                let lenAt = i
                guard let len = try varint(&i, end, what: "the length of \(PprofWire.describe(msg, num))") else { return }
                let left = end - i
                let fits = len <= UInt64(left)
                if !fits && !(partial && end == p.count) {
                    throw Failure(offset: lenAt, message: "\(PprofWire.describe(msg, num)) claims \(len) bytes "
                                  + "but only \(left) remain in its \(msg == .profile ? "data" : "\(msg.rawValue) message")")
                }
                let bodyEnd = fits ? i + Int(len) : end
                switch spec {
                case .message(let inner)?:
                    try walk(inner, i, bodyEnd)
                    if cut { return }
                case .packable?:
                    var k = i
                    while k < bodyEnd {
                        guard try varint(&k, bodyEnd, what: "a packed value of \(PprofWire.describe(msg, num))") != nil
                        else { return }
                    }
                case .bytes?:
                    if msg == .profile && firstStringEmpty == nil { firstStringEmpty = len == 0 }
                case .varint?:
                    try wrongWire()
                case nil:
                    break
                }
                if !fits { cut = true; return }
                i = bodyEnd
            default:
                throw Failure(offset: tagAt, message: "\(PprofWire.describe(msg, num)) has invalid wire type \(wire)")
            }
        }
    }
}
