/// `perftop diff BASE NEW`: functions matched by (name, file) across two profiles of any
/// formats, with the change in self and total. Sorted by self delta, largest regression first,
/// so improvements sit at the bottom, the biggest last.
public struct DiffRow: Sendable {
    public var name: String
    public var file: String?
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

    /// `normalize` nil chooses: shares when both are sampled with different sample counts.
    public init(base: Profile, new: Profile, baseMetric: Int, newMetric: Int, normalize: Bool?) {
        let bt = base.total(metric: baseMetric), nt = new.total(metric: newMetric)
        let sampled = !base.estimatedTree && !new.estimatedTree && base.sampleCount != nil && new.sampleCount != nil
        normalized = normalize ?? (sampled && base.sampleCount != new.sampleCount)
        metric = new.metrics[newMetric]
        baseTotal = bt
        newTotal = nt
        let bs = normalized && bt != 0 ? 100 / bt : 1, ns = normalized && nt != 0 ? 100 / nt : 1
        // Functions match by (name, file), loosely across formats (see DiffKeys); a row is
        // named as NEW names it.
        var keys = DiffKeys(loose: base.format != new.format)
        var byKey: [Int32: DiffRow] = [:]
        for f in 0..<base.functions.count {
            let k = keys.function(base.frames, Int32(f))
            var r = byKey[k] ?? DiffRow(name: base.frames.name(ofFunction: Int32(f)), file: base.frames.file(ofFunction: Int32(f)),
                                        baseSelf: 0, newSelf: 0, baseTotal: 0, newTotal: 0, status: "gone")
            r.baseSelf += base.functions.selfWeight[baseMetric][f] * bs
            r.baseTotal += base.functions.totalWeight[baseMetric][f] * bs
            byKey[k] = r
        }
        for f in 0..<new.functions.count {
            let k = keys.function(new.frames, Int32(f))
            let (name, file) = (new.frames.name(ofFunction: Int32(f)), new.frames.file(ofFunction: Int32(f)))
            var r = byKey[k] ?? DiffRow(name: name, file: file, baseSelf: 0, newSelf: 0, baseTotal: 0, newTotal: 0, status: "new")
            if r.status == "gone" { r.status = "changed"; r.name = name; r.file = file }
            r.newSelf += new.functions.selfWeight[newMetric][f] * ns
            r.newTotal += new.functions.totalWeight[newMetric][f] * ns
            byKey[k] = r
        }
        rows = byKey.values.filter { $0.baseTotal != 0 || $0.newTotal != 0 || $0.baseSelf != 0 || $0.newSelf != 0 }
            .sorted { a, b in
                if a.deltaSelf != b.deltaSelf { return a.deltaSelf > b.deltaSelf }
                if a.deltaTotal != b.deltaTotal { return a.deltaTotal > b.deltaTotal }
                return (a.name, a.file ?? "") < (b.name, b.file ?? "")
            }
    }

    /// A table to paste into a pull request: base, new, delta and delta% of the base total.
    public func text(baseName: String, newName: String, limit: Int?) -> String {
        let unit = metric.unit
        func v(_ x: Double) -> String { normalized ? ValueFormat.fixed(x, 2) + "%" : ValueFormat.withUnit(x, unit: unit) }
        let change = newTotal - baseTotal
        var out = "Base: \(baseName.terminalSafe)  total \(ValueFormat.withUnit(baseTotal, unit: unit))\n"
        out += "New:  \(newName.terminalSafe)  total \(ValueFormat.withUnit(newTotal, unit: unit))"
        out += "  (\(change >= 0 ? "+" : "")\(ValueFormat.withUnit(change, unit: unit)), \(signedPercent(change, of: baseTotal)))\n"
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
                let loc = Report.location(file: r.file, line: nil)
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
        return out
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
        w.key("total"); w.number(baseTotal); w.close("}")
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
