/// Picks a reader by content, never by file name.
public enum FormatRegistry {
    /// Readers in sniffing order (FORMATS.md §9.5): binary and specific text formats before
    /// the loose folded grammar.
    nonisolated(unsafe) public static let readers: [any ProfileReader.Type] = [
        PstatsReader.self,
        MojoReader.self,
        TachyonBinaryReader.self,
        PprofReader.self,
        SpeedscopeReader.self,
        ChromeCPUProfileReader.self,
        GeckoReader.self,
        PyinstrumentReader.self,
        TraceEventReader.self,
        ScaleneReader.self,
        TachyonJSONLReader.self,
        MemrayGprof2dotReader.self,
        ImportTimeReader.self,
        MemrayCSVReader.self,
        CallgrindReader.self,
        PerfScriptReader.self,
        AustinReader.self,
        FoldedReader.self,
    ]

    /// Formats that are recognised but not read; the message says what to do instead.
    static let unsupported: [(String, @Sendable (UnsafeRawBufferPointer) -> Bool)] = [
        ("gperftools legacy CPU profile is not supported; convert it with 'pprof -proto'", isGperftoolsCPU),
        ("pprof legacy text profile is not supported; convert it with 'pprof -proto'", isPprofLegacyText),
        ("memray capture files are not supported; run 'memray transform speedscope FILE' (memray 1.20+) "
         + "or 'memray transform csv FILE' and open the output", isMemrayCapture),
        ("memray stats output is a summary with no stacks, not supported; run 'memray transform speedscope "
         + "FILE' on the capture and open the output", isMemrayStats),
    ] + refusals

    /// memray's private capture format: LZ4-frame compressed (`04 22 4D 18`, with `memray`
    /// readable a few bytes in) or raw (starting with `memray`). FORMATS.md §11.
    static func isMemrayCapture(_ p: UnsafeRawBufferPointer) -> Bool {
        let magic = Array("memray".utf8)
        func has(at i: Int) -> Bool { i + magic.count <= p.count && (0..<magic.count).allSatisfy { p[i + $0] == magic[$0] } }
        if has(at: 0) { return true }
        guard p.count >= 4, p[0] == 0x04, p[1] == 0x22, p[2] == 0x4D, p[3] == 0x18 else { return false }
        return (4..<min(32, p.count)).contains { has(at: $0) }
    }

    /// `memray stats --json`: totals and top allocation sites.
    static func isMemrayStats(_ p: UnsafeRawBufferPointer) -> Bool {
        let info = JSONPrefix(p)
        return info.container == .object && info.has("total_num_allocations") && info.has("total_bytes_allocated")
    }

    public static var supportedNames: [String] { readers.map { $0.name } }

    public static func reader(named name: String) -> (any ProfileReader.Type)? {
        readers.first { $0.name == name }
    }

    static func isGperftoolsCPU(_ p: UnsafeRawBufferPointer) -> Bool {
        // Header words 0, 3, 0, period, 0 in 32- or 64-bit words of either byte order; Java's
        // variant has 1 as its third word (pprof's legacy_profile.go parseCPU accepts both).
        func word(_ i: Int, _ size: Int, _ big: Bool) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<size {
                let b = UInt64(p[i * size + (big ? k : size - 1 - k)])
                v = (v << 8) | b
            }
            return v
        }
        for size in [4, 8] where p.count >= 5 * size { for big in [false, true] {
            if word(0, size, big) == 0 && word(1, size, big) == 3 && word(2, size, big) <= 1
                && word(3, size, big) > 0 && word(4, size, big) == 0 { return true }
        } }
        return false
    }

    static func isPprofLegacyText(_ p: UnsafeRawBufferPointer) -> Bool {
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: p[0..<min(p.count, 200)]), as: UTF8.self)
        let t = head.drop(while: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" })
        return t.hasPrefix("heap profile:") || t.hasPrefix("--- heapz") || t.hasPrefix("--- contentionz")
            || t.hasPrefix("--- threadz") || t.hasPrefix("threadcreate profile:")
            || t.hasPrefix("--- contention") || t.hasPrefix("goroutine profile:")
    }

    /// Opens a path (`-` is stdin), inflates gzip, sniffs and reads.
    public static func load(path: String, format: String? = nil, mergeLines: Bool = false,
                            mergeThreads: Bool = false, seedFrames: FrameTable? = nil) throws -> Profile {
        do {
            let file: FileSource = path == "-" ? FileSource(fd: 0) : try FileSource(path: path)
            return try load(source: file, name: path, format: format, mergeLines: mergeLines, mergeThreads: mergeThreads,
                            seedFrames: seedFrames)
        } catch let e as ProfileError {
            throw e.at(file: path)
        }
    }

    /// How to re-read a profile loaded from `path` with one node per executing line (the
    /// viewer's `L`), or nil when that is not needed or not possible: the first read kept lines
    /// (its reader does not merge them while reading, or `linesKept`), or the input was
    /// standard input, which cannot be read twice. Threads stay merged if the first read merged
    /// them. The re-read extends the frame table it is given (`p`'s, or a later re-read's), so
    /// frame ids stay valid across the switch.
    public static func lineLevelReload(of p: Profile, path: String, format: String?,
                                       linesKept: Bool) -> ((FrameTable) throws -> Profile)? {
        guard !linesKept, path != "-", reader(named: p.format)?.mergesLinesWhileReading == true else { return nil }
        let mergeThreads = p.mergedThreads > 0
        return { seed in try load(path: path, format: format, mergeLines: false, mergeThreads: mergeThreads, seedFrames: seed) }
    }

    /// How to re-read a profile whose reader merged its threads (`Profile.mergedThreads`) with
    /// their thread frames (the viewer's `t`), lines split or merged as the first read did
    /// unless `splitLines`; nil when there is none to split or the input was standard input.
    /// Extends the frame table it is given, as `lineLevelReload`.
    public static func threadLevelReload(of p: Profile, path: String, format: String?,
                                         linesKept: Bool) -> ((_ splitLines: Bool, FrameTable) throws -> Profile)? {
        guard p.mergedThreads > 0, path != "-" else { return nil }
        return { splitLines, seed in
            try load(path: path, format: format, mergeLines: !splitLines && !linesKept, seedFrames: seed)
        }
    }

    public static func load(source: ByteSource, name: String, format: String? = nil, mergeLines: Bool = false,
                            mergeThreads: Bool = false, seedFrames: FrameTable? = nil) throws -> Profile {
        let builder = try read(source: source, name: name, format: format, mergeLines: mergeLines,
                               mergeThreads: mergeThreads, seedFrames: seedFrames)
        builder.dropIndex()
        return builder.freeze(source: name)
    }

    static func readPrefix(_ s: ByteSource, _ n: Int) throws -> ([UInt8], Bool) {
        var buf = [UInt8](repeating: 0, count: n)
        var have = 0
        while have < n {
            let got = try buf.withUnsafeMutableBytes { b in
                try s.read(into: UnsafeMutableRawBufferPointer(rebasing: b[have..<n]))
            }
            if got == 0 { return (Array(buf[0..<have]), true) }
            have += got
        }
        return (buf, false)
    }

    public static func read(source: ByteSource, name: String, format: String? = nil, mergeLines: Bool = false,
                            mergeThreads: Bool = false, seedFrames: FrameTable? = nil) throws -> ProfileBuilder {
        var src: ByteSource = source
        var (prefix, complete) = try readPrefix(src, 1 << 16)
        if prefix.isEmpty { throw ProfileError("empty file (expected a profile)", file: name) }
        if let f = source as? FileSource, MemoryBudget.isEndlessDevice(fd: f.fd) {
            throw ProfileError("a device that never ends, not a profile (first bytes: \(describeBytes(prefix)))", offset: 0, file: name)
        }
        if prefix.count >= 2 && prefix[0] == 0x1F && prefix[1] == 0x8B {
            src = try GzipSource(PrefixedSource(prefix: prefix, rest: src))
            (prefix, complete) = try readPrefix(src, 1 << 16)
            if prefix.isEmpty { throw ProfileError("empty gzip stream (expected a profile)", file: name) }
        }
        // UTF-16 text (with a BOM) becomes UTF-8 before any text reader sees it.
        if prefix.count >= 2 && ((prefix[0] == 0xFF && prefix[1] == 0xFE) || (prefix[0] == 0xFE && prefix[1] == 0xFF)) {
            let all = prefix + (complete ? [] : try src.readAll())
            let utf8 = decodeUTF16(all)
            src = MemorySource(utf8)
            (prefix, complete) = try readPrefix(src, 1 << 16)
        }
        let rest = PrefixedSource(prefix: prefix, rest: src)
        let options = ReadOptions(fileName: name, mergeLines: mergeLines, mergeThreads: mergeThreads, seedFrames: seedFrames)
        if let format {
            guard let r = reader(named: format) else {
                throw ProfileError("unknown format '\(format)'; supported: \(supportedNames.joined(separator: ", "))")
            }
            return try r.read(rest, options: options)
        }
        // A reader that needs more than 64 KiB to decide (a folded file whose first line is
        // longer) gets a longer prefix, up to the longest line a reader accepts.
        var longer: PrefixedSource? = nil
        var chosen: (any ProfileReader.Type)? = nil
        while true {
            var needMore = false
            chosen = prefix.withUnsafeBytes { p in
                for r in readers {
                    switch r.sniff(p, complete: complete) {
                    case .yes: return r
                    case .needMore: needMore = true
                    case .no: break
                    }
                }
                return nil
            }
            guard chosen == nil, needMore, !complete, prefix.count < LineSplitter.defaultMaxLength else { break }
            let (more, end) = try readPrefix(src, min(prefix.count, LineSplitter.defaultMaxLength - prefix.count))
            prefix += more
            complete = end
            longer = PrefixedSource(prefix: prefix, rest: src)
        }
        if let chosen { return try chosen.read(longer ?? rest, options: options) }
        let unsupportedMessage: String? = prefix.withUnsafeBytes { p in
            unsupported.first { $0.1(p) }?.0
        }
        if let unsupportedMessage { throw ProfileError(unsupportedMessage) }
        throw ProfileError("unrecognised profile format (first bytes: \(describeBytes(prefix))); supported: "
                           + supportedNames.joined(separator: ", "))
    }

    static func decodeUTF16(_ bytes: [UInt8]) -> [UInt8] {
        let big = bytes[0] == 0xFE
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var i = 2
        while i + 1 < bytes.count {
            units.append(big ? UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]) : UInt16(bytes[i + 1]) << 8 | UInt16(bytes[i]))
            i += 2
        }
        return Array(String(decoding: units, as: UTF16.self).utf8)
    }

    /// Shows the first bytes safely: printable ASCII as is, the rest as hex escapes.
    public static func describeBytes(_ b: [UInt8], limit: Int = 16) -> String {
        var s = "\""
        for c in b.prefix(limit) {
            if c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C { s.append(Character(UnicodeScalar(c))) }
            else { s += "\\x" + String(c, radix: 16, uppercase: false).leftPad(2) }
        }
        return s + (b.count > limit ? "...\"" : "\"")
    }
}

extension String {
    func leftPad(_ n: Int, _ c: Character = "0") -> String {
        count >= n ? self : String(repeating: c, count: n - count) + self
    }
}
