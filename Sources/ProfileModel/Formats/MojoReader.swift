/// Austin's binary MOJO format, versions 1–4 (FORMATS.md §5.2): `MOJ` + version, then events
/// (1 byte id + payload). Strings and frames are defined once and referenced by key, per process;
/// a STACK event starts a sample, FRAME_REF events append its frames root first, and METRIC
/// events give its weight.
public enum MojoReader: ProfileReader {
    public static let name = "mojo"
    public static let title = "austin MOJO binary"
    public static let mergesLinesWhileReading = true

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        let magic: [UInt8] = [0x4D, 0x4F, 0x4A]       // "MOJ"
        for i in 0..<min(3, prefix.count) where prefix[i] != magic[i] { return .no }
        if prefix.count < 4 { return complete ? .no : .needMore }
        return .yes
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let parser = MojoParser()
        parser.mergeLines = options.mergeLines
        parser.mergeThreads = options.mergeThreads
        if let seed = options.seedFrames { parser.builder.frames = seed }
        try source.forEachChunk { try parser.feed($0) }
        return try parser.finish()
    }
}

/// Incremental MOJO parser: feed it bytes in chunks of any size (a live `austin -b` output can
/// be tailed); an event cut by the end of a chunk waits for the rest. Events are decoded whole
/// before they change any state, so a chunk boundary can fall anywhere.
///
/// Corrupt input (a bad header, an unknown event id, an overlong integer or string) throws a
/// `ProfileError` with the byte offset, from `feed` and again from `finish`; a file that ends
/// inside an event (austin was killed) keeps the samples before it and says so in a warning.
final class MojoParser {
    public let builder: ProfileBuilder
    /// MOJO version from the header; 0 until the header has arrived.
    public private(set) var version = 0
    /// Events seen, by event id (0...16).
    public private(set) var eventCounts = [Int](repeating: 0, count: 17)
    public private(set) var samples = 0
    /// Bytes consumed so far (the offset of the next event).
    public private(set) var offset = 0

    /// The longest string accepted, and the deepest stack kept (STACK_REPEAT can grow stacks).
    static let maxString = 1 << 20
    static let maxDepth = 2048

    /// Build the tree as `Profile.merging` would make it, for a one-shot read: a function's
    /// lines as one frame (the weight of each sample's leaf line votes for the function's
    /// label), and/or no process and thread frames. A live stream keeps both.
    var mergeLines = false
    var mergeThreads = false

    private var carry = CarryOver()
    private var failure: ProfileError? = nil
    private var metrics = AustinMetrics()
    private var mode: String? = nil

    // References are keyed per process: (slot of the pid, key). Slot 0 is "before any STACK".
    private var pidSlots: [Int64: Int32] = [:]
    private var slotProcessFrame: [Int32] = [-1]
    private var strings = MojoRefTable()                // → builder string id
    private var frames = MojoRefTable()                 // → raw frame
    // Raw frames, the frames of the file as samples name them: the builder frame each walks
    // (its function's frame when lines merge), its function and line (for line votes), and
    // whether it is a Python frame.
    private var rawFrame: [Int32] = []
    private var rawFunction: [Int32] = []
    private var rawLine: [Int32] = []
    private var rawIsPython: [Bool] = []
    private var rawOfFrame: [Int32: Int32] = [:]        // builder frame → raw, for frames without a key
    private var threadKeys = ByteInterner(capacity: 64)
    /// Per thread key: the thread frame, or with threads merged a number per thread name
    /// (the thread a thread frame of that name would be).
    private var threadFrames: [Int32] = []
    private var threadNumbers: [String: Int32] = [:]
    private var scratch: [UInt8] = []
    private var invalidFrame: Int32 = -1
    private var gcFrame: Int32 = -1
    private var emptyString: Int32 = -1
    private var unknownString: Int32 = -1

    // The sample being read.
    private var inSample = false
    private var curSlot: Int32 = 0
    private var curThread: Int32 = -1        // thread frame id (a number with threads merged)
    private var curFrames: [Int32] = []
    private var curTime: Int64? = nil
    private var curMemory: Int64? = nil
    private var curIdle = false
    private var curGC = false
    /// Each thread's previous frames (MOJO 4 STACK_REPEAT), keyed by slot and thread frame.
    private var lastFrames: [Int64: [Int32]] = [:]

    // Each thread's previous path and its nodes, for prefix reuse (threads interleave, and a
    // thread's consecutive samples share most of their stack).
    private var path: [Int32] = []
    private var threadCache: [Int32: Int] = [:]          // thread frame → index
    private var prevPaths: [[Int32]] = []
    private var prevNodes: [[Int32]] = []

    /// Forgets each thread's previous nodes (after the builder was compacted,
    /// `ProfileBuilder.compact`); frame ids stay valid, as MOJO's frames are kept.
    func forgetPaths() {
        for c in prevPaths.indices { prevPaths[c] = []; prevNodes[c] = [] }
    }

    // Warnings.
    private var undefinedRefs = 0
    private var firstUndefinedRef = 0
    private var orphanEvents = 0
    private var truncatedStacks = 0
    private var truncatedTail = 0
    private var mapEntries = 0

    public init(builder: ProfileBuilder? = nil) {
        self.builder = builder ?? ProfileBuilder(format: MojoReader.name, metrics: [ValueType("time", "microseconds")])
    }

    /// Thrown inside the decoder when the bytes at hand end inside an event.
    private struct NeedMore: Error {}

    public func feed(_ input: UnsafeRawBufferPointer) throws {
        if let failure { throw failure }
        guard input.count > 0 else { return }
        do {
            try carry.feed(input) { try consume($0) }
        } catch let e as ProfileError {
            failure = e
            throw e
        }
    }

    /// Ends the input: the last sample is complete, a cut last event is dropped with a warning.
    public func finish() throws -> ProfileBuilder {
        if let failure { throw failure }
        if version == 0 {
            throw ProfileError("truncated MOJO header (expected 'MOJ' and a version)", offset: 0)
        }
        if !carry.isEmpty { truncatedTail = carry.drop() }
        finalizeSample()
        if samples == 0 {
            throw ProfileError("no samples in the MOJO stream (no STACK event)", offset: offset)
        }
        builder.sampleCount = samples
        builder.warnings = warnings
        return builder
    }

    public var warnings: [String] {
        var w: [String] = []
        if truncatedTail > 0 {
            w.append("the stream ends inside an event at offset \(offset) (\(truncatedTail) byte(s) ignored)")
        }
        if undefinedRefs > 0 {
            w.append("\(undefinedRefs) reference(s) to undefined strings or frames shown as <unknown> (first at offset \(firstUndefinedRef))")
        }
        if orphanEvents > 0 { w.append("\(orphanEvents) frame or metric event(s) outside a sample ignored") }
        if truncatedStacks > 0 {
            w.append("\(truncatedStacks) stack(s) deeper than \(MojoParser.maxDepth) frames cut at the leaf end")
        }
        return w
    }

    // MARK: decoding

    private func corrupt(_ what: String, at: Int) -> ProfileError {
        ProfileError(what, offset: offset + at)
    }

    @inline(__always)
    private func varint(_ b: UnsafeRawBufferPointer, _ i: inout Int) throws -> Int64 {
        guard i < b.count else { throw NeedMore() }
        let start = i
        var c = b[i]; i += 1
        var n = Int64(c & 0x3F)
        let negative = c & 0x40 != 0
        var shift: Int64 = 6
        while c & 0x80 != 0 {
            guard i < b.count else { throw NeedMore() }
            if shift > 62 { throw corrupt("integer longer than 64 bits", at: start) }
            c = b[i]; i += 1
            n |= Int64(c & 0x7F) << shift
            shift += 7
        }
        // Wrapping: the magnitude can be 2^63, whose negation is Int64.min itself.
        return negative ? 0 &- n : n
    }

    /// A reference key (austin uses addresses, or their low bits).
    @inline(__always)
    private func key(_ b: UnsafeRawBufferPointer, _ i: inout Int) throws -> Int64 {
        try varint(b, &i)
    }

    /// A NUL-terminated string: (start, length) within `b`.
    @inline(__always)
    private func string(_ b: UnsafeRawBufferPointer, _ i: inout Int) throws -> (Int, Int) {
        guard i < b.count, let base = b.baseAddress else { throw NeedMore() }
        let avail = b.count - i
        guard let z = memchr(base + i, 0, min(avail, MojoParser.maxString + 1)) else {
            if avail > MojoParser.maxString { throw corrupt("string longer than \(MojoParser.maxString) bytes", at: i) }
            throw NeedMore()
        }
        let start = i
        let len = UnsafeRawPointer(z) - (base + i)
        i += len + 1
        return (start, len)
    }

    private func text(_ b: UnsafeRawBufferPointer, _ s: (Int, Int)) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: b[s.0..<(s.0 + s.1)]), as: UTF8.self)
    }

    /// Decodes as many whole events as `b` holds; returns the bytes used.
    private func consume(_ b: UnsafeRawBufferPointer) throws -> Int {
        var i = 0
        if version == 0 {
            let magic: [UInt8] = [0x4D, 0x4F, 0x4A]
            for k in 0..<min(3, b.count) where b[k] != magic[k] {
                throw corrupt("not a MOJO stream (expected 'MOJ')", at: 0)
            }
            guard b.count >= 4 else { return 0 }
            var j = 3
            let v: Int64
            do { v = try varint(b, &j) } catch is NeedMore { return 0 }
            guard v >= 1 && v <= 4 else { throw corrupt("unsupported MOJO version \(v) (expected 1 to 4)", at: 3) }
            version = Int(v)
            i = j
            offset += i
        }
        while i < b.count {
            let start = i
            do {
                i = try event(b, i)
            } catch is NeedMore {
                return start
            }
            offset += i - start
        }
        return i
    }

    /// Decodes one event at `i` and applies it; returns the offset after it.
    private func event(_ b: UnsafeRawBufferPointer, _ at: Int) throws -> Int {
        var i = at
        let id = Int(b[i]); i += 1
        switch id {
        case 1:                                                   // METADATA
            let k = try string(b, &i), v = try string(b, &i)
            eventCounts[id] += 1
            metadata(text(b, k), text(b, v))
        case 2:                                                   // STACK
            let pid = try varint(b, &i)
            let iid = version >= 3 ? try varint(b, &i) : nil
            let tid = try string(b, &i)
            eventCounts[id] += 1
            startSample(pid: pid, iid: iid, tid: UnsafeRawBufferPointer(rebasing: b[tid.0..<(tid.0 + tid.1)]))
        case 3:                                                   // FRAME
            let k = try key(b, &i)
            let fileKey = try key(b, &i), scopeKey = try key(b, &i)
            let line = try varint(b, &i)
            if version >= 2 { _ = try varint(b, &i); _ = try varint(b, &i); _ = try varint(b, &i) }
            eventCounts[id] += 1
            defineFrame(k, file: fileKey, scope: scopeKey, line: line, at: at)
        case 4:                                                   // FRAME_INVALID
            eventCounts[id] += 1
            if invalidFrame < 0 { invalidFrame = raw(builder.frames.intern("INVALID"), kind: .special) }
            append(invalidFrame)
        case 5:                                                   // FRAME_REF
            let k = try key(b, &i)
            eventCounts[id] += 1
            append(frameRef(k, at: at))
        case 6:                                                   // FRAME_KERNEL
            let s = try string(b, &i)
            eventCounts[id] += 1
            append(raw(builder.frames.intern(text(b, s)), kind: .native))
        case 7:                                                   // GC
            eventCounts[id] += 1
            if inSample { curGC = true } else { orphanEvents += 1 }
        case 8:                                                   // IDLE
            eventCounts[id] += 1
            if inSample { curIdle = true } else { orphanEvents += 1 }
        case 9, 10:                                               // METRIC_TIME, METRIC_MEMORY
            let v = try varint(b, &i)
            eventCounts[id] += 1
            if !inSample { orphanEvents += 1 } else if id == 9 { curTime = v } else { curMemory = v }
        case 11:                                                  // STRING
            let k = try key(b, &i)
            let s = try string(b, &i)
            eventCounts[id] += 1
            let sid = s.1 == 0 ? builder.frames.intern("") : builder.frames.intern(b.baseAddress! + s.0, s.1)
            strings.set(curSlot, k, sid)
        case 12:                                                  // STRING_REF
            _ = try varint(b, &i)
            eventCounts[id] += 1
        case 13:                                                  // STACK_REPEAT (v4)
            eventCounts[id] += 1
            repeatStack()
        case 14:                                                  // TASK_STACK (v4)
            _ = try varint(b, &i); _ = try varint(b, &i); _ = try varint(b, &i)
            eventCounts[id] += 1
        case 15:                                                  // TASK_WAITER (v4)
            _ = try varint(b, &i); _ = try varint(b, &i)
            eventCounts[id] += 1
        case 16:                                                  // TASK_RUNNING (v4)
            _ = try varint(b, &i)
            eventCounts[id] += 1
        default:
            throw corrupt("unknown MOJO event id \(id)", at: at)
        }
        return i
    }

    // MARK: applying events

    private func metadata(_ key: String, _ value: String) {
        // austinp writes one `map` entry per memory mapping: not worth a metadata row each.
        if key == "map" { mapEntries += 1; return }
        builder.metadata.append((key, value))
        if key == "mode" { mode = value }
    }

    private func slot(for pid: Int64) -> Int32 {
        if let s = pidSlots[pid] { return s }
        let s = Int32(slotProcessFrame.count)
        pidSlots[pid] = s
        slotProcessFrame.append(mergeThreads ? -1 : builder.frames.frame(name: "process \(pid)", file: nil, line: nil, kind: .process))
        return s
    }

    private func startSample(pid: Int64, iid: Int64?, tid: UnsafeRawBufferPointer) {
        finalizeSample()
        inSample = true
        curSlot = slot(for: pid)
        // Thread frames are cached by (slot, iid, tid bytes).
        scratch.removeAll(keepingCapacity: true)
        withUnsafeBytes(of: curSlot) { scratch.append(contentsOf: $0) }
        withUnsafeBytes(of: iid ?? -1) { scratch.append(contentsOf: $0) }
        scratch.append(contentsOf: tid)
        var isNew = false
        let tk = scratch.withUnsafeBytes { threadKeys.intern($0.baseAddress!, $0.count, isNew: &isNew) }
        if isNew {
            // austin writes the thread id in hex; show it in decimal as the text format does.
            let raw = String(decoding: tid, as: UTF8.self)
            let id = UInt64(raw, radix: 16).map { String($0) } ?? raw
            let name = iid.map { "thread \($0):\(id)" } ?? "thread \(id)"
            if mergeThreads {
                let n = threadNumbers[name] ?? Int32(threadNumbers.count)
                threadNumbers[name] = n
                threadFrames.append(n)
                builder.mergedThreads = threadNumbers.count
            } else {
                threadFrames.append(builder.frames.frame(name: name, file: nil, line: nil, kind: .thread))
            }
        }
        curThread = threadFrames[Int(tk)]
        curFrames.removeAll(keepingCapacity: true)
        curTime = nil
        curMemory = nil
        curIdle = false
        curGC = false
    }

    private func lookupString(_ k: Int64, at: Int) -> Int32 {
        var s = strings.get(curSlot, k)
        if s < 0 && curSlot != 0 { s = strings.get(0, k) }
        if s >= 0 { return s }
        if k == 0 {
            if emptyString < 0 { emptyString = builder.frames.intern("") }
            return emptyString
        }
        if k != 1 { noteUndefined(at) }
        if unknownString < 0 { unknownString = builder.frames.intern("<unknown>") }
        return unknownString
    }

    private func noteUndefined(_ at: Int) {
        if undefinedRefs == 0 { firstUndefinedRef = offset + at }
        undefinedRefs += 1
    }

    private func defineFrame(_ k: Int64, file fileKey: Int64, scope scopeKey: Int64, line: Int64, at: Int) {
        let file = lookupString(fileKey, at: at)
        let scope = lookupString(scopeKey, at: at)
        // Python frames have a `.py` file or a `<frozen …>`-style pseudo file; the rest are native
        // frames (austinp) — MOJO 4's STACK_REPEAT drops those at the leaf end.
        let python = builder.frames.strings.withBytes(file) { f -> Bool in
            if f.isEmpty { return true }
            if f[0] == 0x3C { return true }                                    // '<'
            return f.count >= 3 && f[f.count - 3] == 0x2E && f[f.count - 2] == 0x70 && f[f.count - 1] == 0x79
        }
        let empty = builder.frames.strings.withBytes(file) { $0.isEmpty }
        let line = Int32(clamping: max(0, line))
        let kind: FrameKind = python ? .function : .native
        let f: Int32, fn: Int32
        if mergeLines {
            (f, fn) = builder.frames.mergedLineFrame(name: scope, file: empty ? -1 : file, line: line, kind: kind)
        } else {
            f = builder.frames.frame(name: scope, file: empty ? -1 : file, line: line, kind: kind)
            fn = -1
        }
        frames.set(curSlot, k, newRaw(f, function: fn, line: line, python: python))
    }

    private func newRaw(_ f: Int32, function: Int32, line: Int32, python: Bool) -> Int32 {
        rawFrame.append(f)
        rawFunction.append(function)
        rawLine.append(line)
        rawIsPython.append(python)
        return Int32(rawFrame.count - 1)
    }

    /// The raw frame of a frame without a key or a line (kernel, invalid, unknown), one per
    /// builder frame.
    private func raw(_ name: Int32, kind: FrameKind) -> Int32 {
        let f = mergeLines ? builder.frames.mergedLineFrame(name: name, file: -1, line: 0, kind: kind).frame
            : builder.frames.frame(name: name, file: -1, line: 0, kind: kind)
        if let r = rawOfFrame[f] { return r }
        let r = newRaw(f, function: -1, line: 0, python: false)
        rawOfFrame[f] = r
        return r
    }

    private func frameRef(_ k: Int64, at: Int) -> Int32 {
        var f = frames.get(curSlot, k)
        if f < 0 && curSlot != 0 { f = frames.get(0, k) }
        if f >= 0 { return f }
        noteUndefined(at)
        return raw(builder.frames.intern("<unknown>"), kind: .special)
    }

    @inline(__always)
    private func append(_ f: Int32) {
        guard inSample else { orphanEvents += 1; return }
        if curFrames.count >= MojoParser.maxDepth { return }
        curFrames.append(f)
    }

    private var threadKey: Int64 { Int64(curSlot) << 32 | Int64(UInt32(bitPattern: curThread)) }

    private func repeatStack() {
        guard inSample else { orphanEvents += 1; return }
        guard var prev = lastFrames[threadKey] else { return }
        while let last = prev.last, !rawIsPython[Int(last)] { prev.removeLast() }
        if prev.count + curFrames.count > MojoParser.maxDepth {
            prev.removeLast(min(prev.count, prev.count + curFrames.count - MojoParser.maxDepth))
        }
        curFrames.insert(contentsOf: prev, at: 0)
    }

    private func finalizeSample() {
        guard inSample else { return }
        inSample = false
        if !metrics.configured { metrics.configure(mode: mode, full: false, builder: builder) }
        if curFrames.count >= MojoParser.maxDepth { truncatedStacks += 1 }
        if version >= 4 { lastFrames[threadKey] = curFrames }
        path.removeAll(keepingCapacity: true)
        if !mergeThreads {
            path.append(slotProcessFrame[Int(curSlot)])
            path.append(curThread)
        }
        for r in curFrames { path.append(rawFrame[Int(r)]) }
        if curGC {
            if gcFrame < 0 { gcFrame = builder.frames.frame(name: "GC", file: nil, line: nil, kind: .special) }
            path.append(gcFrame)
        }
        // Reuse this thread's previous nodes for the shared prefix.
        let c: Int
        if let known = threadCache[curThread] { c = known } else {
            c = prevPaths.count
            threadCache[curThread] = c
            prevPaths.append([])
            prevNodes.append([])
        }
        var k = 0
        let node: Int32 = prevPaths[c].withUnsafeBufferPointer { prev in
            let m = min(path.count, prev.count)
            while k < m && path[k] == prev[k] { k += 1 }
            return k > 0 ? prevNodes[c][k - 1] : 0
        }
        let n = builder.descend(from: node, path: path, after: k, nodes: &prevNodes[c])
        swap(&path, &prevPaths[c])
        let leaf = n
        samples += 1
        metrics.add(leaf, time: curTime, memory: curMemory, idle: curIdle, builder: builder)
        // The leaf line's weight in the default metric (0: time, or allocated memory).
        if mergeLines, !curGC, let r = curFrames.last, rawFunction[Int(r)] >= 0 {
            let w = metrics.time == 0 ? curTime : metrics.memory == 0 ? curMemory : nil
            if let w, w > 0 { builder.voteLine(function: rawFunction[Int(r)], line: rawLine[Int(r)], Double(w)) }
        }
    }
}

/// (process slot, key) → id, open addressing. Keys are pointers (or their low bits) that austin
/// uses as references; a key can be defined again (an address can be reused), which replaces it.
struct MojoRefTable {
    private var keys: [UInt64] = [UInt64](repeating: 0, count: 1024)
    private var slots: [Int32] = [Int32](repeating: -1, count: 1024)   // -1 = empty
    private var values: [Int32] = [Int32](repeating: 0, count: 1024)
    private var mask = 1023
    private var count = 0

    @inline(__always)
    private static func hash(_ k: UInt64, _ slot: Int32) -> Int {
        var h = k ^ (UInt64(UInt32(bitPattern: slot)) &* 0x9E37_79B9_7F4A_7C15)
        h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        h = (h ^ (h >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return Int(truncatingIfNeeded: h ^ (h >> 33))
    }

    @inline(__always)
    func get(_ slot: Int32, _ key: Int64) -> Int32 {
        let k = UInt64(bitPattern: key)
        var i = MojoRefTable.hash(k, slot) & mask
        while true {
            let s = slots[i]
            if s < 0 { return -1 }
            if s == slot && keys[i] == k { return values[i] }
            i = (i + 1) & mask
        }
    }

    @inline(__always)
    mutating func set(_ slot: Int32, _ key: Int64, _ value: Int32) {
        let k = UInt64(bitPattern: key)
        var i = MojoRefTable.hash(k, slot) & mask
        while true {
            let s = slots[i]
            if s < 0 { break }
            if s == slot && keys[i] == k { values[i] = value; return }
            i = (i + 1) & mask
        }
        keys[i] = k; slots[i] = slot; values[i] = value
        count += 1
        if count * 2 > slots.count { grow() }
    }

    private mutating func grow() {
        let cap = slots.count * 2
        var nk = [UInt64](repeating: 0, count: cap)
        var ns = [Int32](repeating: -1, count: cap)
        var nv = [Int32](repeating: 0, count: cap)
        let m = cap - 1
        for j in 0..<slots.count where slots[j] >= 0 {
            var i = MojoRefTable.hash(keys[j], slots[j]) & m
            while ns[i] >= 0 { i = (i + 1) & m }
            nk[i] = keys[j]; ns[i] = slots[j]; nv[i] = values[j]
        }
        keys = nk; slots = ns; values = nv; mask = m
    }
}
