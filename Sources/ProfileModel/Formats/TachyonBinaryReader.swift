import CZstd

/// Python 3.15 `profiling.sampling` (Tachyon) `--binary` captures (FORMATS.md §8.1): a 64-byte
/// header, delta-encoded sample records (raw or one zstd frame), then the string and frame
/// tables and a 32-byte footer. The tables come last, so the records are decoded as they
/// stream into a tree keyed by raw frame index, which is mapped to real frames at the end.
public enum TachyonBinaryReader: ProfileReader {
    public static let name = "tachyon"
    public static let title = "Tachyon binary (Python profiling.sampling --binary)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        // The u32 0x54414348 in the writer's byte order: "HCAT" little-endian, "TACH" big.
        let le: [UInt8] = [0x48, 0x43, 0x41, 0x54], be: [UInt8] = [0x54, 0x41, 0x43, 0x48]
        let n = min(4, prefix.count)
        let isLE = (0..<n).allSatisfy { prefix[$0] == le[$0] }
        let isBE = (0..<n).allSatisfy { prefix[$0] == be[$0] }
        guard isLE || isBE else { return .no }
        if prefix.count < 8 { return complete ? .no : .needMore }
        // A small version number, not text that happens to start with the letters.
        let v = isLE ? [prefix[4], prefix[5], prefix[6], prefix[7]] : [prefix[7], prefix[6], prefix[5], prefix[4]]
        return v[0] >= 1 && v[1] == 0 && v[2] == 0 && v[3] == 0 ? .yes : .no
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let parser = TachyonBinaryParser(fileSize: source.sizeHint)
        try source.forEachChunk { try parser.feed($0) }
        return try parser.finish()
    }
}

/// Incremental decoder of a Tachyon binary capture; feed it chunks of any size.
final class TachyonBinaryParser {
    /// The input's real size when known up front (a regular file): every offset the header
    /// claims is checked against it before anything is decoded.
    let fileSize: Int?
    /// The string and frame tables are kept in memory until the end: at most this many bytes.
    static let tableBudget = 1 << 30
    /// Decoded (zstd) sample data accepted: bounds the work a small compressed file can cause.
    static let decodedBudget = 1 << 32
    /// The deepest stack accepted (the writer keeps 256 frames).
    static let maxDepth = 1 << 14
    static let maxThreads = 1 << 16
    static let headerSize = 64, footerSize = 32

    struct Header {
        var bigEndian: Bool
        var legacy: Bool
        var version: UInt32
        var python: (UInt8, UInt8, UInt8)
        var startUs: UInt64
        var intervalUs: UInt64
        var sampleCount: UInt64
        var threadCount: UInt32
        var stringOffset: Int
        var frameOffset: Int
        var compression: UInt32
    }

    private var header: Header? = nil
    private var headerBytes: [UInt8] = []
    private var consumed = 0                 // input bytes seen

    // Sample records.
    private var zstd: OpaquePointer? = nil
    private var zstdDone = false
    private var zstdOut = [UInt8](repeating: 0, count: 1 << 17)
    private var decoded = 0                  // bytes of sample data consumed by the record decoder
    private var carry = CarryOver()
    private var tail: [UInt8] = []           // from the string table to the end

    private struct ThreadKey: Hashable { var tid: UInt64; var interp: UInt32 }
    private struct ThreadState {
        var key: ThreadKey
        var stack: [UInt32] = []             // raw frame indices, root first
        var nodes: [Int32] = []              // temp tree node of each stack prefix
        var clock: UInt64
        var samples = 0
        var main = false
    }
    private var slots: [ThreadKey: Int] = [:]
    private var threads: [ThreadState] = []
    private var current = -1                 // thread of the record being decoded
    private var pendingRepeat: UInt64 = 0    // samples still to come in a REPEAT record
    private var scratch: [UInt32] = []

    /// The tree by raw ids: thread slot k is 2k, frame index i is 2i+1. Metrics: samples, then
    /// one per status class (`TachyonStatus.metrics`, in that order).
    private let tmp = ProfileBuilder(format: TachyonBinaryReader.name,
                                     metrics: [ValueType("samples", "count")] + TachyonStatus.metrics.map { ValueType($0.name, "count") })
    private var samples: UInt64 = 0
    private var emptySamples = 0
    private var maxFrameIndex: Int64 = -1
    private var unknownStatus = 0
    private var classCounts = [Int](repeating: 0, count: TachyonStatus.metrics.count)
    /// Samples whose stack is as deep as the writer keeps (their outermost frames were cut).
    private var cutStacks = 0
    private var encodingCounts = [0, 0, 0, 0]
    private var firstTs = UInt64.max, lastTs: UInt64 = 0
    private var failure: ProfileError? = nil

    init(fileSize: Int?) { self.fileSize = fileSize }

    deinit { if let zstd { ZSTD_freeDStream(zstd) } }

    private struct NeedMore: Error {}

    // MARK: input

    func feed(_ input: UnsafeRawBufferPointer) throws {
        if let failure { throw failure }
        do { try feedChecked(input) } catch let e as ProfileError { failure = e; throw e }
    }

    private func feedChecked(_ input: UnsafeRawBufferPointer) throws {
        var rest = input
        if header == nil {
            let take = min(TachyonBinaryParser.headerSize - headerBytes.count, rest.count)
            headerBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[0..<take]))
            consumed += take
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            guard headerBytes.count == TachyonBinaryParser.headerSize else { return }
            let h = try parseHeader(headerBytes)
            header = h
            if h.compression == 1 {
                guard let z = ZSTD_createDStream() else { throw ProfileError("zstd: cannot create a decoder") }
                zstd = z
                ZSTD_initDStream(z)
            }
        }
        guard let h = header, rest.count > 0 else { return }
        if consumed < h.stringOffset {
            let take = min(h.stringOffset - consumed, rest.count)
            let region = UnsafeRawBufferPointer(rebasing: rest[0..<take])
            if h.compression == 1 { try inflate(region) } else { try records(region) }
            consumed += take
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
        }
        if rest.count > 0 {
            if tail.count + rest.count > TachyonBinaryParser.tableBudget {
                throw ProfileError("string and frame tables larger than \(TachyonBinaryParser.tableBudget) bytes",
                                   offset: h.stringOffset)
            }
            tail.append(contentsOf: rest)
            consumed += rest.count
        }
    }

    private func inflate(_ region: UnsafeRawBufferPointer) throws {
        guard let z = zstd, region.count > 0 else { return }
        if zstdDone {
            throw ProfileError("bytes after the zstd frame of the sample data", offset: consumed)
        }
        var input = ZSTD_inBuffer(src: region.baseAddress, size: region.count, pos: 0)
        while true {
            let cap = zstdOut.count
            let (ret, produced) = zstdOut.withUnsafeMutableBytes { out -> (Int, Int) in
                var output = ZSTD_outBuffer(dst: out.baseAddress, size: cap, pos: 0)
                let r = ZSTD_decompressStream(z, &output, &input)
                return (r, output.pos)
            }
            if ZSTD_isError(ret) != 0 {
                throw ProfileError("corrupt zstd sample data: " + String(cString: ZSTD_getErrorName(ret)),
                                   offset: consumed + input.pos)
            }
            if produced > 0 {
                if decoded + carry.count + produced > TachyonBinaryParser.decodedBudget {
                    throw ProfileError("zstd sample data decodes to more than \(TachyonBinaryParser.decodedBudget) bytes",
                                       offset: TachyonBinaryParser.headerSize)
                }
                try zstdOut.withUnsafeBytes { try records(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            if ret == 0 {
                zstdDone = true
                if input.pos < input.size {
                    throw ProfileError("bytes after the zstd frame of the sample data", offset: consumed + input.pos)
                }
                return
            }
            if produced < cap && input.pos == input.size { return }
        }
    }

    // MARK: header

    private func parseHeader(_ b: [UInt8]) throws -> Header {
        if b.allSatisfy({ $0 == 0 }) {
            throw ProfileError("the Tachyon capture never finished (its header is all zeros; it is written last)", offset: 0)
        }
        let big = b[0] == 0x54
        func u32(_ i: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 { v |= UInt32(b[i + k]) << (8 * UInt32(big ? 3 - k : k)) }
            return v
        }
        func u64(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(b[i + k]) << (8 * UInt64(big ? 7 - k : k)) }
            return v
        }
        let version = u32(4)
        guard version == 1 else {
            throw ProfileError("unsupported Tachyon format version \(version) (written by Python \(b[8]).\(b[9]).\(b[10]); "
                               + "perftop reads version 1)", offset: 4)
        }
        // The real size bounds every offset; with no size known (a pipe), a plausibility cap.
        let limit = UInt64(fileSize ?? (1 << 40))
        func plausible(samples: UInt64, threads: UInt32, str: UInt64, frame: UInt64, compression: UInt32) -> Bool {
            let foot = UInt64(TachyonBinaryParser.footerSize)
            return str >= 64 && str <= frame && limit >= foot && frame <= limit - foot && compression <= 1
                && (samples == 0 || threads >= 1)
        }
        var h = Header(bigEndian: big, legacy: false, version: version, python: (b[8], b[9], b[10]),
                       startUs: u64(12), intervalUs: u64(20), sampleCount: u64(28), threadCount: u32(36),
                       stringOffset: 0, frameOffset: 0, compression: u32(56))
        if plausible(samples: u64(28), threads: u32(36), str: u64(40), frame: u64(48), compression: u32(56)) {
            h.stringOffset = Int(u64(40)); h.frameOffset = Int(u64(48))
        } else if plausible(samples: UInt64(u32(28)), threads: u32(32), str: u64(36), frame: u64(44),
                            compression: u32(52)) {
            // 3.15 alphas: a u32 sample count, everything after it 4 bytes earlier.
            h.legacy = true
            h.sampleCount = UInt64(u32(28)); h.threadCount = u32(32)
            h.stringOffset = Int(u64(36)); h.frameOffset = Int(u64(44)); h.compression = u32(52)
        } else {
            let size = fileSize.map { "the file's \($0) bytes" } ?? "a plausible size"
            throw ProfileError("Tachyon header: string table at \(u64(40)), frame table at \(u64(48)), compression "
                               + "\(u32(56)) do not fit \(size) (nor as the 3.15 alpha layout)", offset: 28)
        }
        return h
    }

    // MARK: sample records

    private func records(_ input: UnsafeRawBufferPointer) throws {
        try carry.feed(input) { try consume($0) }
    }

    /// Where byte `at` of the sample data is, for messages.
    private func located(_ message: String, at: Int) -> ProfileError {
        let pos = decoded + at
        if header?.compression == 1 {
            return ProfileError(message + " (zstd sample data, decoded byte \(pos))", offset: TachyonBinaryParser.headerSize)
        }
        return ProfileError(message, offset: TachyonBinaryParser.headerSize + pos)
    }

    @inline(__always)
    private func varint(_ b: UnsafeRawBufferPointer, _ i: inout Int) throws -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        let start = i
        while true {
            guard i < b.count else { throw NeedMore() }
            let c = b[i]; i += 1
            if shift == 63 && c > 1 || shift > 63 { throw located("varint longer than 64 bits", at: start) }
            v |= UInt64(c & 0x7F) << shift
            if c & 0x80 == 0 { return v }
            shift += 7
        }
    }

    /// Decodes whole units (a record, or one sample of a REPEAT record); returns the bytes used.
    private func consume(_ b: UnsafeRawBufferPointer) throws -> Int {
        var i = 0
        while i < b.count {
            let start = i
            do {
                if pendingRepeat > 0 {
                    let dt = try varint(b, &i)
                    guard i < b.count else { throw NeedMore() }
                    let status = b[i]; i += 1
                    pendingRepeat -= 1
                    try sample(dt: dt, status: status, at: start)
                } else {
                    try record(b, &i)
                }
            } catch is NeedMore {
                decoded += start
                return start
            }
        }
        decoded += i
        return i
    }

    private func record(_ b: UnsafeRawBufferPointer, _ i: inout Int) throws {
        let start = i
        guard b.count - i >= 13 else { throw NeedMore() }
        let big = header!.bigEndian
        var tid: UInt64 = 0, interp: UInt32 = 0
        for k in 0..<8 { tid |= UInt64(b[i + k]) << (8 * UInt64(big ? 7 - k : k)) }
        for k in 0..<4 { interp |= UInt32(b[i + 8 + k]) << (8 * UInt32(big ? 3 - k : k)) }
        let encoding = b[i + 12]
        i += 13
        guard encoding <= 3 else { throw located("unknown sample record encoding \(encoding)", at: start + 12) }
        // Decode the whole record before it changes any state (it may be cut by the chunk).
        switch encoding {
        case 0:                                                     // REPEAT
            let count = try varint(b, &i)
            let slot = try thread(tid, interp, at: start)
            if count > header!.sampleCount &- samples {
                throw located("REPEAT of \(count) samples, more than the header's \(header!.sampleCount) in all", at: start)
            }
            encodingCounts[0] += 1
            current = slot
            pendingRepeat = count
        default:
            let dt = try varint(b, &i)
            guard i < b.count else { throw NeedMore() }
            let status = b[i]; i += 1
            var keep = 0
            if encoding == 2 || encoding == 3 { keep = Int(clamping: try varint(b, &i)) }
            let n = try varint(b, &i)
            if n > UInt64(TachyonBinaryParser.maxDepth) {
                throw located("stack of \(n) frames (more than \(TachyonBinaryParser.maxDepth))", at: start)
            }
            scratch.removeAll(keepingCapacity: true)
            for _ in 0..<Int(n) {
                let f = try varint(b, &i)
                if f >= 1 << 30 { throw located("frame index \(f) out of range", at: start) }
                scratch.append(UInt32(f))
            }
            let slot = try thread(tid, interp, at: start)
            var t = threads[slot]
            let depth = t.stack.count
            switch encoding {
            case 1: keep = 0
            case 2:
                if keep > depth { throw located("SUFFIX keeps \(keep) frames of a \(depth)-frame stack", at: start) }
            default:
                if keep > depth { throw located("POP_PUSH pops \(keep) frames of a \(depth)-frame stack", at: start) }
                keep = depth - keep
            }
            if keep + scratch.count > TachyonBinaryParser.maxDepth {
                throw located("stack deeper than \(TachyonBinaryParser.maxDepth) frames", at: start)
            }
            threads[slot].stack = []; threads[slot].nodes = []      // unique references while edited
            t.stack.removeSubrange(keep...)
            t.nodes.removeSubrange(keep...)
            var node = t.nodes.last ?? Int32(-1)
            if node < 0 { node = tmp.child(of: 0, frame: Int32(2 * slot)) }
            for f in scratch.reversed() {            // the record lists frames innermost first
                t.stack.append(f)
                maxFrameIndex = max(maxFrameIndex, Int64(f))
                node = tmp.child(of: node, frame: Int32(2 * f + 1))
                t.nodes.append(node)
            }
            threads[slot] = t
            encodingCounts[Int(encoding)] += 1
            current = slot
            try sample(dt: dt, status: status, at: start)
        }
    }

    private func thread(_ tid: UInt64, _ interp: UInt32, at: Int) throws -> Int {
        let key = ThreadKey(tid: tid, interp: interp)
        if let s = slots[key] { return s }
        if threads.count >= TachyonBinaryParser.maxThreads {
            throw located("more than \(TachyonBinaryParser.maxThreads) threads", at: at)
        }
        slots[key] = threads.count
        threads.append(ThreadState(key: key, clock: header!.startUs))
        return threads.count - 1
    }

    private func sample(dt: UInt64, status: UInt8, at: Int) throws {
        if samples >= header!.sampleCount {
            throw located("more samples than the header's \(header!.sampleCount)", at: at)
        }
        samples += 1
        let t = current
        threads[t].clock &+= dt
        threads[t].samples += 1
        if status & 0x20 != 0 { threads[t].main = true }
        let ts = threads[t].clock
        firstTs = min(firstTs, ts); lastTs = max(lastTs, ts)
        if status & 0x04 != 0 { unknownStatus += 1 }
        guard let leaf = threads[t].nodes.last else { emptySamples += 1; return }
        if threads[t].nodes.count >= TachyonStatus.writerDepth { cutStacks += 1 }
        tmp.addSelf(leaf, metric: 0, 1)
        var classes = TachyonStatus.classMask[Int(status)]          // one bit per status class
        while classes != 0 {
            let k = classes.trailingZeroBitCount
            classes &= classes - 1
            classCounts[k] += 1
            tmp.addSelf(leaf, metric: k + 1, 1)
        }
    }

    // MARK: tables and the result

    func finish() throws -> ProfileBuilder {
        if let failure { throw failure }
        guard let h = header else {
            throw ProfileError("truncated Tachyon header (\(headerBytes.count) of 64 bytes)", offset: headerBytes.count)
        }
        if consumed < h.stringOffset {
            throw ProfileError("the file ends inside the sample data (the header puts the string table at "
                               + "\(h.stringOffset))", offset: consumed)
        }
        if h.compression == 1 && !zstdDone {
            throw ProfileError("the zstd sample data is cut (its frame does not end before the string table)",
                               offset: h.stringOffset)
        }
        if !carry.isEmpty || pendingRepeat > 0 {
            throw located("the sample data ends inside a record", at: 0)
        }
        let size = h.stringOffset + tail.count
        guard h.frameOffset + TachyonBinaryParser.footerSize <= size else {
            throw ProfileError("the file ends before its frame table and footer (the header puts the frame "
                               + "table at \(h.frameOffset))", offset: size)
        }
        var stats: TachyonStats? = nil
        let builder: ProfileBuilder = try tail.withUnsafeBytes { t in
            func u32(_ i: Int) -> UInt32 {
                var v: UInt32 = 0
                for k in 0..<4 { v |= UInt32(t[i + k]) << (8 * UInt32(h.bigEndian ? 3 - k : k)) }
                return v
            }
            func u64(_ i: Int) -> UInt64 {
                var v: UInt64 = 0
                for k in 0..<8 { v |= UInt64(t[i + k]) << (8 * UInt64(h.bigEndian ? 7 - k : k)) }
                return v
            }
            let base = h.stringOffset
            let footer = t.count - TachyonBinaryParser.footerSize
            let stringCount = Int(u32(footer)), frameCount = Int(u32(footer + 4))
            let claimed = u64(footer + 8)
            if claimed != UInt64(size) {
                throw ProfileError("the footer says the file has \(claimed) bytes; it has \(size)", offset: base + footer + 8)
            }
            // An optional TACHSTAT block sits between the frame table and the footer.
            var frameEnd = footer
            let sig = footer - 16
            if sig >= h.frameOffset - base, Array(t[sig..<(sig + 8)]) == Array("TACHSTAT".utf8) {
                let blockSize = Int(u32(sig + 12))
                guard blockSize >= 24, blockSize <= footer - (h.frameOffset - base) else {
                    throw ProfileError("TACHSTAT block of \(blockSize) bytes does not fit", offset: base + sig)
                }
                frameEnd = footer - blockSize
                // 56 bytes: duration, rate, failed %, missed % (f64), flags, reserved; 32: duration, rate.
                func f64(_ i: Int) -> Double { Double(bitPattern: u64(i)) }
                if blockSize == 56 || blockSize == 32 {
                    stats = TachyonStats(duration: f64(frameEnd), rate: f64(frameEnd + 8),
                                         failed: blockSize == 56 ? f64(frameEnd + 16) : nil,
                                         missed: blockSize == 56 ? f64(frameEnd + 24) : nil)
                }
            }
            let strStart = 0, strEnd = h.frameOffset - base, frameStart = strEnd
            if stringCount > strEnd - strStart {
                throw ProfileError("the footer claims \(stringCount) strings in a \(strEnd - strStart)-byte table",
                                   offset: base + footer)
            }
            if frameCount > (frameEnd - frameStart) / 3 {      // a frame takes 3 bytes or more
                throw ProfileError("the footer claims \(frameCount) frames in a \(frameEnd - frameStart)-byte table",
                                   offset: base + footer + 4)
            }
            func varint(_ i: inout Int, _ end: Int) throws -> UInt64 {
                var v: UInt64 = 0, shift: UInt64 = 0
                let start = i
                while true {
                    guard i < end else { throw ProfileError("table entry runs past its table", offset: base + start) }
                    let c = t[i]; i += 1
                    if shift == 63 && c > 1 || shift > 63 { throw ProfileError("varint longer than 64 bits", offset: base + start) }
                    v |= UInt64(c & 0x7F) << shift
                    if c & 0x80 == 0 { return v }
                    shift += 7
                }
            }
            func zigzag(_ z: UInt64) -> Int64 { Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))) }

            let b = ProfileBuilder(format: TachyonBinaryReader.name, metrics: [ValueType("samples", "count")],
                                   defaultMetric: 0)
            var strings: [Int32] = []
            strings.reserveCapacity(stringCount)
            var i = strStart
            for _ in 0..<stringCount {
                let len = try varint(&i, strEnd)
                guard len <= UInt64(strEnd - i) else {
                    throw ProfileError("string of \(len) bytes runs past the string table", offset: base + i)
                }
                strings.append(b.frames.intern(t.baseAddress! + i, Int(len)))
                i += Int(len)
            }
            if i != strEnd {
                throw ProfileError("the string table holds \(strEnd - i) byte(s) after its \(stringCount) strings",
                                   offset: base + i)
            }
            // Frames: 7 fields (3.15), or 3 in early alphas: the layout that ends exactly at the table's end.
            struct RawFrame { var file: Int; var name: Int; var line: Int64 }
            func parseFrames(fields: Int) throws -> [RawFrame]? {
                var out: [RawFrame] = []
                out.reserveCapacity(frameCount)
                var j = frameStart
                do {
                    for _ in 0..<frameCount {
                        let file = try varint(&j, frameEnd), name = try varint(&j, frameEnd)
                        let line = zigzag(try varint(&j, frameEnd))
                        if fields == 7 {
                            for _ in 0..<3 { _ = try varint(&j, frameEnd) }
                            guard j < frameEnd else { return nil }
                            j += 1                                  // opcode
                        }
                        guard file < UInt64(stringCount), name < UInt64(stringCount) else {
                            throw ProfileError("frame names string \(max(file, name)) of \(stringCount)", offset: base + j)
                        }
                        out.append(RawFrame(file: Int(file), name: Int(name), line: line))
                    }
                } catch let e as ProfileError where e.message.hasPrefix("table entry runs past") {
                    return nil
                }
                return j == frameEnd ? out : nil
            }
            guard let raw = try parseFrames(fields: 7) ?? parseFrames(fields: 3) else {
                throw ProfileError("the frame table does not hold \(frameCount) frames of 7 (or 3) fields",
                                   offset: h.frameOffset)
            }
            if maxFrameIndex >= Int64(frameCount) {
                throw ProfileError("the sample data names frame \(maxFrameIndex); the frame table has \(frameCount)",
                                   offset: h.frameOffset)
            }

            // Real frames; `_sync_coordinator.py` (the `run` wrapper) is dropped, as Tachyon's own collectors do.
            var map = [Int32](repeating: -1, count: 2 * max(frameCount, threads.count) + 2)
            let tilde = b.frames.intern("~")
            for (k, f) in raw.enumerated() {
                let file = strings[f.file], name = strings[f.name]
                let fileText = b.frames.strings.string(file)
                if fileText.hasSuffix("_sync_coordinator.py") { continue }
                let nameText = b.frames.strings.string(name)
                let line = f.line > 0 ? Int32(clamping: f.line) : 0
                if file == tilde || (f.line < 0 && nameText.hasPrefix("<") && nameText.hasSuffix(">")) {
                    map[2 * k + 1] = b.frames.frame(name: name, file: -1, line: 0,
                                                    kind: nameText == "<native>" ? .native : .special)
                } else {
                    map[2 * k + 1] = b.frames.frame(name: name, file: file, line: line, kind: .function)
                }
            }
            for (k, th) in threads.enumerated() {
                var label = "thread \(th.key.tid)"
                if th.key.interp != 0 { label += " (interpreter \(th.key.interp))" }
                if th.main { label += " (main)" }
                map[2 * k] = b.frames.frame(name: label, file: nil, line: nil, kind: .thread)
            }
            // Status classes only mean something when the sampler measured them (default wall
            // mode marks every sample UNKNOWN); a class no sample is in is left out.
            var weights = [tmp.selfWeight[0]]
            let all = tmp.selfWeight
            for (k, c) in TachyonStatus.metrics.enumerated() where unknownStatus == 0 && classCounts[k] > 0 {
                _ = b.addMetric(ValueType(c.name, "count"))
                weights.append(all[k + 1])
            }
            b.addTree(parent: tmp.parent, frame: tmp.frame, selfWeight: weights, frameMap: map)
            return b
        }
        let withFrames = Int(samples) - emptySamples
        builder.sampleCount = withFrames
        let interval = h.intervalUs
        builder.metadata.append(("python", "\(h.python.0).\(h.python.1).\(h.python.2)"))
        builder.metadata.append(("interval", "\(interval) µs"))
        builder.metadata.append(("threads", String(threads.count)))
        builder.metadata.append(("thread samples", String(samples)))
        if emptySamples > 0 { builder.metadata.append(("empty-stack samples", String(emptySamples))) }
        if firstTs <= lastTs { builder.metadata.append(("duration", "\(lastTs - firstTs) µs")) }
        if h.compression == 1 { builder.metadata.append(("compression", "zstd")) }
        if h.legacy { builder.metadata.append(("header", "3.15 alpha layout")) }
        if samples != h.sampleCount {
            builder.warnings.append("the header says \(h.sampleCount) samples; the data holds \(samples)")
        }
        if cutStacks > 0 {
            builder.warnings.append("\(cutStacks) sample(s) have stacks of \(TachyonStatus.writerDepth) frames or more: "
                                    + "Tachyon's writer keeps only the innermost \(TachyonStatus.writerDepth), so their outer frames are cut")
            builder.metadata.append(("cut stacks", String(cutStacks)))
        }
        if let st = stats {
            for (k, v) in st.metadata { builder.metadata.append((k, v)) }
            if let w = st.warning { builder.warnings.append(w) }
        }
        if threads.count != Int(h.threadCount) {
            builder.warnings.append("the header says \(h.threadCount) threads; the data holds \(threads.count)")
        }
        return builder
    }
}
