/// `memray transform gprof2dot` (FORMATS.md §11): gprof2dot's JSON input,
/// `{"version":0,"costs":[{description, unit}],"events":[{"callchain":[function index, leaf
/// first],"cost":[...]}],"functions":[{"name","module"}]}`. Every cost is a metric. Functions
/// may come after the events, so the stacks are built by function index and mapped at the end.
public enum MemrayGprof2dotReader: ProfileReader {
    public static let name = "gprof2dot"
    public static let title = "gprof2dot JSON (memray transform gprof2dot)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        let info = JSONPrefix(prefix)
        guard info.container == .object, info.has("version"), let off = info.offset(of: "costs"),
              off < prefix.count, prefix[off] == 0x5B else { return .no }
        let (keys, _) = JSONPrefix.firstElementKeys(prefix, at: off)
        return keys.contains("description") || keys.contains("unit") ? .yes : .no
    }

    static let maxCosts = 64, maxDepth = 1 << 14, maxFunctions = 1 << 24

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        try read(input: JSONInput(source))
    }

    /// `scan` keeps the input (a mapped file's mapping) alive while the scanner reads it, and
    /// turns a file cut meanwhile by another process into the error the other readers give.
    static func read(input: JSONInput) throws -> ProfileBuilder {
        try input.scan { try parse($0) }
    }

    static func parse(_ buffer: UnsafeRawBufferPointer) throws -> ProfileBuilder {
        var s = JSONScanner(buffer, maxDepth: 64)
        var costs: [ValueType] = []
        var functions: [(String, String?)] = []
        // Stacks by function index (root first), with their costs, in a tree keyed by index.
        var tmp: ProfileBuilder? = nil
        var pendingEvents: [(chain: [Int32], cost: [Double])] = []    // events before "costs"
        var path: [Int32] = []
        var maxIndex: Int32 = -1, maxIndexAt = 0, events = 0
        func add(_ chain: [Int32], _ cost: [Double], into t: ProfileBuilder) {
            var n: Int32 = 0
            for f in chain { n = t.child(of: n, frame: f) }
            for (m, w) in cost.prefix(costs.count).enumerated() where w != 0 { t.addSelf(n, metric: m, w) }
        }
        try s.beginObject()
        while let k = try s.nextKey() {
            if k.equals("costs") {
                try s.beginArray()
                while try s.nextElement() {
                    var d = "cost \(costs.count + 1)", u = "count"
                    try s.beginObject()
                    while let ck = try s.nextKey() {
                        if ck.equals("description"), s.peekKind() == .string { d = try s.readStringValue() }
                        else if ck.equals("unit"), s.peekKind() == .string { u = try s.readStringValue() }
                        else { try s.skipValue() }
                    }
                    guard costs.count < maxCosts else { throw ProfileError("more than \(maxCosts) costs", offset: s.pos) }
                    costs.append(ValueType(d.lowercased(), u == "none" ? "count" : u))
                }
            } else if k.equals("events") {
                try s.beginArray()
                while try s.nextElement() {
                    var chain: [Int32] = [], cost: [Double] = []
                    let at = s.pos
                    try s.beginObject()
                    while let ek = try s.nextKey() {
                        if ek.equals("callchain") {
                            try s.beginArray()
                            while try s.nextElement() {
                                let i = try s.readInt()
                                guard i >= 0, i < maxFunctions else { throw ProfileError("function index \(i) out of range", offset: s.pos) }
                                guard chain.count < maxDepth else { throw ProfileError("callchain deeper than \(maxDepth)", offset: at) }
                                chain.append(Int32(i))
                                if Int32(i) > maxIndex { maxIndex = Int32(i); maxIndexAt = at }
                            }
                        } else if ek.equals("cost") {
                            try s.beginArray()
                            while try s.nextElement() {
                                let v = try s.readNumber()
                                guard v.isFinite else { throw ProfileError("cost is not a finite number", offset: s.pos) }
                                if cost.count < maxCosts { cost.append(v) }
                            }
                        } else { try s.skipValue() }
                    }
                    events += 1
                    path = chain.reversed()                       // leaf first in the file
                    if let t = tmp { add(path, cost, into: t) } else { pendingEvents.append((path, cost)) }
                }
            } else if k.equals("functions") {
                try s.beginArray()
                while try s.nextElement() {
                    var name = "?", module: String? = nil
                    try s.beginObject()
                    while let fk = try s.nextKey() {
                        if fk.equals("name"), s.peekKind() == .string { name = try s.readStringValue() }
                        else if fk.equals("module"), s.peekKind() == .string { module = try s.readStringValue() }
                        else { try s.skipValue() }
                    }
                    guard functions.count < maxFunctions else { throw ProfileError("too many functions", offset: s.pos) }
                    functions.append((name, module))
                }
            } else {
                try s.skipValue()
            }
            if tmp == nil && !costs.isEmpty {
                let t = ProfileBuilder(format: name, metrics: costs, defaultMetric: 0)
                for e in pendingEvents { add(e.chain, e.cost, into: t) }
                pendingEvents = []
                tmp = t
            }
        }
        s.skipWhitespace()
        guard s.atEnd else { throw s.failure("the end of the input") }
        guard let t = tmp else { throw ProfileError("no \"costs\" (expected gprof2dot JSON)", offset: 0) }
        if maxIndex >= Int32(functions.count) {
            throw ProfileError("an event names function \(maxIndex); \"functions\" has \(functions.count)", offset: maxIndexAt)
        }
        let b = ProfileBuilder(format: name, metrics: costs, defaultMetric: 0)
        var map = [Int32](repeating: -1, count: functions.count)
        for (i, f) in functions.enumerated() {
            map[i] = b.frames.frame(name: f.0, file: f.1.flatMap { $0.isEmpty ? nil : $0 }, line: nil, kind: .function)
        }
        b.addTree(parent: t.parent, frame: t.frame, selfWeight: t.selfWeight, frameMap: map)
        b.metadata.append(("events", String(events)))
        return b
    }
}
