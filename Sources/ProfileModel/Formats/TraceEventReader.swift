import Synchronization

/// Chrome Trace Event JSON (FORMATS.md §4.2): a JSON array of events (possibly cut, with no
/// closing `]`) or `{"traceEvents": [...]}`. B/E/X events become a call tree per thread, under
/// `process PID (name)` / `thread TID (name)` roots named from `M` metadata events, weighted by
/// duration in µs. Events may be unsorted and unbalanced. `stackFrames` + `samples` and embedded
/// CPU profiles (`Profile`/`ProfileChunk`, `CpuProfile`) are read too; when a trace embeds a CPU
/// profile, that profile is shown (as speedscope does) instead of the B/E/X events.
public enum TraceEventReader: ProfileReader {
    public static let name = "trace-event"
    public static let title = "Chrome Trace Event JSON (py-spy chrometrace, viztracer)"
    /// B/E/X events are merged by line while reading (`TraceParser.mergeLines`); a trace
    /// shown from an embedded CPU profile is not, and the caller's `merging(lines:)` does it.
    public static let mergesLinesWhileReading = true

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        let info = JSONPrefix(prefix)
        switch info.container {
        case .object:
            if info.has("traceEvents") { return .yes }
            return info.complete || complete ? .no : .needMore
        case .array:
            let (keys, whole) = JSONPrefix.firstElementKeys(prefix)
            if keys.contains("ph") { return .yes }
            return whole || complete ? .no : .needMore
        case .none:
            return .no
        }
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        try parsed(source, options: options).build()
    }

    /// `source` read into a parser, not yet built. `splitFrom` is the event array size from
    /// which its second half is read on the other core (lowered by tests, to split small files).
    static func parsed(_ source: ByteSource, options: ReadOptions, splitFrom: Int = TraceParser.splitFrom) throws -> TraceParser {
        let parser = TraceParser()
        parser.mergeLines = options.mergeLines
        parser.mergeThreads = options.mergeThreads
        parser.splitFrom = splitFrom
        if let seed = options.seedFrames { parser.builder.frames = seed }
        let input = try JSONInput(source)
        parser.input = input
        parser.reserveEvents(inputBytes: input.count)
        try input.scan { try parser.parse($0) }
        parser.input = nil
        return parser
    }
}

final class TraceParser {
    /// One B/E/X event, 32 bytes: the phase is not stored but told by the other fields (E: no
    /// frame; B: a negative `dur`, which an X never has), and the file order is the event's
    /// index in `events`. Every byte here is one the kernel zeroes per event.
    struct Event {
        var ts: Double
        var dur: Double       // X: its length (finite, >= 0); B: -1; E: 0
        var thread: Int32
        var frame: Int32      // B/X; -1 for E
        var name: Int32       // raw name id, -1 if none (E matching)
        var args: Int32       // raw `args` text id, -1 if none (zero-length B/E detection)

        init(ph: UInt8, thread: Int32, frame: Int32, name: Int32, args: Int32, ts: Double, dur: Double) {
            self.ts = ts
            self.dur = ph == 0x58 ? dur : ph == 0x42 ? -1 : 0
            self.thread = thread
            self.frame = ph == 0x45 ? -1 : frame
            self.name = name
            self.args = args
        }

        var ph: UInt8 { frame < 0 ? 0x45 : dur < 0 ? 0x42 : 0x58 }
        var isB: Bool { frame >= 0 && dur < 0 }
        var isE: Bool { frame < 0 }
        var isX: Bool { frame >= 0 && !(dur < 0) }
    }

    private var s = JSONScanner(UnsafeRawBufferPointer(start: nil, count: 0))
    /// The document being parsed, told which of its bytes are no longer needed (events are
    /// read into `events` in one pass and built from there).
    var input: JSONInput?
    let builder = ProfileBuilder(format: TraceEventReader.name, metrics: [ValueType("time", "microseconds")])
    /// Reserved up front from the input's size when it is known (`reserveEvents`): growing by
    /// doubling copied the array and faulted in each new copy, most of the reading time.
    private(set) var events: [Event] = []
    private var ids = ByteInterner(capacity: 64)        // pid / tid text
    private var rawNames = ByteInterner(capacity: 1024)
    private var threadIndex: [UInt64: Int32] = [:]
    private var threadPid: [Int32] = []
    private var threadTid: [Int32] = []
    private var processNames: [Int32: String] = [:]
    private var threadNames: [Int32: String] = [:]
    private var frameCache: [FrameKey: Int32] = [:]
    /// One frame per function instead of per executing line, for B/E/X events: the tree
    /// `Profile.mergingLines()` would make from the line-level one, without building that one.
    /// Each executing line's self time votes for the line that labels its function.
    var mergeLines = false
    /// B/E/X events and samples of every thread straight under the root, without process and
    /// thread frames: the tree `Profile.mergingThreads()` would make from the one with them.
    var mergeThreads = false
    private var droppedThreads = Set<Int32>()
    /// Events name *raw frames* (each distinct name, or name with `args` file and line): the
    /// builder frame each stands for (its function's one frame when merging lines), and the
    /// function, line and self time it votes with.
    private var rawFrame: [Int32] = []
    private var rawFunction: [Int32] = []
    private var rawLine: [Int32] = []
    private var rawSelf: [Double] = []
    /// The frame of each raw name for events without `args.filename` (nearly all): an array
    /// lookup an event instead of hashing a key with a string in it.
    private var nameFrame: [Int32] = []
    /// Events per `ph` byte: an array slot an event, not a dictionary update.
    private var phaseCounts = [Int](repeating: 0, count: 256)
    private var phases: [UInt8: Int] {
        var d: [UInt8: Int] = [:]
        for (p, n) in phaseCounts.enumerated() where n > 0 { d[UInt8(p)] = n }
        return d
    }
    /// The last (pid, tid) looked up and its thread: events come in runs of one thread.
    private var lastThreadKey: UInt64 = .max
    private var lastThread: Int32 = -1
    private var eventCount = 0
    private var skippedNoTime = 0
    private var warnings: [String] = []
    // Sampled stacks (object form).
    private var stackFrames: [String: (name: String, parent: String?)] = [:]
    private var samples: [(thread: Int32, ts: Double, sf: String)] = []
    // Embedded CPU profiles, by (pid, id).
    private var cpuProfiles: [(key: String, thread: Int32, data: CPUProfileData)] = []

    private struct FrameKey: Hashable { var name: Int32; var file: String?; var line: Int }

    /// Event arrays from this size on have their second half read on the other core.
    static let splitFrom = 8 << 20
    var splitFrom = TraceParser.splitFrom
    /// Whether the second half was read on the other core and taken (true) or thrown away
    /// (false: the split was not where the first half's elements ended, or the second half did
    /// not end cleanly); nil when not tried.
    private(set) var splitTaken: Bool? = nil
    /// A parser reading a second half makes no frames (they must be made in file order, in
    /// the first half's builder): it keeps each raw frame's key for `absorb` instead.
    private var deferFrames = false
    private var rawKeyName: [Int32] = []
    private var rawKeyFile: [String?] = []
    private var rawKeyLine: [Int] = []

    // MARK: parsing

    func parse(_ buffer: UnsafeRawBufferPointer) throws {
        s = JSONScanner(buffer)
        s.lenientEOF = true
        switch s.peekKind() {
        case .array:
            try parseEventArray()
        case .object:
            try s.beginObject()
            while let k = try s.nextKey() {
                if k.equals("traceEvents") {
                    try parseEventArray()
                } else if k.equals("stackFrames") {
                    try parseStackFrames()
                } else if k.equals("samples") {
                    try parseSamples()
                } else if k.equals("displayTimeUnit") {
                    if s.peekKind() == .string { builder.metadata.append(("displayTimeUnit", try s.readStringValue())) }
                    else { try s.skipValue() }
                } else {
                    try s.skipValue()
                }
            }
        default:
            throw s.failure("a trace-event JSON array or object")
        }
        if s.truncated { warnings.append("the input ends without closing the event list (a cut trace): read what is there") }
        else {
            s.skipWhitespace()
            if !s.atEnd { throw s.failure("end of input after the trace") }
        }
    }

    private func parseEventArray() throws {
        try s.beginArray()
        let half = startSecondHalf()
        defer { half?.stop() }
        var watching = half != nil
        while true {
            let before = s.pos
            if watching, let half, before >= half.split {
                // The split is an element boundary of this array only if an element ends there.
                watching = false
                if before == half.split, let end = half.finish() {
                    absorb(half.parser)
                    s.skipArrayRest(to: end)
                    splitTaken = true
                    return
                }
                half.stop()
                splitTaken = false
            }
            do {
                guard try s.nextElement() else { break }
                input?.release(below: before)
                try parseEvent()
            } catch let e as ProfileError where s.hitEOF && eventCount > 0 {
                // Cut inside an event: keep the events before it.
                warnings.append("the input ends inside an event at offset \(e.offset ?? before): read the events before it")
                s.pos = s.count
                markTruncated()
                return
            }
        }
    }

    /// Starts reading the rest of the event array from about its middle on the other core, for
    /// a big array: from the first `},{"ph":` past the middle, which is most likely the end of
    /// one event and the start of the next. Nothing proves that here; `parseEventArray` takes
    /// the result only if an element it reads ends exactly there.
    private func startSecondHalf() -> SecondHalf? {
        let start = s.pos, end = s.count
        // Each B/E/X event takes 17 bytes or more: the two halves cannot reach `Int32.max`
        // events, whose check depends on the count so far.
        guard end - start >= max(splitFrom, 64), end / 16 < Int(Int32.max),
              sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 else { return nil }
        let pattern: UInt64 = 0x3A22_6870_227B_2C7D     // `},{"ph":` read as a little-endian word
        let base = s.base
        var i = start + (end - start) / 2
        let limit = min(end - 8, i + (1 << 20))
        while i < limit && base.loadUnaligned(fromByteOffset: i, as: UInt64.self) != pattern { i += 1 }
        guard i < limit else { return nil }
        return SecondHalf(UnsafeRawBufferPointer(start: base, count: end), split: i + 1, depth: s.depth, input: input)
    }

    /// The second half of an event array, read on the other core into a parser of its own.
    private final class SecondHalf: @unchecked Sendable {
        let parser = TraceParser()
        let split: Int
        private let stopped = Atomic<Bool>(false)
        private var end: Int? = nil
        private var task: SideTask? = nil
        private var joined = false

        init(_ buffer: UnsafeRawBufferPointer, split: Int, depth: Int, input: JSONInput?) {
            self.split = split
            parser.deferFrames = true
            task = SideTask { [self] in
                end = parser.parseRest(buffer, from: split, depth: depth, input: input) { self.stopped.load(ordering: .relaxed) }
            }
        }

        var isStopped: Bool { stopped.load(ordering: .relaxed) }

        /// Waits for the read: where the array ends (just past its `]`), or nil when the read
        /// failed or was stopped.
        func finish() -> Int? {
            if !joined { task?.wait(); joined = true }
            return end
        }

        /// Stops the read and waits for it (it reads the input, which must outlive it).
        func stop() {
            stopped.store(true, ordering: .relaxed)
            _ = finish()
        }
    }

    /// For a `SecondHalf`: the rest of an event array from `split`, just past an element at
    /// nesting `depth`. Where the array ends (just past its `]`), or nil if it does not end
    /// cleanly: an error, a cut input, a warning or an embedded CPU profile, all left to the
    /// one-core read, whose handling of them depends on what came before.
    private func parseRest(_ buffer: UnsafeRawBufferPointer, from split: Int, depth: Int, input: JSONInput?,
                           stopped: () -> Bool) -> Int? {
        s = JSONScanner(buffer)
        s.lenientEOF = true
        s.resumeArray(at: split, depth: depth)
        reserveEvents(inputBytes: buffer.count - split)
        var released = split
        do {
            while try s.nextElement() {
                if stopped() { return nil }
                if s.pos - released >= JSONInput.releaseStep { released = input?.release(from: released, below: s.pos) ?? s.pos }
                try parseEvent()
            }
        } catch {
            return nil
        }
        guard !s.truncated, warnings.isEmpty, cpuProfiles.isEmpty else { return nil }
        return s.pos
    }

    /// Takes in the events `later` read from the rest of the array, as if read here: its
    /// names, pids and tids, threads and raw frames are looked up here in the order it first
    /// saw each, the order this parser would have met the new ones in, so every id (and every
    /// frame made) comes out as reading on would have.
    private func absorb(_ later: TraceParser) {
        func remap(_ table: ByteInterner, into own: inout ByteInterner) -> [Int32] {
            (0..<table.count).map { i in
                table.withBytes(Int32(i)) { t in t.isEmpty ? own.intern("") : own.intern(t.baseAddress!, t.count) }
            }
        }
        let nameMap = remap(later.rawNames, into: &rawNames)
        let idMap = remap(later.ids, into: &ids)
        func id(_ i: Int32) -> Int32 { i >= 0 ? idMap[Int(i)] : i }
        let threadMap = later.threadPid.indices.map { thread(id(later.threadPid[$0]), id(later.threadTid[$0])) }
        let frameMap = later.rawKeyName.indices.map { r in
            let name = later.rawKeyName[r]
            return frameFor(name: name >= 0 ? nameMap[Int(name)] : name, file: later.rawKeyFile[r], line: later.rawKeyLine[r])
        }
        for (pid, name) in later.processNames { processNames[id(pid)] = name }
        for (t, name) in later.threadNames { threadNames[threadMap[Int(t)]] = name }
        for p in phaseCounts.indices { phaseCounts[p] += later.phaseCounts[p] }
        eventCount += later.eventCount
        skippedNoTime += later.skippedNoTime
        later.events.withUnsafeMutableBufferPointer { ev in
            for i in ev.indices {
                ev[i].thread = threadMap[Int(ev[i].thread)]
                if ev[i].frame >= 0 { ev[i].frame = frameMap[Int(ev[i].frame)] }
                if ev[i].name >= 0 { ev[i].name = nameMap[Int(ev[i].name)] }
                if ev[i].args >= 0 { ev[i].args = nameMap[Int(ev[i].args)] }
            }
        }
        events.append(contentsOf: later.events)
        later.events = []
    }

    /// Room for as many events as the input could hold (the shortest B/E/X event written is
    /// some 36 bytes): address space only, of which the kernel backs what the events fill.
    func reserveEvents(inputBytes: Int) {
        events.reserveCapacity(min(inputBytes / 36, Int(Int32.max)))
    }

    private func markTruncated() {
        // The scanner's lenient mode reports `truncated` only for cuts at element boundaries.
        truncatedInsideEvent = true
    }
    private var truncatedInsideEvent = false

    @inline(__always)
    private func readID() throws -> Int32 {
        switch s.peekKind() {
        case .string:
            let v = try s.readString()
            return v.count == 0 ? ids.intern("") : ids.intern(v.base, v.count)
        case .number:
            s.skipWhitespace()
            let start = s.pos
            _ = try s.readNumber()
            return ids.intern(s.base + start, s.pos - start)
        default:
            try s.skipValue()
            return -1
        }
    }

    private func thread(_ pid: Int32, _ tid: Int32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: pid)) << 32 | UInt64(UInt32(bitPattern: tid))
        // lastThread < 0 until the first lookup: an event with neither pid nor tid has the
        // sentinel's key.
        if key == lastThreadKey && lastThread >= 0 { return lastThread }
        let t: Int32
        if let known = threadIndex[key] {
            t = known
        } else {
            t = Int32(threadPid.count)
            threadIndex[key] = t
            threadPid.append(pid)
            threadTid.append(tid)
        }
        lastThreadKey = key
        lastThread = t
        return t
    }

    private func parseEvent() throws {
        s.skipWhitespace()
        let at = s.pos
        guard s.peekKind() == .object else { try s.skipValue(); return }
        var ph: UInt8 = 0
        var name: Int32 = -1
        var pid: Int32 = -1, tid: Int32 = -1
        var ts = Double.nan, dur = Double.nan
        var file: String? = nil
        var line = 0
        var argName: String? = nil
        var args: Int32 = -1
        var profileID: String? = nil
        var cpu: CPUProfileData? = nil
        if !compactEvent(&ph, &name, &pid, &tid, &ts, &dur) {
        try s.beginObject()
        while let k = try s.nextKey() {
            if k.equals("ph") {
                if s.peekKind() == .string {
                    let v = try s.readString()
                    ph = v.count == 1 ? v.base.load(as: UInt8.self) : 0x3F
                } else { try s.skipValue() }
            } else if k.equals("name") {
                if s.peekKind() == .string {
                    let v = try s.readString()
                    name = v.count == 0 ? rawNames.intern("") : rawNames.intern(v.base, v.count)
                } else { try s.skipValue() }
            } else if k.equals("pid") {
                pid = try readID()
            } else if k.equals("tid") {
                tid = try readID()
            } else if k.equals("ts") {
                ts = try s.readLooseNumber() ?? .nan
            } else if k.equals("dur") {
                dur = try s.readLooseNumber() ?? .nan
            } else if k.equals("id") {
                if s.peekKind() == .string || s.peekKind() == .number {
                    s.skipWhitespace()
                    let start = s.pos
                    try s.skipValue()
                    profileID = String(decoding: UnsafeRawBufferPointer(start: s.base + start, count: s.pos - start), as: UTF8.self)
                } else { try s.skipValue() }
            } else if k.equals("args") {
                s.skipWhitespace()
                let argsStart = s.pos
                defer { if s.pos > argsStart { args = rawNames.intern(s.base + argsStart, s.pos - argsStart) } }
                guard s.peekKind() == .object else { try s.skipValue(); continue }
                try s.beginObject()
                while let ak = try s.nextKey() {
                    if ak.equals("filename") && s.peekKind() == .string {
                        file = try s.readStringValue()
                    } else if ak.equals("line") && s.peekKind() == .number {
                        let v = try s.readNumber()
                        if v.isFinite && v >= 1 && v < 2e9 { line = Int(v) }
                    } else if ak.equals("name") && s.peekKind() == .string {
                        argName = try s.readStringValue()
                    } else if ak.equals("data") && s.peekKind() == .object {
                        cpu = try parseProfileData()
                    } else {
                        try s.skipValue()
                    }
                }
            } else {
                try s.skipValue()
            }
        }
        }
        eventCount += 1
        phaseCounts[Int(ph)] += 1
        let th = { self.thread(pid, tid) }
        switch ph {
        case 0x4D:  // M
            guard name >= 0, let argName else { return }
            let n = rawNames.string(name)
            if n == "process_name" { processNames[pid] = argName }
            else if n == "thread_name" { threadNames[th()] = argName }
        case 0x42, 0x45, 0x58:  // B E X
            // Times beyond ~3000 years of µs are corrupt: skip rather than overflow totals.
            guard ts.isFinite, abs(ts) < 1e17 else { skippedNoTime += 1; return }
            if !(dur < 1e17) { dur = 0 }
            var frame: Int32 = -1
            if ph != 0x45 { frame = frameFor(name: name, file: file, line: line) }
            if ph == 0x58 && !(dur.isFinite && dur >= 0) { dur = 0 }
            guard events.count < Int(Int32.max) else { throw ProfileError("too many events", offset: at) }
            events.append(Event(ph: ph, thread: th(), frame: frame, name: name, args: args, ts: ts, dur: dur))
        default:
            guard let cpu, name >= 0 else { return }
            let n = rawNames.string(name)
            guard n == "Profile" || n == "ProfileChunk" || n == "CpuProfile" else { return }
            let key = "\(pid):\(profileID ?? "")"
            if let i = cpuProfiles.firstIndex(where: { $0.key == key }) {
                let d = cpuProfiles[i].data
                d.append(cpu)
            } else {
                cpuProfiles.append((key, th(), cpu))
            }
        }
    }

    /// An event written compactly, as py-spy and viztracer do: `{"ph":"X","name":"…","pid":N,
    /// "tid":N,"ts":N}` with `,"dur":N` before the `}` or not, the name plain ASCII with no
    /// escape. Read by bytes, without a key-by-key scan; anything else leaves the position where
    /// it was and returns false, for the general path (and its errors).
    private func compactEvent(_ ph: inout UInt8, _ name: inout Int32, _ pid: inout Int32, _ tid: inout Int32,
                              _ ts: inout Double, _ dur: inout Double) -> Bool {
        let start = s.pos, base = s.base, end = s.count
        guard s.depth < s.maxDepth, start + 40 <= end else { return false }
        @inline(__always) func matches(_ i: Int, _ text: StaticString) -> Bool { s.matches(i, text) }
        @inline(__always) func byte(_ i: Int) -> UInt8 { base.load(fromByteOffset: i, as: UInt8.self) }
        guard matches(start, "{\"ph\":\"") else { return false }
        let p = byte(start + 7)
        guard p != 0x22, p != 0x5C, p < 0x80, matches(start + 8, "\",\"name\":\"") else { return false }
        let nameStart = start + 18
        guard let nameEnd = s.plainStringEnd(from: nameStart) else { return false }
        guard matches(nameEnd, "\",\"pid\":") else { return false }
        // A number that runs to the end of the input is left to the general path, whose error
        // there says the input was cut. An integer of up to 15 digits (nearly every pid, tid, ts
        // and dur) is converted here, exactly as `readNumber` would; anything else goes to it.
        @inline(__always) func number(at i: Int) -> (Double, Int)? {
            guard i < end, byte(i) == 0x2D || byte(i) &- 0x30 < 10 else { return nil }
            let neg = byte(i) == 0x2D
            var j = i + 1
            var whole = !neg, mant = neg ? 0 : Int(byte(i) &- 0x30)
            while j < end {
                let c = byte(j)
                if c &- 0x30 < 10 {
                    mant = mant &* 10 &+ Int(c &- 0x30)
                    whole = true
                } else if c == 0x2E || c == 0x65 || c == 0x45 || c == 0x2B || c == 0x2D {
                    whole = false
                    j += 1
                    while j < end {
                        let c = byte(j)
                        guard c &- 0x30 < 10 || c == 0x2E || c == 0x65 || c == 0x45 || c == 0x2B || c == 0x2D else { break }
                        j += 1
                    }
                    break
                } else {
                    break
                }
                j += 1
            }
            guard j < end else { return nil }
            if whole && j - i - (neg ? 1 : 0) <= 15 {
                let v = Double(mant)
                return (neg ? -v : v, j)
            }
            s.pos = i
            guard let v = try? s.readNumber() else { return nil }
            return (v, s.pos)
        }
        guard let (_, pidEnd) = number(at: nameEnd + 8), matches(pidEnd, ",\"tid\":"),
              let (_, tidEnd) = number(at: pidEnd + 7), matches(tidEnd, ",\"ts\":"),
              let (t, tsEnd) = number(at: tidEnd + 6) else { s.pos = start; return false }
        var d = Double.nan, close = tsEnd
        if matches(tsEnd, ",\"dur\":") {
            guard let (v, durEnd) = number(at: tsEnd + 7) else { s.pos = start; return false }
            d = v
            close = durEnd
        }
        guard close < end, byte(close) == 0x7D else { s.pos = start; return false }
        s.pos = close + 1
        ph = p
        name = nameEnd == nameStart ? rawNames.intern("") : rawNames.intern(base + nameStart, nameEnd - nameStart)
        pid = ids.intern(base + nameEnd + 8, pidEnd - (nameEnd + 8))
        tid = ids.intern(base + pidEnd + 7, tidEnd - (pidEnd + 7))
        ts = t
        dur = d
        return true
    }

    /// `args.data` of Profile / ProfileChunk / CpuProfile events.
    private func parseProfileData() throws -> CPUProfileData? {
        let d = CPUProfileData()
        var any = false
        try s.beginObject()
        while let k = try s.nextKey() {
            if k.equals("cpuProfile") && s.peekKind() == .object {
                try s.beginObject()
                while let ck = try s.nextKey() { if try d.parseField(ck, &s) { any = true } }
            } else if k.equals("timeDeltas") || k.equals("startTime") || k.equals("endTime") {
                if try d.parseField(k, &s) { any = true }
            } else {
                try s.skipValue()
            }
        }
        return any ? d : nil
    }

    private func frameFor(name: Int32, file: String?, line: Int) -> Int32 {
        if file == nil && line == 0 && name >= 0 {
            if Int(name) < nameFrame.count, nameFrame[Int(name)] >= 0 { return nameFrame[Int(name)] }
            let f = makeFrame(name: name, file: nil, line: 0)
            if Int(name) >= nameFrame.count {
                nameFrame.append(contentsOf: repeatElement(-1, count: Int(name) + 1 - nameFrame.count))
            }
            nameFrame[Int(name)] = f
            return f
        }
        let key = FrameKey(name: name, file: file, line: line)
        if let f = frameCache[key] { return f }
        let f = makeFrame(name: name, file: file, line: line)
        frameCache[key] = f
        return f
    }

    private func makeFrame(name: Int32, file: String?, line: Int) -> Int32 {
        if deferFrames {
            rawKeyName.append(name)
            rawKeyFile.append(file)
            rawKeyLine.append(line)
            return Int32(rawKeyName.count - 1)
        }
        let text = name >= 0 ? rawNames.string(name) : "(unnamed)"
        let frame: Frame
        if let file {
            frame = Frame(name: text, file: file, line: line > 0 ? line : nil, kind: .function)
        } else {
            // viztracer: `func (path:line)`; C functions are `module.func`.
            let p = FoldedParser.parseFrame(text)
            frame = Frame(name: p.name, file: p.file, line: p.line, kind: p.kind.isGrouping ? .function : p.kind)
        }
        let raw = Int32(rawFrame.count)
        if mergeLines {
            let (f, fn) = builder.frames.mergedLineFrame(name: frame.name, file: frame.file, line: frame.line, kind: frame.kind)
            rawFrame.append(f)
            rawFunction.append(fn)
            rawLine.append(Int32(clamping: frame.line ?? 0))
        } else {
            rawFrame.append(builder.frames.frame(name: frame.name, file: frame.file, line: frame.line, kind: frame.kind))
            rawFunction.append(-1)
            rawLine.append(0)
        }
        rawSelf.append(0)
        return raw
    }

    private func parseStackFrames() throws {
        guard s.peekKind() == .object else { try s.skipValue(); return }
        try s.beginObject()
        while let k = try s.nextKey() {
            let id = k.string
            guard s.peekKind() == .object else { try s.skipValue(); continue }
            try s.beginObject()
            var name = "(unnamed)"
            var parent: String? = nil
            while let fk = try s.nextKey() {
                if fk.equals("name") && s.peekKind() == .string { name = try s.readStringValue() }
                else if fk.equals("parent") {
                    switch s.peekKind() {
                    case .string: parent = try s.readStringValue()
                    case .number:
                        s.skipWhitespace()
                        let start = s.pos
                        _ = try s.readNumber()
                        parent = String(decoding: UnsafeRawBufferPointer(start: s.base + start, count: s.pos - start), as: UTF8.self)
                    default: try s.skipValue()
                    }
                } else { try s.skipValue() }
            }
            stackFrames[id] = (name, parent)
        }
    }

    private func parseSamples() throws {
        guard s.peekKind() == .array else { try s.skipValue(); return }
        try s.beginArray()
        while try s.nextElement() {
            guard s.peekKind() == .object else { try s.skipValue(); continue }
            try s.beginObject()
            var pid: Int32 = -1, tid: Int32 = -1
            var ts = Double.nan
            var sf: String? = nil
            while let k = try s.nextKey() {
                if k.equals("pid") { pid = try readID() }
                else if k.equals("tid") { tid = try readID() }
                else if k.equals("ts") { ts = try s.readLooseNumber() ?? .nan }
                else if k.equals("sf") || k.equals("stackFrameId") {
                    switch s.peekKind() {
                    case .string: sf = try s.readStringValue()
                    case .number:
                        s.skipWhitespace()
                        let start = s.pos
                        _ = try s.readNumber()
                        sf = String(decoding: UnsafeRawBufferPointer(start: s.base + start, count: s.pos - start), as: UTF8.self)
                    default: try s.skipValue()
                    }
                } else { try s.skipValue() }
            }
            guard let sf, ts.isFinite, abs(ts) < 1e17 else { skippedNoTime += 1; continue }
            samples.append((thread(pid, tid), ts, sf))
        }
    }

    // MARK: building

    private var threadNodes: [Int32: Int32] = [:]

    /// Where thread `t`'s events and samples go: its thread node, or the root when threads are
    /// merged while reading.
    private func eventRoot(_ t: Int32) -> Int32 {
        guard mergeThreads else { return threadNode(t) }
        droppedThreads.insert(t)
        return 0
    }

    private func threadNode(_ t: Int32) -> Int32 {
        if let n = threadNodes[t] { return n }
        let b = builder
        let pid = threadPid[Int(t)], tid = threadTid[Int(t)]
        let pidText = pid >= 0 ? ids.string(pid) : "?"
        let tidText = tid >= 0 ? ids.string(tid) : "?"
        var pname = "process \(pidText)"
        if let n = processNames[pid] { pname += " (\(n))" }
        var tname = "thread \(tidText)"
        if let n = threadNames[t] { tname += " (\(n))" }
        let p = b.child(of: 0, frame: b.frames.frame(name: pname, file: nil, line: nil, kind: .process))
        let n = b.child(of: p, frame: b.frames.frame(name: tname, file: nil, line: nil, kind: .thread))
        threadNodes[t] = n
        return n
    }

    func build() throws -> ProfileBuilder {
        let b = builder
        if truncatedInsideEvent && !warnings.contains(where: { $0.hasPrefix("the input ends inside") }) {
            warnings.append("the input ends inside an event")
        }
        var built = false
        if !cpuProfiles.isEmpty {
            let count = b.addMetric(ValueType("samples", "count"))
            b.defaultMetric = 0
            var total = 0
            for (_, t, d) in cpuProfiles where !d.ids.isEmpty {
                let (n, w) = try d.addTo(b, under: threadNode(t), countMetric: count, timeMetric: 0)
                total += n
                warnings += w.prefix(5)
                built = true
            }
            if built {
                b.sampleCount = total
                if !events.isEmpty {
                    warnings.append("the trace embeds a CPU profile: showing it; \(events.count) B/E/X event(s) not shown")
                }
            }
        }
        if !built {
            buildEvents()
            buildSamples()
            built = !events.isEmpty || !samples.isEmpty
        }
        if !built {
            let ph = phases.sorted { $0.key < $1.key }.map { "\(phaseName($0.key))=\($0.value)" }.joined(separator: " ")
            throw ProfileError("no B/E/X events, samples or CPU profile to build a call tree from (\(eventCount) events: \(ph))", offset: 0)
        }
        if !droppedThreads.isEmpty { b.mergedThreads = droppedThreads.count }
        if skippedNoTime > 0 { warnings.append("\(skippedNoTime) event(s) without a usable 'ts' skipped") }
        b.warnings += warnings
        b.metadata.append(("events", String(eventCount)))
        b.metadata.append(("phases", phases.sorted { $0.key < $1.key }.map { "\(phaseName($0.key))=\($0.value)" }
            .joined(separator: " ")))
        return b
    }

    private func phaseName(_ p: UInt8) -> String {
        p == 0 ? "none" : p == 0x3F ? "?" : String(UnicodeScalar(p))
    }

    private func buildEvents() {
        guard !events.isEmpty else { return }
        // Each thread's events in file order, as runs of one array (a counting sort by
        // thread), not an array per thread grown an event at a time.
        let threadCount = threadPid.count
        var start = [Int](repeating: 0, count: threadCount + 1)
        for e in events { start[Int(e.thread) + 1] += 1 }
        for t in 0..<threadCount { start[t + 1] += start[t] }
        let byThread: [Int32] = {
            var byThread = [Int32](repeating: 0, count: events.count)
            var fill = start
            for (i, e) in events.enumerated() {
                byThread[fill[Int(e.thread)]] = Int32(i)
                fill[Int(e.thread)] += 1
            }
            return byThread
        }()
        var unmatched = 0, dangling = 0
        // Whether each event (by index) is open. An array, not a set probed an event each.
        var opened = [Bool](repeating: false, count: events.count)
        // A begin's rank in its thread's order, by event index: written for each thread by
        // whichever core orders it, at its own events only.
        let rank = UnsafeMutablePointer<Int32>.allocate(capacity: events.count)
        defer { rank.deallocate() }
        let all = events
        // A thread's begins and ends in the order the walk takes them, and its last time.
        // Begins: by ts; at one ts, B events (unknown length) first in file order, then X
        // events longest first (equal: the later one first, viztracer writes children first).
        // Ends: E events and X ends, by time; at one time, X ends innermost first, then E
        // events in file order.
        func order(_ t: Int) -> EventOrder {
            var o = EventOrder()
            let list = byThread[start[t]..<start[t + 1]]
            all.withUnsafeBufferPointer { ev in
                o.begins.reserveCapacity(list.count)
                for i in list where !ev[Int(i)].isE { o.begins.append(i) }
                o.begins.sort { a, b in
                    let x = ev[Int(a)], y = ev[Int(b)]
                    if x.ts != y.ts { return x.ts < y.ts }
                    let dx = x.isB ? Double.infinity : x.dur, dy = y.isB ? Double.infinity : y.dur
                    if dx != dy { return dx > dy }
                    return x.isB ? a < b : a > b
                }
                for (r, e) in o.begins.enumerated() { rank[Int(e)] = Int32(r) }
                o.ends.reserveCapacity(list.count)
                for i in list {
                    let e = ev[Int(i)]
                    if e.isE { o.ends.append(EventOrder.End(ts: e.ts, key: 1 << 32 | Int64(i))) }
                    else if e.isX { o.ends.append(EventOrder.End(ts: e.ts + e.dur, key: -Int64(rank[Int(i)]))) }
                    o.maxT = max(o.maxT, e.ts + (e.isX ? e.dur : 0))
                }
            }
            o.ends.sort { a, b in a.ts != b.ts ? a.ts < b.ts : a.key < b.key }
            return o
        }
        let threads = (0..<threadCount).filter { start[$0] < start[$0 + 1] }
        // The next thread's order, made on the other core while this one walks the thread
        // before it (when it is worth a hand-off).
        var ahead: (task: SideTask, box: OrderBox)? = nil
        var walkedEvents = 0, indexReserved = false
        for (k, t) in threads.enumerated() {
            let list = byThread[start[t]..<start[t + 1]]
            let o: EventOrder
            if let a = ahead {
                a.task.wait()
                o = a.box.order
                ahead = nil
            } else {
                o = order(t)
            }
            if k + 1 < threads.count, start[threads[k + 1] + 1] - start[threads[k + 1]] >= 1 << 14 {
                let box = OrderBox(), next = threads[k + 1]
                ahead = (SideTask { box.order = order(next) }, box)
            }
            let begins = o.begins, ends = o.ends, maxT = o.maxT
            func event(of end: EventOrder.End) -> Int32 {
                end.isE ? Int32(truncatingIfNeeded: end.key) : begins[Int(-end.key)]
            }
            let root = eventRoot(Int32(t))
            // Begins in a row get their nodes in one `descend` (its probes prefetched together)
            // at the next end, instead of a `child(of:)` each waiting on its cache miss: until
            // then `stackNode` stops short of `stackFrame`, and the time given to the open frames
            // above it waits in `pendingWeight` (stack position, time), added in order after.
            var stackNode: [Int32] = []
            var stackFrame: [Int32] = []
            var stackRaw: [Int32] = []
            var stackEvent: [Int32] = []
            var pendingWeight: [(position: Int, weight: Double)] = []
            var walked: [Int32] = []
            var lastT = -Double.infinity
            func advance(_ time: Double) {
                if !stackFrame.isEmpty, time > lastT {
                    rawSelf[Int(stackRaw[stackRaw.count - 1])] += time - lastT
                    if stackNode.count == stackFrame.count { builder.addSelf(stackNode[stackNode.count - 1], metric: 0, time - lastT) }
                    else { pendingWeight.append((stackFrame.count - 1, time - lastT)) }
                }
                lastT = max(lastT, time)
            }
            func resolve() {
                let have = stackNode.count
                guard have < stackFrame.count else { return }
                let n = stackFrame.count - have
                if walked.count < n { walked.append(contentsOf: repeatElement(0, count: n - walked.count)) }
                stackFrame.withUnsafeBufferPointer { fr in
                    walked.withUnsafeMutableBufferPointer { out in
                        _ = builder.descend(from: have > 0 ? stackNode[have - 1] : root,
                                            through: UnsafeBufferPointer(rebasing: fr[have...]), nodes: out.baseAddress!)
                    }
                }
                stackNode.append(contentsOf: walked[0..<n])
                for (position, weight) in pendingWeight { builder.addSelf(stackNode[position], metric: 0, weight) }
                pendingWeight.removeAll(keepingCapacity: true)
            }
            var bi = 0, ei = 0
            while bi < begins.count || ei < ends.count {
                var takeBegin: Bool
                if ei >= ends.count { takeBegin = true }
                else if bi >= begins.count { takeBegin = false }
                else {
                    let be = events[Int(begins[bi])], en = ends[ei]
                    if be.ts != en.ts { takeBegin = be.ts < en.ts }
                    else if !en.isE { takeBegin = !opened[Int(event(of: en))] }     // zero-length X
                    else {
                        // A B and an E at one time: the E first, unless it closes that very B
                        // (same name and args, as speedscope keys them): a zero-length call.
                        let ee = events[Int(event(of: en))]
                        takeBegin = be.ph == 0x42 && be.name == ee.name && be.args == ee.args
                    }
                }
                if takeBegin {
                    let ev = begins[bi]; bi += 1
                    let e = events[Int(ev)]
                    advance(e.ts)
                    stackFrame.append(rawFrame[Int(e.frame)])
                    stackRaw.append(e.frame)
                    stackEvent.append(ev)
                    opened[Int(ev)] = true
                } else {
                    let en = ends[ei]; ei += 1
                    advance(en.ts)
                    resolve()
                    var k: Int? = nil
                    if !en.isE {
                        k = stackEvent.lastIndex(of: event(of: en))
                    } else {
                        let name = events[Int(event(of: en))].name
                        if let top = stackEvent.last, name < 0 || events[Int(top)].name == name { k = stackEvent.count - 1 }
                        else { k = stackEvent.lastIndex { events[Int($0)].ph == 0x42 && events[Int($0)].name == name } }
                        if k == nil { unmatched += 1 }
                    }
                    if let k, k == stackEvent.count - 1 {
                        // The usual end closes the innermost frame: a plain pop, not the
                        // generic range removal.
                        stackNode.removeLast()
                        stackFrame.removeLast()
                        stackEvent.removeLast()
                        stackRaw.removeLast()
                    } else if let k {
                        stackNode.removeSubrange(k...)
                        stackFrame.removeSubrange(k...)
                        stackEvent.removeSubrange(k...)
                        stackRaw.removeSubrange(k...)
                    }
                }
            }
            if !stackFrame.isEmpty {
                dangling += stackFrame.count
                advance(maxT)
                resolve()
            }
            // The threads so far tell about how many nodes the rest will make: room for them
            // in the child index now saves its doublings (each clears a bigger table and moves
            // every entry into it). A thread has nodes of its own, so the count scales.
            walkedEvents += list.count
            if !indexReserved && walkedEvents * 8 >= events.count && walkedEvents < events.count {
                indexReserved = true
                let estimate = Double(builder.nodeCount) * Double(events.count) / Double(walkedEvents)
                builder.reserveIndex(for: Int(min(estimate, Double(events.count + 2 * threadCount + 1))))
            }
        }
        // The line-level tree would have voted with each line frame's self time at freeze.
        for r in rawSelf.indices where rawSelf[r] > 0 && rawFunction[r] >= 0 {
            builder.voteLine(function: rawFunction[r], line: rawLine[r], rawSelf[r])
        }
        if unmatched > 0 { warnings.append("\(unmatched) end event(s) with no matching begin ignored") }
        if dangling > 0 { warnings.append("\(dangling) event(s) still open at the end (closed at the thread's last time)") }
    }

    private func buildSamples() {
        guard !samples.isEmpty else { return }
        var chains: [String: [Int32]] = [:]
        func chain(_ sf: String) -> [Int32] {
            if let c = chains[sf] { return c }
            var frames: [Int32] = []
            var cur: String? = sf
            var steps = 0
            while let id = cur, steps <= stackFrames.count {
                guard let f = stackFrames[id] else { break }
                frames.append(builder.frames.frame(name: f.name, file: nil, line: nil, kind: .function))
                cur = f.parent
                steps += 1
            }
            let c = Array(frames.reversed())
            chains[sf] = c
            return c
        }
        var byThread: [Int32: [Int]] = [:]
        for (i, smp) in samples.enumerated() { byThread[smp.thread, default: []].append(i) }
        var unknown = 0
        for t in byThread.keys.sorted() {
            let list = byThread[t]!.sorted { samples[$0].ts < samples[$1].ts }
            let root = eventRoot(t)
            let span = list.count > 1 ? (samples[list.last!].ts - samples[list[0]].ts) / Double(list.count - 1) : 0
            for (j, i) in list.enumerated() {
                let smp = samples[i]
                if stackFrames[smp.sf] == nil { unknown += 1 }
                var node = root
                for f in chain(smp.sf) { node = builder.child(of: node, frame: f) }
                let w = j + 1 < list.count ? samples[list[j + 1]].ts - smp.ts : span
                if w > 0 && w.isFinite { builder.addSelf(node, metric: 0, w) }
            }
        }
        if unknown > 0 { warnings.append("\(unknown) sample(s) refer to unknown stack frames") }
        builder.sampleCount = samples.count
    }
}

/// A thread's B/E/X events in the order `buildEvents` walks them.
private struct EventOrder {
    /// An E event or an X event's end. `key` orders ends within a time and says which event:
    /// an X end's is minus its begin's rank (<= 0), an E's is 2^32 + its index.
    struct End {
        var ts: Double
        var key: Int64
        var isE: Bool { key >= 1 << 32 }
    }
    var begins: [Int32] = []
    var ends: [End] = []
    var maxT = -Double.infinity
}

/// An `EventOrder` made on the other core (`SideTask`), read after `wait()`.
private final class OrderBox: @unchecked Sendable {
    var order = EventOrder()
}

extension CPUProfileData {
    /// Appends a later chunk of the same profile (ProfileChunk events).
    func append(_ o: CPUProfileData) {
        let base = Int32(ids.count)
        // The chunk's strings, as ours.
        var map = [Int32](repeating: -1, count: o.strings.count)
        for i in map.indices {
            map[i] = o.strings.withBytes(Int32(i)) { t in
                t.isEmpty ? strings.intern("") : strings.intern(t.baseAddress!, t.count)
            }
        }
        ids += o.ids
        parentId += o.parentId
        parentIndex += o.parentIndex.map { $0 >= 0 ? $0 + base : -1 }
        names += o.names.map { $0 >= 0 ? map[Int($0)] : -1 }
        urls += o.urls.map { $0 >= 0 ? map[Int($0)] : -1 }
        lines += o.lines
        hitCounts += o.hitCounts
        childOwner += o.childOwner.map { $0 + base }
        childIds += o.childIds
        samples += o.samples
        timeDeltas += o.timeDeltas
        if startTime == nil { startTime = o.startTime }
        if o.endTime != nil { endTime = o.endTime }
    }
}
