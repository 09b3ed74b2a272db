/// Frames and functions. Every frame is stored once and named by an integer id.
///
/// A *frame* is what a stack holds: a function name, an optional file, an optional line and a kind.
/// A *function* groups frames by (name, file, definition line): sampled formats record the
/// executing line, so `f (a.py:70)` and `f (a.py:71)` are one function with two frames, while
/// deterministic formats (pstats, callgrind) record the definition line, which is part of the key.

public enum FrameKind: UInt8, Sendable, CustomStringConvertible {
    case function = 0, native, thread, process, special

    /// Thread and process frames group stacks; they are not functions.
    public var isGrouping: Bool { self == .thread || self == .process }

    public var description: String {
        switch self {
        case .function: "function"
        case .native: "native"
        case .thread: "thread"
        case .process: "process"
        case .special: "special"
        }
    }
}

public struct ValueType: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var unit: String
    public init(_ name: String, _ unit: String) { self.name = name; self.unit = unit }
    public var description: String { "\(name)/\(unit)" }
}

public struct Frame: Sendable, Equatable {
    public var name: String
    public var file: String?
    public var line: Int?
    public var kind: FrameKind
}

/// Frame and function tables in struct-of-arrays form. Strings live in one byte arena.
public struct FrameTable: Sendable {
    var strings = ByteInterner(capacity: 1024)
    // per frame
    public internal(set) var frameName: [Int32] = []
    public internal(set) var frameFile: [Int32] = []      // -1 = none
    public internal(set) var frameLine: [Int32] = []      // 0 = unknown
    public internal(set) var frameKind: [FrameKind] = []
    public internal(set) var frameFunction: [Int32] = []  // -1 for grouping frames
    // per function
    public internal(set) var functionName: [Int32] = []
    public internal(set) var functionFile: [Int32] = []
    public internal(set) var functionLine: [Int32] = []   // definition line, else the hottest (see `label`)
    public internal(set) var functionKind: [FrameKind] = []
    /// Whether the function's line is its definition (pstats, callgrind, pprof's start line),
    /// which sample weights never move.
    public internal(set) var functionLineIsDefinition: [Bool] = []

    /// (name, file) and (line, kind) → frame; (name, file) and definition line → function.
    private var frameIndex = WideKeyMap()
    private var functionIndex = WideKeyMap()
    /// What the two indexes key each entry by beyond (name, file), so that they can be
    /// rebuilt exactly (`ensureIndexed`): whether a frame is its function's merged frame
    /// (`functionFrame`), and the line a function is keyed by (-1: none; not its label line,
    /// which `label` and `define` move).
    private var frameMerged: [Bool] = []
    private var functionKeyLine: [Int32] = []
    /// False in a frozen profile's table (`withoutIndexes`): nothing looks frames up there
    /// unless a transform adds some, so the indexes are rebuilt then, not carried.
    private var indexed = true

    public init() {}

    /// This table without its lookup indexes (frame, function and string), which are most of
    /// its memory (~150 bytes a frame). A frozen profile reads frames by id only; a live
    /// stream's builder keeps inserting, and each snapshot that shared the indexes made it
    /// copy them all on its next insert and then kept a copy of its own.
    func withoutIndexes() -> FrameTable {
        var t = self
        t.frameIndex = WideKeyMap(capacity: 0)
        t.functionIndex = WideKeyMap(capacity: 0)
        t.strings.dropLookup()
        t.indexed = false
        return t
    }

    /// The frames `used` marks, in their order, with their functions and strings and nothing
    /// else, and each old frame's new id (-1: dropped) and each old function's. A live stream
    /// in a time window forgets what left it (`ProfileBuilder.compact`).
    func compacted(keeping used: [Bool]) -> (table: FrameTable, frameMap: [Int32], functionMap: [Int32]) {
        var t = FrameTable()
        t.indexed = false
        var stringMap = [Int32](repeating: -1, count: strings.count)
        func string(_ s: Int32) -> Int32 {
            guard s >= 0 else { return s }
            if stringMap[Int(s)] < 0 { stringMap[Int(s)] = strings.withBytes(s) { t.strings.append($0) } }
            return stringMap[Int(s)]
        }
        var frameMap = [Int32](repeating: -1, count: frameName.count)
        var functionMap = [Int32](repeating: -1, count: functionName.count)
        for f in 0..<min(used.count, frameName.count) where used[f] {
            frameMap[f] = Int32(t.frameName.count)
            let name = string(frameName[f]), file = string(frameFile[f])
            t.frameName.append(name)
            t.frameFile.append(file)
            t.frameLine.append(frameLine[f])
            t.frameKind.append(frameKind[f])
            t.frameMerged.append(frameMerged[f])
            let fn = Int(frameFunction[f])
            if fn >= 0 && functionMap[fn] < 0 {
                functionMap[fn] = Int32(t.functionName.count)
                let name = string(functionName[fn]), file = string(functionFile[fn])
                t.functionName.append(name)
                t.functionFile.append(file)
                t.functionLine.append(functionLine[fn])
                t.functionKind.append(functionKind[fn])
                t.functionLineIsDefinition.append(functionLineIsDefinition[fn])
                t.functionKeyLine.append(functionKeyLine[fn])
            }
            t.frameFunction.append(fn >= 0 ? functionMap[fn] : -1)
        }
        t.strings.dropLookup()
        return (t, frameMap, functionMap)
    }

    /// Rebuilds the indexes `withoutIndexes` dropped, from the columns.
    private mutating func ensureIndexed() {
        guard !indexed else { return }
        indexed = true
        var fi = WideKeyMap(capacity: frameName.count), fni = WideKeyMap(capacity: functionName.count)
        for f in 0..<frameName.count {
            let kind = frameKind[f]
            if kind == .special && frameFunction[f] < 0 { continue }      // a placeholder: never indexed
            let second = frameMerged[f] ? packPair(Int32.min, Int32(kind.rawValue)) : packPair(frameLine[f], Int32(kind.rawValue))
            fi[packPair(frameName[f], frameFile[f]), second] = Int32(f)
        }
        for fn in 0..<functionName.count {
            fni[packPair(functionName[fn], functionFile[fn]), UInt64(UInt32(bitPattern: functionKeyLine[fn]))] = Int32(fn)
        }
        frameIndex = fi
        functionIndex = fni
    }

    /// Room for about `frames` frames (and as many functions and strings), for a reader that
    /// can tell from its input's size: a 100k-function pstats file regrew and rehashed these
    /// tables a dozen times each.
    public mutating func reserve(frames n: Int, stringBytes: Int) {
        guard n > frameName.count else { return }
        ensureIndexed()
        frameMerged.reserveCapacity(n); functionKeyLine.reserveCapacity(n)
        strings.reserve(strings: n, bytes: stringBytes)
        frameName.reserveCapacity(n); frameFile.reserveCapacity(n); frameLine.reserveCapacity(n)
        frameKind.reserveCapacity(n); frameFunction.reserveCapacity(n)
        functionName.reserveCapacity(n); functionFile.reserveCapacity(n); functionLine.reserveCapacity(n)
        functionKind.reserveCapacity(n); functionLineIsDefinition.reserveCapacity(n)
        frameIndex.reserve(n)
        functionIndex.reserve(n)
    }

    public var frameCount: Int { frameName.count }
    public var functionCount: Int { functionName.count }

    public func name(ofFrame f: Int32) -> String { strings.string(frameName[Int(f)]) }
    public func file(ofFrame f: Int32) -> String? {
        let s = frameFile[Int(f)]; return s < 0 ? nil : strings.string(s)
    }
    public func line(ofFrame f: Int32) -> Int? {
        let l = frameLine[Int(f)]; return l <= 0 ? nil : Int(l)
    }
    public func frame(_ f: Int32) -> Frame {
        Frame(name: name(ofFrame: f), file: file(ofFrame: f), line: line(ofFrame: f), kind: frameKind[Int(f)])
    }
    public func name(ofFunction fn: Int32) -> String { strings.string(functionName[Int(fn)]) }
    public func file(ofFunction fn: Int32) -> String? {
        let s = functionFile[Int(fn)]; return s < 0 ? nil : strings.string(s)
    }
    public func line(ofFunction fn: Int32) -> Int? {
        let l = functionLine[Int(fn)]; return l <= 0 ? nil : Int(l)
    }

    /// Adds (or finds) a frame from interned string ids.
    /// `lineIsDefinition`: the line is the function's first line (pstats, callgrind), so it is
    /// part of the function's identity; otherwise the line is the executing line.
    public mutating func frame(name: Int32, file: Int32, line: Int32, kind: FrameKind,
                               lineIsDefinition: Bool = false) -> Int32 {
        ensureIndexed()
        let nameFile = packPair(name, file)
        let lineKind = packPair(line, Int32(kind.rawValue))
        if let f = frameIndex[nameFile, lineKind] { return f }
        let id = appendFrame(name: name, file: file, line: line, kind: kind, lineIsDefinition: lineIsDefinition)
        frameIndex[nameFile, lineKind] = id
        return id
    }

    /// A frame that stands for no function (an estimate's "(callees not recorded)"): kind
    /// `.special`, no function id, so function tables, which hold the file's own figures, gain
    /// no row. Not indexed: each call adds a frame, so callers keep the id.
    public mutating func placeholderFrame(name: String) -> Int32 {
        let id = Int32(frameName.count)
        frameName.append(strings.intern(name))
        frameFile.append(-1)
        frameLine.append(0)
        frameKind.append(.special)
        frameFunction.append(-1)
        frameMerged.append(false)
        return id
    }

    /// Adds a frame (not yet indexed) and finds or creates its function.
    private mutating func appendFrame(name: Int32, file: Int32, line: Int32, kind: FrameKind,
                                      lineIsDefinition: Bool) -> Int32 {
        let id = Int32(frameName.count)
        frameName.append(name)
        frameFile.append(file)
        frameLine.append(line)
        frameKind.append(kind)
        frameMerged.append(false)
        if kind.isGrouping {
            frameFunction.append(-1)
        } else {
            let nameFile = packPair(name, file)
            let defLine = UInt64(UInt32(bitPattern: lineIsDefinition ? line : -1))
            if let fn = functionIndex[nameFile, defLine] {
                frameFunction.append(fn)
                if !lineIsDefinition, line > 0, !functionLineIsDefinition[Int(fn)],
                   functionLine[Int(fn)] <= 0 || line < functionLine[Int(fn)] {
                    functionLine[Int(fn)] = line
                }
            } else {
                let fn = Int32(functionName.count)
                functionName.append(name)
                functionFile.append(file)
                functionLine.append(line)
                functionKind.append(kind)
                functionLineIsDefinition.append(lineIsDefinition && line > 0)
                functionKeyLine.append(Int32(bitPattern: UInt32(truncatingIfNeeded: defLine)))
                functionIndex[nameFile, defLine] = fn
                frameFunction.append(fn)
            }
        }
        return id
    }

    /// The one frame of a function when executing lines are merged at read time: frames of the
    /// same (name, file) share it, and its line is the smallest line seen (as `mergingLines`).
    public mutating func functionFrame(name: String, file: String?, line: Int?, kind: FrameKind = .function) -> Int32 {
        functionFrame(name: strings.intern(name), file: file.map { strings.intern($0) } ?? -1,
                      line: Int32(clamping: line ?? 0), kind: kind)
    }

    /// `functionFrame` as `mergingLines` maps a frame: every frame of a function goes to one
    /// frame of the function's kind (its first frame's), so a frame of another kind joins that
    /// one. Returns the frame and its function, for readers that merge lines while reading.
    public mutating func mergedLineFrame(name: String, file: String?, line: Int?, kind: FrameKind) -> (frame: Int32, function: Int32) {
        mergedLineFrame(name: strings.intern(name), file: file.map { strings.intern($0) } ?? -1,
                        line: Int32(clamping: line ?? 0), kind: kind)
    }

    /// `mergedLineFrame` from interned string ids (`file` -1 for none, `line` 0 for none).
    mutating func mergedLineFrame(name n: Int32, file fl: Int32, line l: Int32, kind: FrameKind) -> (frame: Int32, function: Int32) {
        var f = functionFrame(name: n, file: fl, line: l, kind: kind)
        let fn = frameFunction[Int(f)]
        if fn >= 0, functionKind[Int(fn)] != kind {
            f = functionFrame(name: n, file: fl, line: l, kind: functionKind[Int(fn)])
        }
        return (f, fn)
    }

    /// `functionFrame` from interned string ids (`file` -1 for none, `line` 0 for none).
    public mutating func functionFrame(name n: Int32, file fl: Int32, line l: Int32, kind: FrameKind = .function) -> Int32 {
        if kind.isGrouping { return frame(name: n, file: fl, line: l, kind: kind) }
        ensureIndexed()
        let nameFile = packPair(n, fl)
        let merged = packPair(Int32.min, Int32(kind.rawValue))
        let f: Int32
        if let known = frameIndex[nameFile, merged] {
            f = known
            let fn = Int(frameFunction[Int(f)])
            if l > 0, !functionLineIsDefinition[fn], functionLine[fn] <= 0 || l < functionLine[fn] { functionLine[fn] = l }
        } else {
            // Indexed only as the merged frame, so a line-level read into the same table (the
            // viewer's `L`) gets frames of its own.
            f = appendFrame(name: n, file: fl, line: l, kind: kind, lineIsDefinition: false)
            frameIndex[nameFile, merged] = f
            frameMerged[Int(f)] = true
        }
        frameLine[Int(f)] = functionLine[Int(frameFunction[Int(f)])]
        return f
    }

    public mutating func frame(name: String, file: String?, line: Int?, kind: FrameKind = .function,
                               lineIsDefinition: Bool = false) -> Int32 {
        let n = strings.intern(name)
        let f = file.map { strings.intern($0) } ?? -1
        let l = Int32(clamping: line ?? 0)
        return frame(name: n, file: f, line: l, kind: kind, lineIsDefinition: lineIsDefinition)
    }

    public mutating func intern(_ s: String) -> Int32 { strings.intern(s) }

    @inline(__always)
    public mutating func intern(_ p: UnsafeRawPointer, _ n: Int) -> Int32 { strings.intern(p, n) }

    /// Whether `f` is the one frame of its function that `functionFrame` made (lines merged).
    func isMerged(_ f: Int32) -> Bool { frameMerged[Int(f)] }

    /// Records `line` as the definition line of `frame`'s function (a format that stores where
    /// a function starts beside its executing lines, as pprof's `start_line`); its merged
    /// frame shows it.
    mutating func define(functionOf frame: Int32, line: Int32) {
        let fn = frameFunction[Int(frame)]
        guard fn >= 0, line > 0 else { return }
        functionLine[Int(fn)] = line
        functionLineIsDefinition[Int(fn)] = true
        if isMerged(frame) { frameLine[Int(frame)] = line }
    }

    /// Gives each function whose line is not its definition the line that holds most of its
    /// samples (`lines[function]`, 0 or beyond the array for none: `LineVotes.leader`), so a
    /// label never names a line sampled once beside the hot one. A merged frame (one per
    /// function, `functionFrame`) shows its function's line.
    mutating func label(lines: [Int32]) {
        guard !lines.isEmpty else { return }
        let n = min(lines.count, functionLine.count)
        for fn in 0..<n where lines[fn] > 0 && !functionLineIsDefinition[fn] { functionLine[fn] = lines[fn] }
        for f in 0..<frameName.count where frameMerged[f] {
            let fn = Int(frameFunction[f])
            if fn >= 0, fn < n, lines[fn] > 0, !functionLineIsDefinition[fn] { frameLine[f] = lines[fn] }
        }
    }

    /// "name (file:line)" as a report shows it.
    public func describe(function fn: Int32) -> String {
        let n = name(ofFunction: fn)
        guard let f = file(ofFunction: fn) else { return n }
        if let l = line(ofFunction: fn) { return "\(n)  \(f):\(l)" }
        return "\(n)  \(f)"
    }
}
