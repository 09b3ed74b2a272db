/// `perftop diff BASE NEW`: functions matched across two profiles of any formats (as
/// `ProfileDiff` matches them), with the change in self and total. Sorted by self delta, largest regression first,
/// so improvements sit at the bottom, the biggest last.
public struct DiffRow: Sendable {
    public var name: String
    public var file: String?
    /// The function's line as NEW records it (definition line, or the smallest executing line).
    public var line: Int?
    public var baseSelf: Double, newSelf: Double
    public var baseTotal: Double, newTotal: Double
    public var status: String           // "changed", "new" (only in NEW) or "gone" (only in BASE)
    public var deltaSelf: Double { newSelf - baseSelf }
    public var deltaTotal: Double { newTotal - baseTotal }
}

public struct Diff: Sendable {
    public var rows: [DiffRow]
    public var baseTotal: Double
    public var newTotal: Double
    /// Values are shares of each profile's total (percent) rather than absolute values.
    public var normalized: Bool
    public var metric: ValueType
    /// The base's metric (its unit can differ: samples against seconds).
    public var baseMetricType: ValueType

    /// `normalize` nil chooses (`ProfileDiff.normalizesByDefault`): shares when the units differ
    /// or both are sampled with different sample counts.
    public init(base: Profile, new: Profile, baseMetric: Int, newMetric: Int, normalize: Bool?) {
        let bt = base.total(metric: baseMetric), nt = new.total(metric: newMetric)
        normalized = normalize ?? ProfileDiff.normalizesByDefault(base: base, baseMetric: baseMetric, new: new, newMetric: newMetric)
        metric = new.metrics[newMetric]
        baseMetricType = base.metrics[baseMetric]
        baseTotal = bt
        newTotal = nt
        let bs = normalized && bt != 0 ? 100 / bt : 1, ns = normalized && nt != 0 ? 100 / nt : 1
        // Functions match as the viewer matches them (ProfileDiff: (name, file), loosely across
        // formats, same-named functions of a file paired by line). A row is a group of functions
        // joined by matches, so nothing is counted twice; it is named as NEW names its
        // heaviest function.
        let d = ProfileDiff(base: base, baseMetric: baseMetric, new: new, newMetric: newMetric, normalized: false)
        let N = new.functions.count
        var group = Array(0..<(N + base.functions.count))
        func root(_ x: Int) -> Int {
            var x = x
            while group[x] != x { group[x] = group[group[x]]; x = group[x] }
            return x
        }
        for f in 0..<N { for b in d.baseMatches(Int32(f)) { group[root(N + Int(b))] = root(f) } }
        var byGroup: [Int: DiffRow] = [:]
        var heaviest: [Int: Double] = [:]
        for f in 0..<N {
            let g = root(f)
            var r = byGroup[g] ?? DiffRow(name: "", file: nil, line: nil, baseSelf: 0, newSelf: 0, baseTotal: 0, newTotal: 0,
                                          status: d.baseMatches(Int32(f)).isEmpty ? "new" : "changed")
            let w = new.functions.totalWeight[newMetric][f]
            if r.name.isEmpty || w > heaviest[g] ?? 0 {
                heaviest[g] = w
                r.name = new.frames.name(ofFunction: Int32(f))
                r.file = new.frames.file(ofFunction: Int32(f))
                r.line = new.frames.line(ofFunction: Int32(f))
            }
            r.newSelf += new.functions.selfWeight[newMetric][f] * ns
            r.newTotal += w * ns
            byGroup[g] = r
        }
        for b in 0..<base.functions.count {
            let g = root(N + b)
            var r = byGroup[g] ?? DiffRow(name: base.frames.name(ofFunction: Int32(b)), file: base.frames.file(ofFunction: Int32(b)),
                                          line: base.frames.line(ofFunction: Int32(b)), baseSelf: 0, newSelf: 0, baseTotal: 0,
                                          newTotal: 0, status: "gone")
            r.baseSelf += base.functions.selfWeight[baseMetric][b] * bs
            r.baseTotal += base.functions.totalWeight[baseMetric][b] * bs
            byGroup[g] = r
        }
        let byKey = byGroup
        rows = byKey.values.filter { $0.baseTotal != 0 || $0.newTotal != 0 || $0.baseSelf != 0 || $0.newSelf != 0 }
            .sorted { a, b in
                if a.deltaSelf != b.deltaSelf { return a.deltaSelf > b.deltaSelf }
                if a.deltaTotal != b.deltaTotal { return a.deltaTotal > b.deltaTotal }
                return (a.name, a.file ?? "", a.line ?? 0) < (b.name, b.file ?? "", b.line ?? 0)
            }
    }

    /// A table to paste into a pull request: base, new, delta and delta% of the base total.
    public func text(baseName: String, newName: String, limit: Int?) -> String {
        let unit = metric.unit
        func v(_ x: Double) -> String { normalized ? ValueFormat.fixed(x, 2) + "%" : ValueFormat.withUnit(x, unit: unit) }
        let change = newTotal - baseTotal
        var out = "Base: \(baseName.terminalSafe)  total \(ValueFormat.withUnit(baseTotal, unit: baseMetricType.unit))\n"
        out += "New:  \(newName.terminalSafe)  total \(ValueFormat.withUnit(newTotal, unit: unit))"
        if baseMetricType.unit == unit {
            out += "  (\(change >= 0 ? "+" : "")\(ValueFormat.withUnit(change, unit: unit)), \(signedPercent(change, of: baseTotal)))\n"
        } else {
            out += "  (\(baseMetricType.description) against \(metric.description): only shares compare)\n"
        }
        out += "Mode: " + (normalized ? "normalized (shares of each total, in %)" : "absolute (\(metric.description))")
            + "\n\n"
        let base = normalized ? 100 : baseTotal
        let regressions = rows.filter { $0.deltaSelf > 0 }
        let improvements = rows.filter { $0.deltaSelf < 0 }.reversed()
        for (title, list) in [("Regressions (self grew), largest first", Array(regressions)),
                              ("Improvements (self shrank), largest first", Array(improvements))] {
            out += title + ":\n"
            var table: [[String]] = [["base self", "new self", "delta", "delta%", "base total", "new total", "", "function"]]
            for r in list.prefix(limit ?? list.count) {
                let mark = r.status == "new" ? "new" : r.status == "gone" ? "gone" : ""
                let loc = Report.location(file: r.file, line: r.line)
                table.append([v(r.baseSelf), v(r.newSelf), (r.deltaSelf >= 0 ? "+" : "") + v(r.deltaSelf),
                              signedPercent(r.deltaSelf, of: base), v(r.baseTotal), v(r.newTotal), mark,
                              r.name.terminalSafe + (loc.isEmpty ? "" : "  " + loc.terminalSafe)])
            }
            if table.count == 1 { out += "  (none)\n\n"; continue }
            let widths = (0..<8).map { c in table.map { $0[c].count }.max() ?? 0 }
            for row in table {
                var line = ""
                for c in 0..<7 { line += String(repeating: " ", count: widths[c] - row[c].count) + row[c] + "  " }
                out += line + row[7] + "\n"
            }
            if let limit, list.count > limit { out += "(\(list.count - limit) more; --limit shows more)\n" }
            out += "\n"
        }
        return TerminalSafe.escapeLines(out)
    }

    func signedPercent(_ x: Double, of total: Double) -> String {
        guard total != 0 else { return "-" }
        let p = x / total * 100
        return (p >= 0 ? "+" : "") + ValueFormat.fixed(p, 1) + "%"
    }

    public func json(baseName: String, newName: String, baseFormat: String, newFormat: String) -> String {
        var w = JSONWriter()
        w.open("{")
        w.key("base"); w.open("{"); w.key("file"); w.string(baseName); w.key("format"); w.string(baseFormat)
        w.key("total"); w.number(baseTotal)
        w.key("metric"); w.string(baseMetricType.name); w.key("unit"); w.string(baseMetricType.unit); w.close("}")
        w.key("new"); w.open("{"); w.key("file"); w.string(newName); w.key("format"); w.string(newFormat)
        w.key("total"); w.number(newTotal); w.close("}")
        w.key("metric"); w.string(metric.name); w.key("unit"); w.string(metric.unit)
        w.key("mode"); w.string(normalized ? "normalized" : "absolute")
        w.key("functions"); w.open("[")
        let base = normalized ? 100 : baseTotal
        for r in rows {
            w.open("{")
            w.key("name"); w.string(r.name)
            w.key("file"); if let f = r.file { w.string(f) } else { w.null() }
            w.key("line"); if let l = r.line { w.number(Double(l)) } else { w.null() }
            w.key("status"); w.string(r.status)
            w.key("base"); w.open("{"); w.key("self"); w.number(r.baseSelf); w.key("total"); w.number(r.baseTotal); w.close("}")
            w.key("new"); w.open("{"); w.key("self"); w.number(r.newSelf); w.key("total"); w.number(r.newTotal); w.close("}")
            w.key("delta"); w.open("{"); w.key("self"); w.number(r.deltaSelf); w.key("total"); w.number(r.deltaTotal)
            w.key("self_percent_of_base"); w.number(base != 0 ? r.deltaSelf / base * 100 : 0); w.close("}")
            w.close("}")
        }
        w.close("]")
        w.close("}")
        return w.out + "\n"
    }
}
