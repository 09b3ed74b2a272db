/// Python pstats dumps: one marshalled dict `{(file, line, name): (cc, nc, tt, ct, callers)}`,
/// written by cProfile, profile, yappi (`pstat`), pyinstrument (`-r pstats`) and Tachyon.
///
/// The function table is exact (self = tottime, total = cumtime, calls = nc/cc). The call
/// tree is estimated from the call graph by sharing each function's cumulative time among
/// its callees along the caller edges, with recursion cut; the profile says so.
public enum PstatsReader: ProfileReader {
    public static let name = "pstats"
    public static let title = "Python pstats (cProfile, profile, yappi, pyinstrument, Tachyon)"

    /// The largest input read into memory (pstats cannot be parsed in pieces).
    static let maxBytes = 2 << 30

    public static func sniff(_ p: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        guard p.count >= 1 else { return .no }
        let b0 = p[0] & 0x7F
        guard b0 == 0x7B else { return .no }                         // '{'
        if p.count == 2 && p[1] == 0x30 { return .yes }               // empty dict
        guard p.count >= 3 else { return complete ? .no : .needMore }
        let b1 = p[1] & 0x7F
        if b1 == 0x29 && p[2] == 3 { return .yes }                    // small tuple of 3
        if b1 == 0x28, p.count >= 6, p[2] == 3, p[3] == 0, p[4] == 0, p[5] == 0 { return .yes }
        if b1 == 0x29 && p[2] == 1 { return .yes }                    // Tachyon ("__sampled__",) first
        return .no
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let bytes = try source.readAll(limit: maxBytes)
        return try bytes.withUnsafeBytes { buf in
            if let fast = parseFast(buf) { return fast }
            do {
                return try parse(buf, modernCode: true)
            } catch let e as MarshalRetry {
                _ = e
                return try parse(buf, modernCode: false)
            }
        }
    }

    struct MarshalRetry: Error { let original: ProfileError }

    /// The usual shape, read without building marshal values (PstatsFastPath); nil when the
    /// input needs the general decoder.
    static func parseFast(_ buf: UnsafeRawBufferPointer) -> ProfileBuilder? {
        let builder = ProfileBuilder(format: name, metrics: [ValueType("time", "seconds")])
        builder.estimatedTree = true
        guard var fast = PstatsFastPath(buf, builder: builder) else { return nil }
        do { try fast.run() } catch { return nil }
        fast.acc.finish()
        return builder
    }

    static func parse(_ buf: UnsafeRawBufferPointer, modernCode: Bool) throws -> ProfileBuilder {
        var m = MarshalDecoder(buf, modernCode: modernCode)
        let builder = ProfileBuilder(format: name, metrics: [ValueType("time", "seconds")])
        builder.estimatedTree = true
        var stats = StatsAccumulator(builder: builder)
        do {
            try m.readTopDict { key, value, at in try stats.add(key: key, value: value, buf: buf, at: at) }
        } catch let e as ProfileError {
            if modernCode && m.sawCode { throw MarshalRetry(original: e) }
            throw e
        }
        stats.finish()
        return builder
    }
}

/// Collects pstats entries into an exact function table and then estimates the tree.
struct StatsAccumulator {
    let builder: ProfileBuilder
    var tt: [Double] = [], ct: [Double] = [], nc: [Int64] = [], cc: [Int64] = []
    var isEntry: [Bool] = []
    var eCaller: [Int32] = [], eCallee: [Int32] = []
    var eCt: [Double] = [], eCalls: [Int64] = [], eIsCount: [Bool] = []
    var skippedKeys = 0
    var sampledMarker = false

    init(builder: ProfileBuilder) { self.builder = builder }

    /// Room for an input of `bytes` bytes. Real dumps run ~130 bytes a function and ~80 an
    /// edge (the corpus's cProfile files; the 100k-function benchmark 180 and 60): a hint,
    /// capped, for tables that would otherwise regrow a dozen times.
    mutating func reserve(forBytes bytes: Int) {
        let functions = min(max(bytes / 192, 64), 1 << 21), edges = min(max(bytes / 48, 64), 1 << 23)
        builder.frames.reserve(frames: functions, stringBytes: min(bytes / 4, 1 << 26))
        byOffset.reserve(functions)
        tt.reserveBig(functions); ct.reserveBig(functions)
        nc.reserveBig(functions); cc.reserveBig(functions); isEntry.reserveBig(functions)
        eCaller.reserveBig(edges); eCallee.reserveBig(edges)
        eCt.reserveBig(edges); eCalls.reserveBig(edges); eIsCount.reserveBig(edges)
    }


    /// Keys seen before, by where their strings sit in the file: marshal refs make a caller key
    /// point at the same bytes as the entry it names, so most lookups skip hashing the text.
    var byOffset = WideKeyMap(capacity: 4096)

    /// The id of the empty string, interned on first use (None files, empty names).
    private var emptyId: Int32 = -1

    private mutating func empty() -> Int32 {
        if emptyId < 0 { emptyId = builder.frames.intern("") }
        return emptyId
    }

    mutating func function(_ key: MValue, buf: UnsafeRawBufferPointer) -> Int32? {
        guard case .tuple(let t) = key, t.count == 3 else { return nil }
        guard let line = t[1].intValue else { return nil }
        if case .str(let fo, let fl) = t[0], case .str(let no, let nl) = t[2] {
            return function(file: fo, fl, name: no, nl, line: line, buf: buf)
        }
        guard case .str(let fo, let fl) = t[0], case .code(let codeName, let codeFile, let codeLine) = t[2] else { return nil }
        let fileId = file(fo, fl, buf: buf)
        // Pure `profile` keys some frames by the code object itself; Python prints its repr.
        let n = MarshalDecoder.string(codeName, buf) ?? "?"
        let f = MarshalDecoder.string(codeFile, buf) ?? "?"
        let nameId = builder.frames.intern("<code object \(n), file \"\(f)\", line \(codeLine)>")
        return internFunction(fileId: fileId, nameId: nameId, line: line)
    }

    /// The function keyed `(file, line, name)`, both strings given by where their bytes sit in
    /// `buf`. Keys seen before cost one probe of `byOffset`. `byOffset` is only a shortcut:
    /// `lookup: false` skips the probe when it cannot hit (a string read in place, not through
    /// a marshal reference, sits at an offset no earlier key used), `remember: false` skips the
    /// insert when no later key can point at these bytes (a string without FLAG_REF).
    @inline(__always)
    mutating func function(file fo: Int, _ fl: Int, name no: Int, _ nl: Int, line: Int64,
                           buf: UnsafeRawBufferPointer, lookup: Bool = true, remember: Bool = true) -> Int32 {
        let a = (UInt64(fo) << 32) | UInt64(no), b = UInt64(bitPattern: line)
        if lookup, let fn = byOffset[a, b] { return fn }
        let fileId = file(fo, fl, buf: buf)
        let nameId = nl == 0 ? empty() : builder.frames.intern(buf.baseAddress! + no, nl)
        let fn = internFunction(fileId: fileId, nameId: nameId, line: line)
        if remember { byOffset[a, b] = fn }
        return fn
    }

    /// The interned file name, or -1 for built-ins (`~` or empty).
    private mutating func file(_ o: Int, _ n: Int, buf: UnsafeRawBufferPointer) -> Int32 {
        if n == 0 || (n == 1 && buf[o] == 0x7E) { _ = empty(); return -1 }
        return builder.frames.intern(buf.baseAddress! + o, n)
    }

    private mutating func internFunction(fileId: Int32, nameId: Int32, line: Int64) -> Int32 {
        let f = builder.frames.frame(name: nameId, file: fileId, line: Int32(clamping: max(line, 0)),
                                     kind: fileId < 0 ? .native : .function, lineIsDefinition: true)
        let fn = builder.frames.frameFunction[Int(f)]
        while tt.count <= Int(fn) {
            tt.append(0); ct.append(0); nc.append(-1); cc.append(-1); isEntry.append(false)
        }
        return fn
    }

    /// One stats entry `(cc, nc, tt, ct, ...)` for function `fn`.
    @inline(__always)
    mutating func entry(_ fn: Int32, _ p0: Int64, _ p1: Int64, tt t: Double, ct c: Double) {
        let i = Int(fn)
        isEntry[i] = true
        // cProfile writes (cc, nc); yappi swaps them; pyinstrument writes -1 for both.
        cc[i] = min(p0, p1); nc[i] = max(p0, p1)
        tt[i] = t < 0 && t >= -1e-9 ? 0 : t
        ct[i] = c < 0 && c >= -1e-9 ? 0 : c
    }

    /// A caller edge; `isCount`: the caller value was a bare call count (pure `profile`).
    @inline(__always)
    mutating func edge(_ caller: Int32, _ callee: Int32, calls: Int64, ct: Double, isCount: Bool) {
        eCaller.append(caller)
        eCallee.append(callee)
        eCalls.append(calls)
        eCt.append(ct)
        eIsCount.append(isCount)
    }

    mutating func add(key: MValue, value: MValue, buf: UnsafeRawBufferPointer, at: Int) throws {
        if case .tuple(let t) = key, t.count == 1 { sampledMarker = true; return }
        guard let fn = function(key, buf: buf) else { skippedKeys += 1; return }
        guard case .tuple(let v) = value, v.count >= 5,
              let p0 = v[0].intValue, let p1 = v[1].intValue,
              let t = v[2].doubleValue, let c = v[3].doubleValue else {
            throw ProfileError("expected a stats tuple (cc, nc, tt, ct, callers)", offset: at)
        }
        entry(fn, p0, p1, tt: t, ct: c)
        guard case .dict(let callers) = v[4] else { return }
        for (ck, cv) in callers {
            guard let caller = function(ck, buf: buf) else { continue }
            switch cv {
            case .tuple(let e) where e.count >= 4:
                let a = e[0].intValue ?? -1, b = e[1].intValue ?? -1
                edge(caller, fn, calls: max(a, b), ct: e[3].doubleValue ?? 0, isCount: false)
            default:
                edge(caller, fn, calls: cv.intValue ?? -1, ct: 0, isCount: true)
            }
        }
    }

    mutating func finish() {
        if sampledMarker { return finishSampled() }     // Tachyon (PstatsSampled.swift)
        let F = builder.frames.functionCount
        while tt.count < F { tt.append(0); ct.append(0); nc.append(-1); cc.append(-1); isEntry.append(false) }
        // Int callers (pure `profile`) carry counts only: share the callee's time by calls.
        for e in 0..<eCt.count where eIsCount[e] {
            let callee = Int(eCallee[e])
            eCt[e] = nc[callee] > 0 ? ct[callee] * Double(max(eCalls[e], 0)) / Double(nc[callee]) : 0
        }
        let knownCalls = nc.contains { $0 >= 0 }
        builder.exactFunctions = FunctionTable(
            count: F, selfWeight: [tt], totalWeight: [ct],
            calls: knownCalls ? nc : nil, primitiveCalls: knownCalls ? cc : nil,
            edgeCaller: eCaller, edgeCallee: eCallee, edgeWeight: [eCt],
            edgeCalls: eCalls.contains { $0 >= 0 } ? eCalls : nil)
        if skippedKeys > 0 { builder.warnings.append("\(skippedKeys) entries with an unexpected key skipped") }
        if sampledMarker { builder.metadata.append(("sampled", "true")) }
        estimateTree(F)
    }

    /// Builds the estimated call tree top-down from the roots of the call graph
    /// (the shared algorithm in CallGraphEstimate.swift).
    mutating func estimateTree(_ F: Int) {
        CallGraphEstimate(count: F, selfWeight: [tt], totalWeight: [ct], calls: nc, primitiveCalls: cc,
                          isEntry: isEntry, edgeCaller: eCaller, edgeCallee: eCallee, edgeWeight: [eCt],
                          edgeCalls: eCalls).build(into: builder)
    }
}
