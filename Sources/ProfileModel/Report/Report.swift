/// `perftop report`: a function table like `pstats.print_stats` / `go tool pprof -top`,
/// followed by the hot path. The JSON form is a contract other tools and tests rely on.
public enum SortKey: String, CaseIterable, Sendable {
    case total, `self`, calls, name
}

public struct ReportOptions: Sendable {
    public var sort: SortKey = .total
    public var limit: Int? = nil
    public var metric: Int? = nil
    /// Full file paths instead of `DisplayPath`'s short ones (`--full-paths`; JSON always has them).
    public var fullPaths = false
    public init(sort: SortKey = .total, limit: Int? = nil, metric: Int? = nil) {
        self.sort = sort; self.limit = limit; self.metric = metric
    }
}

public struct FunctionRow: Sendable {
    public var function: Int32
    public var name: String
    public var file: String?
    public var line: Int?
    public var selfWeight: Double
    public var totalWeight: Double
    public var calls: Int64?
    public var primitiveCalls: Int64?

    /// `nc/cc` when they differ (recursion), as pstats prints it.
    public var callsText: String {
        guard let calls else { return "" }
        if let p = primitiveCalls, p != calls { return "\(calls)/\(p)" }
        return String(calls)
    }
}

public enum Report {
    /// Function rows, sorted; grouping frames (threads, processes) are not functions.
    public static func rows(_ p: Profile, metric: Int, sort: SortKey, descending: Bool = true) -> [FunctionRow] {
        topRows(p, metric: metric, sort: sort, limit: nil, descending: descending).rows
    }

    /// The first `limit` rows (all when nil) in `sort` order, and how many rows there are in all.
    /// Ranking works on function indices and their numbers; a row, with its strings, is made only
    /// for a function that is shown, and names are looked up only to break a tie: for 100k
    /// pstats functions, building and sorting every row cost twice the load.
    public static func topRows(_ p: Profile, metric: Int, sort: SortKey, limit: Int?,
                               descending: Bool = true) -> (rows: [FunctionRow], count: Int) {
        let ft = p.functions, frames = p.frames
        let sw = ft.selfWeight[metric], tw = ft.totalWeight[metric]
        let calls = ft.calls, primitive = ft.primitiveCalls
        @inline(__always) func callsOf(_ fn: Int) -> Int64? { calls.flatMap { $0[fn] >= 0 ? $0[fn] : nil } }
        var candidates: [Int32] = []
        candidates.reserveCapacity(ft.count)
        for fn in 0..<ft.count {
            if sw[fn] == 0 && tw[fn] == 0 && (callsOf(fn) ?? 0) == 0 && ft.nodes(of: Int32(fn)).isEmpty { continue }
            candidates.append(Int32(fn))
        }
        let all = candidates.count
        // The order of `sortRows`, on indices: numbers first, then name, file and index.
        var names: [String]? = nil
        if sort == .name { names = (0..<ft.count).map { frames.name(ofFunction: Int32($0)) } }
        @inline(__always) func name(_ f: Int32) -> String { names?[Int(f)] ?? frames.name(ofFunction: f) }
        func tie(_ a: Int32, _ b: Int32) -> Bool {
            let na = name(a), nb = name(b)
            if na != nb { return na < nb }
            let fa = frames.file(ofFunction: a) ?? "", fb = frames.file(ofFunction: b) ?? ""
            if fa != fb { return fa < fb }
            return a < b
        }
        func before(_ a: Int32, _ b: Int32) -> Bool {
            let (x, y) = descending ? (Int(a), Int(b)) : (Int(b), Int(a))
            switch sort {
            case .total:
                if tw[x] != tw[y] { return tw[x] > tw[y] }
                if sw[x] != sw[y] { return sw[x] > sw[y] }
            case .self:
                if sw[x] != sw[y] { return sw[x] > sw[y] }
                if tw[x] != tw[y] { return tw[x] > tw[y] }
            case .calls:
                let cx = callsOf(x) ?? -1, cy = callsOf(y) ?? -1
                if cx != cy { return cx > cy }
                if tw[x] != tw[y] { return tw[x] > tw[y] }
            case .name:
                return descending ? tie(a, b) : tie(b, a)
            }
            return tie(a, b)
        }
        var shown: [Int32]
        if let limit, limit < all / 4 {
            // Keep the best `limit` in order; most candidates lose to the last kept one at once.
            shown = []
            shown.reserveCapacity(limit + 1)
            for c in candidates {
                if shown.count == limit && (limit == 0 || !before(c, shown[limit - 1])) { continue }
                var lo = 0, hi = shown.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if before(c, shown[mid]) { hi = mid } else { lo = mid + 1 }
                }
                shown.insert(c, at: lo)
                if shown.count > limit { shown.removeLast() }
            }
        } else {
            candidates.sort(by: before)
            shown = limit.map { Array(candidates.prefix($0)) } ?? candidates
        }
        let rows = shown.map { f -> FunctionRow in
            let fn = Int(f)
            return FunctionRow(function: f, name: name(f), file: frames.file(ofFunction: f), line: frames.line(ofFunction: f),
                               selfWeight: sw[fn], totalWeight: tw[fn], calls: callsOf(fn),
                               primitiveCalls: primitive.flatMap { $0[fn] >= 0 ? $0[fn] : nil })
        }
        return (rows, all)
    }

    /// The call tree top-down, heaviest child first, like `go tool pprof -tree` / `perf report
    /// --stdio`: one line per node with total%, self% of the whole and the name; nodes under
    /// `minPercent` of the root are folded into an "N more" line.
    public static func tree(_ p: Profile, metric: Int, minPercent: Double = 1, maxDepth: Int = 64,
                            fullPaths: Bool = false) -> String {
        let t = p.tree
        let paths = DisplayPath(profile: p, enabled: !fullPaths)
        let rootTotal = t.totalWeight[metric][0]
        var out = "Call tree (total%, self%; nodes under \(minPercent)% of the root hidden):\n"
        guard rootTotal > 0 else { return out + "  (no samples)\n" }
        var stack: [(Int32, Int)] = t.children(0, by: metric).reversed().map { ($0, 0) }
        var hidden = [Int: Int]()
        while let (n, d) = stack.popLast() {
            let w = t.totalWeight[metric][Int(n)]
            if w / rootTotal * 100 < minPercent || d >= maxDepth { hidden[d, default: 0] += 1; continue }
            let fr = p.frames.frame(t.frame[Int(n)])
            let loc = location(file: fr.file.map(paths.short), line: fr.line)
            let totalPct: String = pad(ValueFormat.percent(w, of: rootTotal), 7)
            let selfPct: String = pad(ValueFormat.percent(t.selfWeight[metric][Int(n)], of: rootTotal), 7)
            let indent = String(repeating: "  ", count: min(d, 40))
            let name: String = fr.name.terminalSafe + (loc.isEmpty ? "" : "  " + loc.terminalSafe)
            out += totalPct + " " + selfPct + "  " + indent + name + "\n"
            for c in t.children(n, by: metric).reversed() { stack.append((c, d + 1)) }
        }
        let h = hidden.values.reduce(0, +)
        if h > 0 { out += "  (\(h) smaller nodes hidden)\n" }
        return TerminalSafe.escapeLines(out)
    }

    static func pad(_ s: String, _ w: Int) -> String {
        String(repeating: " ", count: max(0, w - s.count)) + s
    }

    public static func sortRows(_ rows: inout [FunctionRow], by sort: SortKey, descending: Bool = true) {
        func tie(_ a: FunctionRow, _ b: FunctionRow) -> Bool {
            if a.name != b.name { return a.name < b.name }
            if (a.file ?? "") != (b.file ?? "") { return (a.file ?? "") < (b.file ?? "") }
            return a.function < b.function
        }
        rows.sort { a, b in
            let (x, y) = descending ? (a, b) : (b, a)
            switch sort {
            case .total:
                if x.totalWeight != y.totalWeight { return x.totalWeight > y.totalWeight }
                if x.selfWeight != y.selfWeight { return x.selfWeight > y.selfWeight }
            case .self:
                if x.selfWeight != y.selfWeight { return x.selfWeight > y.selfWeight }
                if x.totalWeight != y.totalWeight { return x.totalWeight > y.totalWeight }
            case .calls:
                if (x.calls ?? -1) != (y.calls ?? -1) { return (x.calls ?? -1) > (y.calls ?? -1) }
                if x.totalWeight != y.totalWeight { return x.totalWeight > y.totalWeight }
            case .name:
                return descending ? tie(a, b) : tie(b, a)
            }
            return tie(a, b)
        }
    }

    public static func location(file: String?, line: Int?) -> String {
        guard let file else { return "" }
        if let line { return "\(file):\(line)" }
        return file
    }

    // MARK: text

    public static func text(_ p: Profile, options: ReportOptions = ReportOptions()) -> String {
        let metric = options.metric ?? p.defaultMetric
        let vt = p.metrics[metric]
        let total = p.total(metric: metric)
        let (rows, allCount) = topRows(p, metric: metric, sort: options.sort, limit: max(0, options.limit ?? 25))
        let shownCount = rows.count
        let paths = DisplayPath(profile: p, enabled: !options.fullPaths)
        let maxV = max(abs(total), rows.map { abs($0.totalWeight) }.max() ?? 0)
        let (div, suffix) = ValueFormat.scale(unit: vt.unit, maxValue: maxV)
        var out = ""
        let samples = p.sampleCount.map(String.init) ?? "n/a"
        out += "File: \(p.source.terminalSafe)  Format: \(p.format.terminalSafe)  Metric: \(vt.name.terminalSafe) (\(vt.unit.terminalSafe))"
        out += "  Total: \(ValueFormat.withUnit(total, unit: vt.unit))  Samples: \(samples)\n"
        if p.metrics.count > 1 {
            out += "Metrics: " + p.metrics.enumerated().map { $0.offset == metric ? "[\($0.element.description.terminalSafe)]" : $0.element.description.terminalSafe }
                .joined(separator: " ") + "\n"
        }
        if p.estimatedTree { out += "Note: the call tree is estimated from the call graph (this format records no stacks).\n" }
        for w in p.warnings { out += "Warning: \(w.terminalSafe)\n" }
        if let s = p.samplerNote { out += "Sampler: \(s)\n" }
        out += "Showing \(shownCount) of \(allCount) functions, sorted by \(options.sort.rawValue).\n\n"
        let hasCalls = p.functions.calls != nil
        let unitHead = suffix.isEmpty ? "" : " (\(suffix))"
        let selfHead = "self" + unitHead, totalHead = "total" + unitHead
        var table: [[String]] = [[selfHead, "self%", totalHead, "total%"] + (hasCalls ? ["calls"] : []) + ["function"]]
        for r in rows {
            var cells = [ValueFormat.number(r.selfWeight, divisor: div, suffix: suffix),
                         ValueFormat.percent(r.selfWeight, of: total),
                         ValueFormat.number(r.totalWeight, divisor: div, suffix: suffix),
                         ValueFormat.percent(r.totalWeight, of: total)]
            if hasCalls { cells.append(r.callsText) }
            let loc = location(file: r.file.map(paths.short), line: r.line)
            cells.append(r.name.terminalSafe + (loc.isEmpty ? "" : "  " + loc.terminalSafe))
            table.append(cells)
        }
        let cols = table[0].count
        var widths = [Int](repeating: 0, count: cols)
        for row in table { for (i, c) in row.enumerated() where i < cols - 1 { widths[i] = max(widths[i], c.count) } }
        for row in table {
            var line = ""
            for (i, c) in row.enumerated() {
                if i < cols - 1 { line += String(repeating: " ", count: widths[i] - c.count) + c + "  " }
                else { line += c }
            }
            out += line + "\n"
        }
        out += "\nHot path (heaviest child at each level):\n"
        let path = p.hotPath(metric: metric)
        let rootTotal = p.tree.totalWeight[metric][0]
        for (depth, n) in path.enumerated() {
            let f = p.tree.frame[Int(n)]
            let fr = p.frames.frame(f)
            let loc = location(file: fr.file.map(paths.short), line: fr.line)
            let pct = ValueFormat.percent(p.tree.totalWeight[metric][Int(n)], of: rootTotal)
            out += String(repeating: " ", count: max(0, 7 - pct.count)) + pct + "  "
                + String(repeating: "  ", count: min(depth, 40)) + fr.name.terminalSafe
                + (loc.isEmpty ? "" : "  " + loc.terminalSafe) + "\n"
        }
        if path.isEmpty { out += "  (no samples)\n" }
        return TerminalSafe.escapeLines(out)
    }

    // MARK: JSON

    public static func json(_ p: Profile, options: ReportOptions = ReportOptions()) -> String {
        let metric = options.metric ?? p.defaultMetric
        let rows = topRows(p, metric: metric, sort: options.sort, limit: options.limit.map { max(0, $0) }).rows
        var w = JSONWriter()
        w.open("{")
        w.key("file"); w.string(p.source)
        w.key("format"); w.string(p.format)
        w.key("metrics"); w.open("[")
        for m in p.metrics {
            w.open("{"); w.key("name"); w.string(m.name); w.key("unit"); w.string(m.unit); w.close("}")
        }
        w.close("]")
        w.key("metric"); w.string(p.metrics[metric].name)
        w.key("unit"); w.string(p.metrics[metric].unit)
        w.key("total"); w.number(p.total(metric: metric))
        w.key("samples"); if let s = p.sampleCount { w.number(Double(s)) } else { w.null() }
        w.key("estimated_tree"); w.bool(p.estimatedTree)
        w.key("functions"); w.open("[")
        for r in rows {
            w.open("{")
            w.key("name"); w.string(r.name)
            w.key("file"); if let f = r.file { w.string(f) } else { w.null() }
            w.key("line"); if let l = r.line { w.number(Double(l)) } else { w.null() }
            w.key("self"); w.number(r.selfWeight)
            w.key("total"); w.number(r.totalWeight)
            w.key("calls"); if let c = r.calls { w.number(Double(c)) } else { w.null() }
            w.key("primitive_calls"); if let c = r.primitiveCalls { w.number(Double(c)) } else { w.null() }
            w.close("}")
        }
        w.close("]")
        w.key("hot_path"); w.open("[")
        for n in p.hotPath(metric: metric) {
            let fr = p.frames.frame(p.tree.frame[Int(n)])
            w.open("{")
            w.key("name"); w.string(fr.name)
            w.key("file"); if let f = fr.file { w.string(f) } else { w.null() }
            w.key("line"); if let l = fr.line { w.number(Double(l)) } else { w.null() }
            w.key("kind"); w.string(fr.kind.description)
            w.key("self"); w.number(p.tree.selfWeight[metric][Int(n)])
            w.key("total"); w.number(p.tree.totalWeight[metric][Int(n)])
            w.close("}")
        }
        w.close("]")
        w.key("warnings"); w.open("[")
        for s in p.warnings { w.string(s) }
        w.close("]")
        // What the reader noted about the file (pprof's period and duration, trace event
        // phases, ...): pairs in the reader's order, so an array rather than an object.
        w.key("metadata"); w.open("[")
        for (k, v) in p.metadata { w.open("["); w.string(k); w.string(v); w.close("]") }
        w.close("]")
        w.close("}")
        return w.out + "\n"
    }
}

/// A small JSON writer: correct escaping, shortest round-trip numbers.
struct JSONWriter {
    public var out = ""
    var needComma: [Bool] = [false]
    var afterKey = false

    public init() {}

    mutating func separator() {
        if afterKey { afterKey = false; return }
        if needComma[needComma.count - 1] { out += "," }
        needComma[needComma.count - 1] = true
    }
    public mutating func open(_ c: String) { separator(); out += c; needComma.append(false) }
    public mutating func close(_ c: String) { needComma.removeLast(); out += c }
    public mutating func key(_ k: String) { separator(); out += JSONWriter.quote(k) + ":"; afterKey = true }
    public mutating func string(_ s: String) { separator(); out += JSONWriter.quote(s) }
    public mutating func null() { separator(); out += "null" }
    public mutating func bool(_ b: Bool) { separator(); out += b ? "true" : "false" }
    public mutating func number(_ d: Double) {
        separator()
        if !d.isFinite { out += "null" }
        else if d == d.rounded() && abs(d) < 9e15 { out += String(Int64(d)) }
        else { out += "\(d)" }
    }

    public static func quote(_ s: String) -> String {
        var o = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": o += "\\\""
            case "\\": o += "\\\\"
            case "\n": o += "\\n"
            case "\r": o += "\\r"
            case "\t": o += "\\t"
            default:
                // Every character a terminal must not see raw is written as a `\u` escape: the
                // JSON means the same, and `cat report.json` cannot drive the terminal.
                if TerminalSafe.isUnsafe(u) {
                    for unit in String(u).utf16 { o += "\\u" + String(unit, radix: 16).leftPad(4) }
                } else { o.unicodeScalars.append(u) }
            }
        }
        return o + "\""
    }
}
