import Foundation

/// A function's (or node's, or the total's) fate across repeated runs.
public enum DiffVerdict: String, Sendable {
    case faster, slower, unchanged, inconclusive
    case measuredOnce = "measured once"
    public var isSignificant: Bool { self == .faster || self == .slower }
}

/// One quantity across the runs of both sides, in the diff's display unit, with its verdict.
public struct RunSeries: Sendable {
    public var base: [Double]
    public var new: [Double]
    /// median(new) - median(base).
    public var delta: Double
    /// The range of run-pair changes: min(new) - max(base) ... max(new) - min(base).
    public var low: Double, high: Double
    /// The test's p-value (before correction) and after Holm's correction, where a test ran.
    public var p: Double?
    public var adjustedP: Double?
    public var verdict: DiffVerdict
    public var baseMedian: Double { DiffStats.median(base) }
    public var newMedian: Double { DiffStats.median(new) }

    init(base: [Double], new: [Double]) {
        self.base = base
        self.new = new
        delta = DiffStats.median(new) - DiffStats.median(base)
        low = (new.min() ?? 0) - (base.max() ?? 0)
        high = (new.max() ?? 0) - (base.min() ?? 0)
        verdict = .unchanged
    }
}

/// `perftop diff A... --vs B...`: every function matched across any number of runs a side,
/// judged against the run-to-run noise the runs show (see `Method` and README "Diff statistics").
public struct RunsDiff: Sendable {
    public struct Side: Sendable {
        public var files: [String]
        public var formats: [String]
        /// Each run's total in its own metric and unit.
        public var totals: [Double]
        public var metrics: [ValueType]
        public var sampleCounts: [Int?]
        /// Every run sampled (not deterministic call counting).
        public var sampled: Bool
        public var metadata: [(String, String)]
        /// The bottleneck class (existing triage) of the run with the median total: title and share.
        public var bottleneck: (title: String, share: Double)?
    }

    public struct Row: Sendable {
        public var name: String
        public var file: String?
        public var line: Int?
        /// "both", "new" (in no base run) or "gone" (in no new run).
        public var status: String
        public var selfValues: RunSeries
        public var totalValues: RunSeries
    }

    public struct Node: Sendable {
        /// Function names from the root down.
        public var path: [String]
        public var values: RunSeries
    }

    public enum Method: String, Sendable {
        /// Exact permutation rank test (Wilcoxon-Mann-Whitney), Holm-corrected.
        case rankTest = "rank test"
        /// Every run of one side beyond every run of the other by at least the effect floor.
        case separation = "separation rule"
        /// One run a side, sampled: binomial sampling noise only, Holm-corrected.
        case samplingNoise = "sampling noise"
        case measuredOnce = "measured once"
        /// Too few runs for even all-runs-separated to mean much (fewer than 4 and 3): no verdict
        /// beyond unchanged or inconclusive.
        case tooFewRuns = "too few runs"
    }

    /// The separation rule needs the chance of complete separation under no change, 2/C(n+m, n),
    /// at most 2/35 (4 and 3 runs): with 3 and 3 it is 1 in 10 per function, about one false
    /// call per diff of a dozen functions.
    public static let separationMinimumP = 2.0 / 35

    public var base: Side
    public var new: Side
    /// Sorted: significant changes by size, then inconclusive ones by size, then unchanged.
    public var rows: [Row]
    /// Call-tree nodes (paths) at or above the effect floor on either side.
    public var nodes: [Node]
    public var total: RunSeries
    /// The total in the unit verdicts are judged in (`judgedUnit`): what the total line prints,
    /// since with --normalize every run's total is 100%.
    public var totalJudged: RunSeries
    public var judgedUnit: String
    public var functionMethod: Method
    public var totalMethod: Method
    public var nodeMethod: Method
    /// How many functions the functions' test corrected over.
    public var family: Int
    /// Values shown are shares of each run's total (percent).
    public var normalized: Bool
    /// Verdicts come from absolute values (false only when the runs' units cannot be compared).
    public var judgedAbsolute: Bool
    /// The display unit ("%" when normalized).
    public var unit: String
    public var metricName: String
    public var minEffect: Double
    public var alpha: Double
    /// Plain sentences on what could not be judged and why.
    public var notes: [String]

    public var runsPerSide: (Int, Int) { (base.files.count, new.files.count) }

    public static let singleRunSampledNote = "1 run a side: only sampling noise considered; repeat the runs to judge machine noise"
    public static let measuredOnceNote = "1 run a side of a deterministic profile: measured once, no verdict; repeat the runs to judge noise"

    /// Why two sets of runs cannot be diffed at all (the command's exit-2 errors).
    public struct Incomparable: Error, CustomStringConvertible {
        public var file: String
        public var description: String
    }

    /// Seconds per unit for time units, nil for others.
    static func secondsPer(_ unit: String) -> Double? {
        switch unit {
        case "seconds": return 1
        case "milliseconds": return 1e-3
        case "microseconds": return 1e-6
        case "nanoseconds": return 1e-9
        default: return nil
        }
    }

    /// What a metric measures, coarsely: time (and samples of time) or memory.
    static func dimension(_ v: ValueType) -> String {
        if v.unit == "bytes" || v.name.lowercased().contains("alloc") || v.name.lowercased().contains("memory") { return "memory" }
        return "time"
    }

    static func interval(_ p: Profile) -> Double? {
        guard let v = p.metadata.first(where: { $0.0 == "interval" })?.1 else { return nil }
        return Double(v.split(separator: " ").first ?? "")
    }

    /// Per-run values of each function, keyed so that the same function of the same program
    /// matches across runs: (name, file, definition line) when every run records definition
    /// lines (pstats), (name, file) for samplers, and across formats the loose key of
    /// `ProfileDiff` (last part of a dotted name, the file's base name).
    struct RunTable {
        var selfByKey: [String: Double] = [:]
        var totalByKey: [String: Double] = [:]
        var info: [String: (name: String, file: String?, line: Int?, weight: Double)] = [:]
        /// Total per call path (ids of `PathInterner`).
        var nodeTotals: [Int: Double] = [:]
    }

    /// Call paths shared by all runs as (parent path, function key) pairs, so a path costs one
    /// entry however deep it is.
    final class PathInterner {
        struct Step: Hashable { let parent: Int; let part: Int }
        var parts: [String: Int] = [:]
        var steps: [Step: Int] = [:]
        var parent: [Int] = []
        var label: [String] = []

        func part(_ s: String) -> Int {
            if let i = parts[s] { return i }
            parts[s] = parts.count
            return parts.count - 1
        }

        /// The path one step below `parent` (-1: the root), with `label` for display.
        func path(_ parent: Int, _ part: Int, _ label: @autoclosure () -> String) -> Int {
            let s = Step(parent: parent, part: part)
            if let i = steps[s] { return i }
            steps[s] = self.parent.count
            self.parent.append(parent)
            self.label.append(label())
            return self.parent.count - 1
        }

        func names(_ id: Int) -> [String] {
            var out: [String] = [], x = id
            while x >= 0 { out.append(label[x]); x = parent[x] }
            return out.reversed()
        }
    }

    /// The most frame names the tree's paths hold in all (see where `nodes` is made).
    static let maxTreeNames = 4_000_000

    static func key(_ p: Profile, _ f: Int32, lines: Bool, loose: Bool) -> String {
        let name = p.frames.name(ofFunction: f), file = p.frames.file(ofFunction: f)
        if loose {
            let short = name.hasPrefix("<") ? name : name.split(separator: ".").last.map(String.init) ?? name
            return short + "\u{0}" + (file.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "")
        }
        return name + "\u{0}" + (file ?? "") + (lines ? "\u{0}\(p.frames.line(ofFunction: f) ?? 0)" : "")
    }

    static func table(_ p: Profile, metric m: Int, scale: Double, lines: Bool, loose: Bool, paths: PathInterner) -> RunTable {
        var t = RunTable()
        var keys = [Int](repeating: 0, count: p.functions.count)
        for f in 0..<p.functions.count {
            let k = key(p, Int32(f), lines: lines, loose: loose)
            keys[f] = paths.part(k)
            let s = p.functions.selfWeight[m][f] * scale, w = p.functions.totalWeight[m][f] * scale
            t.selfByKey[k, default: 0] += s
            t.totalByKey[k, default: 0] += w
            // Any weight (a negative one too) names the key: the rows take their names from it.
            if w >= t.info[k]?.weight ?? -.infinity {
                t.info[k] = (p.frames.name(ofFunction: Int32(f)), p.frames.file(ofFunction: Int32(f)), p.frames.line(ofFunction: Int32(f)), w)
            }
        }
        // Nodes by their path of function keys; grouping frames (threads, processes) by name.
        let tree = p.tree
        guard tree.count > 1 else { return t }
        var path = [Int](repeating: -1, count: tree.count)
        for n in 1..<tree.count {
            let parent = Int(tree.parent[n]), fr = tree.frame[n]
            var part = paths.part("\u{1}?")
            var fn: Int32 = -1
            if fr >= 0 {
                fn = p.frames.frameFunction[Int(fr)]
                part = fn >= 0 ? keys[Int(fn)] : paths.part("\u{1}" + p.frames.name(ofFrame: fr))
            }
            path[n] = paths.path(parent == 0 ? -1 : path[parent], part,
                                 fr < 0 ? "?" : fn >= 0 ? p.frames.name(ofFunction: fn) : p.frames.name(ofFrame: fr))
            t.nodeTotals[path[n], default: 0] += tree.totalWeight[m][n] * scale
        }
        return t
    }

    public init(base: [Profile], baseFiles: [String], new: [Profile], newFiles: [String],
                normalize: Bool = false, minEffect: Double = 0.01, alpha: Double = 0.05) throws {
        precondition(!base.isEmpty && !new.isEmpty && base.count == baseFiles.count && new.count == newFiles.count)
        let all = base + new, files = baseFiles + newFiles
        let metrics = all.map { $0.metrics[$0.defaultMetric] }
        for (i, v) in metrics.enumerated() where RunsDiff.dimension(v) != RunsDiff.dimension(metrics[0]) {
            throw Incomparable(file: files[i], description: "its metric \(v.description) cannot be compared with \(metrics[0].description) of \(files[0])")
        }
        // Absolute values compare when the units agree, or are both time units (converted to
        // seconds). Sample counts compare as they are unless the files record different
        // sampling intervals, then they are scaled to the first run's interval.
        let units = Set(metrics.map(\.unit))
        let timeUnits = metrics.allSatisfy { RunsDiff.secondsPer($0.unit) != nil }
        let comparable = units.count == 1 || timeUnits
        var scales = [Double](repeating: 1, count: all.count)
        var unit = metrics[0].unit
        if units.count > 1 && timeUnits {
            scales = metrics.map { RunsDiff.secondsPer($0.unit)! }
            unit = "seconds"
        } else if units.count == 1 {
            let iv = all.map(RunsDiff.interval)
            if let i0 = iv[0], iv.allSatisfy({ $0 != nil }), Set(iv.map { $0! }).count > 1, RunsDiff.secondsPerUnitIsSample(metrics[0]) {
                scales = iv.map { $0! / i0 }
            }
        }
        let totals = all.enumerated().map { $1.total(metric: $1.defaultMetric) }
        self.minEffect = minEffect
        self.alpha = alpha
        judgedAbsolute = comparable
        let normalized = normalize || !comparable
        self.normalized = normalized
        self.unit = normalized ? "%" : unit
        judgedUnit = comparable ? unit : "%"
        metricName = metrics[0].name
        notes = []
        let lines = all.allSatisfy(\.estimatedTree), loose = Set(all.map(\.format)).count > 1
        let interner = PathInterner()
        let tables = all.enumerated().map { RunsDiff.table($1, metric: $1.defaultMetric, scale: scales[$0], lines: lines, loose: loose, paths: interner) }
        let nb = base.count, nn = new.count

        func side(_ ps: ArraySlice<Profile>, _ fs: [String], _ ts: ArraySlice<Double>) -> Side {
            let ps = Array(ps), ts = Array(ts)
            let mid = ts.indices.sorted { ts[$0] < ts[$1] }[(ts.count - 1) / 2]
            let p = ps[mid], m = p.defaultMetric
            let triage = Triage(p, metric: m)
            let top = triage.classes.max { $0.weight < $1.weight }
            return Side(files: fs, formats: ps.map(\.format), totals: ts, metrics: ps.map { $0.metrics[$0.defaultMetric] },
                        sampleCounts: ps.map(\.sampleCount), sampled: ps.allSatisfy { !$0.estimatedTree && $0.sampleCount != nil },
                        metadata: ps[0].metadata,
                        bottleneck: top.map { ($0.title, triage.total > 0 ? $0.weight / triage.total : 0) })
        }
        self.base = side(all[0..<nb], baseFiles, totals[0..<nb])
        self.new = side(all[nb...], newFiles, totals[nb...])

        // Judged values: absolute where comparable, else shares; shown values: shares when normalized.
        let absTotals = totals.enumerated().map { $1 * scales[$0] }
        func judged(_ v: Double, run r: Int) -> Double { comparable ? v : (absTotals[r] != 0 ? v / absTotals[r] * 100 : 0) }
        func shown(_ v: Double, run r: Int) -> Double { normalized ? (absTotals[r] != 0 ? v / absTotals[r] * 100 : 0) : v }
        let judgedTotals = (0..<all.count).map { judged(absTotals[$0], run: $0) }
        let floor = minEffect * DiffStats.median(Array(judgedTotals[0..<nb]))
        // Per-sample value on each run, to turn a value back into a sample count (sampling noise).
        let sampledBoth = base.allSatisfy { !$0.estimatedTree && $0.sampleCount != nil } && new.allSatisfy { !$0.estimatedTree && $0.sampleCount != nil }
        let perSample: [Double] = (0..<all.count).map { r in
            guard let c = all[r].sampleCount, c > 0 else { return 0 }
            return judgedTotals[r] / Double(c)
        }
        let repeated = nb >= 2 && nn >= 2

        struct Item { var judged: RunSeries; var shown: RunSeries }
        func item(_ values: [Double]) -> Item {
            Item(judged: RunSeries(base: (0..<nb).map { judged(values[$0], run: $0) }, new: (nb..<all.count).map { judged(values[$0], run: $0) }),
                 shown: RunSeries(base: (0..<nb).map { shown(values[$0], run: $0) }, new: (nb..<all.count).map { shown(values[$0], run: $0) }))
        }
        /// The change sampling alone could make (1.96 sd of the difference of two Poisson counts), in judged units.
        func samplingNoise(_ s: RunSeries) -> Double {
            guard sampledBoth else { return 0 }
            let pb = DiffStats.median(Array(perSample[0..<nb])), pn = DiffStats.median(Array(perSample[nb...]))
            guard pb > 0, pn > 0 else { return 0 }
            let cb = s.baseMedian / pb, cn = s.newMedian / pn
            return 1.96 * (cb + cn).squareRoot() * (pb + pn) / 2
        }

        var chosen: [Method] = []
        /// Judges one family (the functions, the nodes, or the total alone); returns the method used.
        func judge(_ items: inout [Item]) -> Method {
            let inFamily = items.indices.filter { max(items[$0].judged.baseMedian, items[$0].judged.newMedian) >= floor && floor > 0 }
            let method: Method
            if !repeated && !sampledBoth { method = .measuredOnce }
            else if !repeated { method = .samplingNoise }
            else if DiffStats.minimumP(nb, nn) * Double(max(1, inFamily.count)) <= alpha { method = .rankTest }
            else { method = DiffStats.minimumP(nb, nn) <= RunsDiff.separationMinimumP + 1e-12 ? .separation : .tooFewRuns }
            var raw = [Double](repeating: 1, count: items.count)
            for i in inFamily {
                let s = items[i].judged
                switch method {
                case .rankTest, .separation, .tooFewRuns: raw[i] = DiffStats.rankTestP(s.base, s.new)
                case .samplingNoise:
                    // One run a side (or the medians of a side): counts, Poisson / binomial.
                    let pb = DiffStats.median(Array(perSample[0..<nb])), pn = DiffStats.median(Array(perSample[nb...]))
                    let a = pb > 0 ? s.baseMedian / pb : 0, b = pn > 0 ? s.newMedian / pn : 0
                    if comparable {
                        raw[i] = a + b > 0 ? DiffStats.normalP((b - a) / (a + b).squareRoot()) : 1
                    } else {
                        let na = DiffStats.median(base.map { Double($0.sampleCount ?? 0) }), nnw = DiffStats.median(new.map { Double($0.sampleCount ?? 0) })
                        let pooled = (a + b) / max(1, na + nnw)
                        let sd = (pooled * (1 - pooled) * (1 / max(1, na) + 1 / max(1, nnw))).squareRoot()
                        raw[i] = sd > 0 ? DiffStats.normalP((b / max(1, nnw) - a / max(1, na)) / sd) : 1
                    }
                case .measuredOnce: break
                }
            }
            let adjusted = DiffStats.holm(inFamily.map { raw[$0] })
            var adj = [Double](repeating: 1, count: items.count)
            var tested = [Bool](repeating: false, count: items.count)
            for (k, i) in inFamily.enumerated() { adj[i] = adjusted[k]; tested[i] = true }
            for i in items.indices {
                var s = items[i].judged
                if method == .measuredOnce { items[i].shown.verdict = .measuredOnce; continue }
                let tested = tested[i]
                if tested { s.p = raw[i]; s.adjustedP = adj[i] }
                let size = abs(s.delta), noise = max(floor, samplingNoise(s))
                var significant = false
                if tested && size >= noise {
                    switch method {
                    case .rankTest, .samplingNoise: significant = adj[i] <= alpha
                    case .separation:
                        // Every run-pair change beyond the noise floor, all in one direction, and the
                        // relative change larger than the relative spread within either side: load
                        // scales every function of a run alike, so a change no larger than that
                        // variation is what chance separation of few runs looks like.
                        let c = max(floor, 1e-300)
                        func logSpread(_ xs: [Double]) -> Double { log(((xs.max() ?? 0) + c) / ((xs.min() ?? 0) + c)) }
                        let logChange = abs(log((s.newMedian + c) / (s.baseMedian + c)))
                        significant = (s.low >= noise || s.high <= -noise) && logChange > max(logSpread(s.base), logSpread(s.new))
                    case .measuredOnce, .tooFewRuns: break
                    }
                }
                var v: DiffVerdict = significant ? (s.delta < 0 ? .faster : .slower) : size < noise || size == 0 ? .unchanged : .inconclusive
                // Shares alone cannot tell a function that grew from one whose rest shrank.
                if !comparable && v.isSignificant { v = .inconclusive }
                items[i].shown.verdict = v
                items[i].shown.p = s.p
                items[i].shown.adjustedP = s.adjustedP
            }
            chosen.append(method)
            return method
        }

        // The total.
        var totalItems = [item(absTotals)]
        totalMethod = judge(&totalItems)
        total = totalItems[0].shown
        totalJudged = totalItems[0].judged
        totalJudged.verdict = total.verdict

        // Functions.
        var keys: [String] = []
        var seen = Set<String>()
        for t in tables { for k in t.selfByKey.keys.sorted() where !seen.contains(k) { seen.insert(k); keys.append(k) } }
        var selfItems = keys.map { k in item(tables.map { $0.selfByKey[k] ?? 0 }) }
        let totalSeries = keys.map { k in item(tables.map { $0.totalByKey[k] ?? 0 }).shown }
        functionMethod = judge(&selfItems)
        family = selfItems.filter { $0.shown.p != nil }.count
        var rows: [Row] = []
        for (i, k) in keys.enumerated() {
            let inBase = tables[0..<nb].contains { $0.info[k] != nil }, inNew = tables[nb...].contains { $0.info[k] != nil }
            let info = tables[nb...].compactMap { $0.info[k] }.max { $0.weight < $1.weight } ?? tables[0..<nb].compactMap { $0.info[k] }.max { $0.weight < $1.weight }!
            let r = Row(name: info.name, file: info.file, line: info.line, status: inBase && inNew ? "both" : inNew ? "new" : "gone",
                        selfValues: selfItems[i].shown, totalValues: totalSeries[i])
            if r.selfValues.base.contains(where: { $0 != 0 }) || r.selfValues.new.contains(where: { $0 != 0 })
                || r.totalValues.base.contains(where: { $0 != 0 }) || r.totalValues.new.contains(where: { $0 != 0 }) { rows.append(r) }
        }
        func rank(_ v: DiffVerdict) -> Int { v.isSignificant ? 0 : v == .inconclusive ? 1 : 2 }
        self.rows = rows.sorted { a, b in
            let ra = rank(a.selfValues.verdict), rb = rank(b.selfValues.verdict)
            if ra != rb { return ra < rb }
            if abs(a.selfValues.delta) != abs(b.selfValues.delta) { return abs(a.selfValues.delta) > abs(b.selfValues.delta) }
            if abs(a.totalValues.delta) != abs(b.totalValues.delta) { return abs(a.totalValues.delta) > abs(b.totalValues.delta) }
            return (a.name, a.file ?? "", a.line ?? 0) < (b.name, b.file ?? "", b.line ?? 0)
        }

        // Tree nodes: paths at or above the effect floor on either side (in judged units).
        // A path below the floor in every run is below it in every median: skip it before building its series.
        var paths = Array(0..<interner.parent.count).filter { id in
            (0..<all.count).contains { r in judged(tables[r].nodeTotals[id] ?? 0, run: r) >= floor }
        }
        var nodeItems = paths.map { id in item(tables.map { $0.nodeTotals[id] ?? 0 }) }
        let keep = nodeItems.indices.filter { max(nodeItems[$0].judged.baseMedian, nodeItems[$0].judged.newMedian) >= floor }
        paths = keep.map { paths[$0] }
        nodeItems = keep.map { nodeItems[$0] }
        nodeMethod = judge(&nodeItems)
        // Each node carries its whole path, so a very deep tree (a stack thousands of frames deep,
        // every node of it kept) would take memory and output quadratic in its depth: whole depth
        // levels are kept, shallowest first, up to `maxTreeNames` names in all; a note says where
        // the tree stops.
        var depth = [Int32](repeating: 0, count: interner.parent.count)
        for id in depth.indices { depth[id] = interner.parent[id] < 0 ? 1 : depth[interner.parent[id]] + 1 }
        var perDepth: [Int: Int] = [:]
        for i in paths.indices { perDepth[Int(depth[paths[i]]), default: 0] += 1 }
        var names = 0, deepest = Int.max
        for (d, count) in perDepth.sorted(by: { $0.key < $1.key }) {
            names += d * count
            if names > RunsDiff.maxTreeNames { deepest = d - 1; break }
        }
        if deepest < Int.max {
            let cut = paths.indices.filter { Int(depth[paths[$0]]) > deepest }.count
            notes.append("tree: \(cut) path(s) deeper than \(deepest) frames left out (the tree lists at most \(RunsDiff.maxTreeNames) frame names)")
        }
        nodes = paths.indices.filter { Int(depth[paths[$0]]) <= deepest }
            .map { i in Node(path: interner.names(paths[i]), values: nodeItems[i].shown) }
            .sorted { $0.path.count != $1.path.count ? $0.path.count < $1.path.count : $0.path.lexicographicallyPrecedes($1.path) }

        if !repeated && sampledBoth { notes.append(RunsDiff.singleRunSampledNote) }
        if !repeated && !sampledBoth { notes.append(RunsDiff.measuredOnceNote) }
        if !repeated && max(nb, nn) > 1 { notes.append("one side has a single run: judged as one run a side, the other side by its median run") }
        if !comparable {
            notes.append("units differ (\(units.sorted().joined(separator: ", "))): only shares compare, and a share can move because the rest moved, so no change is called faster or slower")
        }
        if functionMethod == .tooFewRuns {
            notes.append("\(nb) and \(nn) runs are too few to call any function faster or slower (all runs separated happens by chance with p \(ValueFormat.fixed(DiffStats.minimumP(nb, nn), 3))); take at least 4 and 3")
        }
        if functionMethod == .separation {
            notes.append("\(nb) and \(nn) runs are too few for a corrected rank test over \(family) functions (smallest possible p \(ValueFormat.fixed(DiffStats.minimumP(nb, nn), 4))); functions are judged by the separation rule")
        }
        let unclear = rows.filter { $0.selfValues.verdict == .inconclusive }.count
        if unclear > 0 { notes.append("\(unclear) function\(unclear == 1 ? "" : "s") changed by at least the effect floor without being shown beyond the run-to-run noise: inconclusive") }
        _ = chosen
    }

    /// Whether a count metric's samples each stand for one sampling interval.
    static func secondsPerUnitIsSample(_ v: ValueType) -> Bool { v.unit == "count" && dimension(v) == "time" }

    /// One line naming the method, as the outputs print it.
    public var methodLine: String {
        let (nb, nn) = runsPerSide
        let runs = "\(nb) run\(nb == 1 ? "" : "s") vs \(nn) run\(nn == 1 ? "" : "s")"
        let floorText = "effect floor \(ValueFormat.fixed(minEffect * 100, minEffect * 100 < 1 ? 1 : 0))% of the base total"
        let on = judgedAbsolute ? "absolute values" : "shares"
        switch functionMethod {
        case .rankTest:
            return "\(runs), \(on): exact Mann-Whitney rank test, Holm-corrected over \(family) functions, alpha \(alpha), \(floorText)"
        case .separation:
            return "\(runs), \(on): separation rule (every run of one side beyond every run of the other by at least the effect floor, and the change larger than the spread within either side, on a log scale), \(floorText); total: \(totalMethod == .rankTest ? "exact Mann-Whitney rank test" : "separation rule")"
        case .samplingNoise:
            return "\(runs), \(on): binomial sampling noise only (Poisson z test, Holm-corrected over \(family) functions), \(floorText)"
        case .measuredOnce:
            return "\(runs): measured once, no verdict"
        case .tooFewRuns:
            return "\(runs), \(on): too few runs for a verdict beyond unchanged or inconclusive, \(floorText)"
        }
    }

    /// Short form for the viewer's status line: `10v4 runs: rank test`.
    public var methodShort: String {
        let (nb, nn) = runsPerSide
        let m: String
        switch functionMethod {
        case .rankTest: m = "rank test"
        case .separation: m = "separation"
        case .samplingNoise: m = "sampling noise"
        case .measuredOnce: m = "measured once"
        case .tooFewRuns: m = "too few runs"
        }
        return "\(nb)v\(nn) runs: \(m)"
    }
}

/// What the viewer needs of a `RunsDiff` to colour only significant changes: the verdict of
/// each function and call path (looked up by name and file's base name, so the profile on screen
/// need not be the one the runs were judged on), the method for the status line, and the
/// largest significant change to open on.
public struct DiffVerdicts: Sendable {
    public var byFunction: [String: DiffVerdict] = [:]
    public var byPath: [String: DiffVerdict] = [:]
    public var status: String
    public var largest: (name: String, file: String?)?
    /// The total's verdict (the root of the tree and of the flame graph).
    public var total: DiffVerdict

    public static func key(_ name: String, _ file: String?) -> String {
        name + "\u{0}" + (file.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "")
    }

    public init(_ d: RunsDiff) {
        status = d.methodShort
        total = d.total.verdict
        for r in d.rows {
            let k = DiffVerdicts.key(r.name, r.file)
            // Two rows can share a loose key (same-named functions of one file): a significant verdict wins.
            if byFunction[k]?.isSignificant != true { byFunction[k] = r.selfValues.verdict }
        }
        for n in d.nodes { byPath[n.path.joined(separator: "\u{2}")] = n.values.verdict }
        largest = d.rows.first { $0.selfValues.verdict.isSignificant }.map { ($0.name, $0.file) }
    }

    public func verdict(name: String, file: String?) -> DiffVerdict? { byFunction[DiffVerdicts.key(name, file)] }
    public func verdict(path: [String]) -> DiffVerdict? { byPath[path.joined(separator: "\u{2}")] }
}
