import Foundation

/// The three printed forms of a `RunsDiff`: the text table, the markdown evidence for a pull
/// request, and the JSON contract.
extension RunsDiff {
    func value(_ x: Double) -> String {
        normalized ? ValueFormat.fixed(x, 2) + "%" : ValueFormat.withUnit(x, unit: unit)
    }

    func signed(_ x: Double) -> String { (x > 0 ? "+" : x < 0 ? "" : "±") + value(x) }

    /// The change as a percentage of the base median total (of 100 when normalized).
    func percentOfBase(_ x: Double) -> String {
        let base = normalized ? 100 : total.baseMedian
        guard base != 0 else { return "-" }
        let p = x / base * 100
        return (p >= 0 ? "+" : "") + ValueFormat.fixed(p, 1) + "%"
    }

    /// The total is printed in the judged unit (absolute where the runs compare), whatever --normalize shows.
    func totalValue(_ x: Double) -> String {
        judgedUnit == "%" ? ValueFormat.fixed(x, 2) + "%" : ValueFormat.withUnit(x, unit: judgedUnit)
    }
    /// A side's median total in its own unit (when the sides' units cannot be compared).
    func ownTotal(_ s: Side) -> String {
        let t = s.totals, i = t.indices.sorted { t[$0] < t[$1] }[(t.count - 1) / 2]
        return ValueFormat.withUnit(t[i], unit: s.metrics[i].unit)
    }
    func totalSigned(_ x: Double) -> String { (x > 0 ? "+" : x < 0 ? "" : "±") + totalValue(x) }
    func totalSpread(_ xs: [Double]) -> String { totalValue(xs.min() ?? 0) + " .. " + totalValue(xs.max() ?? 0) }
    func totalPercent(_ x: Double) -> String {
        let b = totalJudged.baseMedian
        guard b != 0 else { return "-" }
        return (x >= 0 ? "+" : "") + ValueFormat.fixed(x / b * 100, 1) + "%"
    }

    func spread(_ xs: [Double]) -> String {
        guard xs.count > 1 else { return value(xs.first ?? 0) }
        return value(xs.min() ?? 0) + " .. " + value(xs.max() ?? 0)
    }

    func pairs(_ s: RunSeries) -> String {
        s.base.count == 1 && s.new.count == 1 ? "" : signed(s.low) + " .. " + signed(s.high)
    }

    func runsWord(_ n: Int) -> String { "\(n) run\(n == 1 ? "" : "s")" }

    func location(_ r: Row) -> String { Report.location(file: r.file, line: r.line) }

    /// Rows shown one by one: the significant and inconclusive ones (every row when measured once).
    func listed(limit: Int?) -> (shown: [Row], more: Int, unchanged: Int) {
        let candidates = functionMethod == .measuredOnce ? rows : rows.filter { $0.selfValues.verdict != .unchanged }
        let shown = Array(candidates.prefix(limit ?? candidates.count))
        return (shown, candidates.count - shown.count, functionMethod == .measuredOnce ? 0 : rows.count - candidates.count)
    }

    var floorText: String {
        normalized ? ValueFormat.fixed(minEffect * 100, 1) + " points" : value(minEffect * total.baseMedian)
    }

    public func text(limit: Int?) -> String {
        var out = ""
        for (label, s) in [("Base:", base), ("New: ", new)] {
            let files = s.files.prefix(4).map(\.terminalSafe).joined(separator: " ") + (s.files.count > 4 ? " ... (\(s.files.count - 4) more)" : "")
            out += "\(label) \(runsWord(s.files.count))  \(files)\n"
        }
        out += "Method: " + methodLine + "\n"
        out += "Mode: " + (normalized ? "shares of each run's total (in %)" : "absolute (\(metricName)/\(unit))")
            + (normalized && judgedAbsolute ? "; verdicts from absolute values" : "") + "\n"
        let t = totalJudged
        if judgedUnit == "%" {
            out += "Total: base \(ownTotal(base)), new \(ownTotal(new)): units differ, not compared\n"
        } else {
            let pairsText = t.base.count == 1 && t.new.count == 1 ? "" : ", run pairs \(totalSigned(t.low)) .. \(totalSigned(t.high))"
            out += "Total: base \(totalValue(t.baseMedian))" + (t.base.count > 1 ? " (\(totalSpread(t.base)))" : "")
                + ", new \(totalValue(t.newMedian))" + (t.new.count > 1 ? " (\(totalSpread(t.new)))" : "")
                + ", change \(totalSigned(t.delta)) (\(totalPercent(t.delta)))" + pairsText + ": \(t.verdict.rawValue)\n"
        }
        for n in notes { out += "Note: \(n)\n" }
        out += "\n"
        let (shown, more, unchanged) = listed(limit: limit)
        var table: [[String]] = [["verdict", "base", "new", "change", "of base", "run pairs", "", "function"]]
        for r in shown {
            let s = r.selfValues
            let mark = r.status == "both" ? "" : r.status
            let loc = location(r)
            table.append([s.verdict.rawValue, value(s.baseMedian), value(s.newMedian), signed(s.delta), percentOfBase(s.delta),
                          pairs(s), mark, r.name.terminalSafe + (loc.isEmpty ? "" : "  " + loc.terminalSafe)])
        }
        out += "Self \(normalized ? "share" : metricName) per function (medians over runs), significant changes first:\n"
        if table.count == 1 {
            out += "  (no function changed beyond the noise)\n"
        } else {
            let widths = (0..<8).map { c in table.map { $0[c].count }.max() ?? 0 }
            for row in table {
                var line = row[0] + String(repeating: " ", count: widths[0] - row[0].count) + "  "
                for c in 1..<7 where widths[c] > 0 { line += String(repeating: " ", count: widths[c] - row[c].count) + row[c] + "  " }
                out += line + row[7] + "\n"
            }
        }
        if more > 0 { out += "(\(more) more; --limit shows more)\n" }
        if unchanged > 0 { out += "\(unchanged) function\(unchanged == 1 ? "" : "s") unchanged within noise (|change| below \(floorText) or the sampling noise)\n" }
        return TerminalSafe.escapeLines(out)
    }

    /// Text for one markdown table cell or inline run: control characters escaped as on a
    /// terminal, then everything markdown or GitHub's HTML would act on.
    public static func markdownEscaped(_ s: String) -> String {
        var o = ""
        for ch in s.terminalSafe {
            switch ch {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "|", "`", "*", "_", "[", "]", "\\", "#", "~": o += "\\" + String(ch)
            case "\n", "\r": o += " "
            default: o.append(ch)
            }
        }
        return o
    }

    public func markdown(limit: Int?) -> String {
        let md = RunsDiff.markdownEscaped
        var out = "### Performance: before and after\n\n"
        let (nb, nn) = runsPerSide
        let t = totalJudged
        if judgedUnit == "%" {
            out += "**Symptom.** Total: before \(md(ownTotal(base))), after \(md(ownTotal(new))) (units differ, not compared).\n\n"
        } else {
            out += "**Symptom.** Total \(md(metricName)): before \(md(totalValue(t.baseMedian)))"
                + (nb > 1 ? " (median of \(nb) runs, \(md(totalSpread(t.base))))" : " (1 run)")
                + ", after \(md(totalValue(t.newMedian)))" + (nn > 1 ? " (median of \(nn) runs, \(md(totalSpread(t.new))))" : " (1 run)")
                + ": \(md(totalSigned(t.delta))) (\(md(totalPercent(t.delta)))), **\(t.verdict.rawValue)**.\n\n"
        }
        func formats(_ s: Side) -> String { Array(Set(s.formats)).sorted().map(md).joined(separator: ", ") }
        func interval(_ s: Side) -> String {
            s.metadata.first { $0.0 == "interval" }.map { md($0.1) } ?? (s.sampled ? "not recorded" : "deterministic (no sampling)")
        }
        out += "**Measurement.**\n\n"
        out += "- profiler and format: before \(formats(base)), after \(formats(new))\n"
        out += "- sampling interval: before \(interval(base)), after \(interval(new))\n"
        out += "- runs: \(nb) before, \(nn) after; method: \(md(methodLine))\n"
        out += "- files: before " + base.files.map { "`" + $0.terminalSafe.replacingOccurrences(of: "`", with: "'") + "`" }.joined(separator: ", ")
            + "; after " + new.files.map { "`" + $0.terminalSafe.replacingOccurrences(of: "`", with: "'") + "`" }.joined(separator: ", ") + "\n\n"
        func cls(_ s: Side) -> String {
            s.bottleneck.map { md($0.title) + " (" + ValueFormat.fixed($0.share * 100, 0) + "%)" } ?? "not classified"
        }
        out += "**Bottleneck class** (of the median run): before \(cls(base)); after \(cls(new)).\n\n"
        let significant = rows.filter { $0.selfValues.verdict.isSignificant }
        out += "**Significant changes** (self \(md(normalized ? "share" : metricName)), medians over runs):\n\n"
        if significant.isEmpty {
            out += "None beyond the noise.\n\n"
        } else {
            out += "| verdict | function | before | after | change | of base | run pairs |\n|---|---|---|---|---|---|---|\n"
            for r in significant.prefix(limit ?? significant.count) {
                let s = r.selfValues, loc = location(r)
                out += "| \(s.verdict.rawValue) | \(md(r.name))\(loc.isEmpty ? "" : " (" + md(loc) + ")") | \(md(value(s.baseMedian))) | \(md(value(s.newMedian))) | \(md(signed(s.delta))) | \(md(percentOfBase(s.delta))) | \(md(pairs(s))) |\n"
            }
            if let limit, significant.count > limit { out += "\n(\(significant.count - limit) more significant changes; `--limit` shows more)\n" }
            out += "\n"
        }
        let envKeys = ["python", "version", "command", "argv", "cmdline", "host", "platform", "interpreter", "program", "sys"]
        let env = (base.metadata + new.metadata).filter { k, _ in envKeys.contains { k.lowercased().contains($0) } }
        var seenEnv = Set<String>()
        let envLines = env.filter { seenEnv.insert($0.0 + "\u{0}" + $0.1).inserted }
        out += "**Environment:** "
        out += envLines.isEmpty ? "not recorded in the files.\n\n" : envLines.map { md($0.0) + ": " + md($0.1) }.joined(separator: "; ") + ".\n\n"
        let inconclusive = rows.filter { $0.selfValues.verdict == .inconclusive }
        let unchanged = rows.filter { $0.selfValues.verdict == .unchanged }.count
        var judged: [String] = []
        if functionMethod == .measuredOnce { judged.append("every function: measured once, no verdict") }
        if !inconclusive.isEmpty {
            judged.append("\(inconclusive.count) inconclusive (" + inconclusive.prefix(5).map { md($0.name) }.joined(separator: ", ")
                          + (inconclusive.count > 5 ? ", ..." : "") + ")")
        }
        if unchanged > 0 { judged.append("\(unchanged) unchanged within noise") }
        // The inconclusive count is already said above.
        judged += notes.filter { !$0.hasSuffix(": inconclusive") }.map(md)
        out += "**Not judged:** " + (judged.isEmpty ? "nothing left open" : judged.joined(separator: "; ")) + ".\n"
        return out
    }

    public func json() -> String {
        var w = JSONWriter()
        func numbers(_ xs: [Double]) { w.open("["); for x in xs { w.number(x) }; w.close("]") }
        func optional(_ x: Double?) { if let x { w.number(x) } else { w.null() } }
        func series(_ s: RunSeries, verdict: Bool = true) {
            w.key("base"); numbers(s.base)
            w.key("new"); numbers(s.new)
            w.key("delta"); w.number(s.delta)
            w.key("low"); w.number(s.low)
            w.key("high"); w.number(s.high)
            if verdict {
                w.key("verdict"); w.string(s.verdict.rawValue)
                w.key("p"); optional(s.p)
                w.key("p_adjusted"); optional(s.adjustedP)
            }
        }
        w.open("{")
        w.key("method"); w.open("{")
        w.key("functions"); w.string(functionMethod.rawValue)
        w.key("total"); w.string(totalMethod.rawValue)
        w.key("tree"); w.string(nodeMethod.rawValue)
        w.key("description"); w.string(methodLine)
        w.key("alpha"); w.number(alpha)
        w.key("min_effect"); w.number(minEffect)
        w.key("family"); w.number(Double(family))
        w.close("}")
        w.key("mode"); w.string(normalized ? "normalized" : "absolute")
        w.key("judged_on"); w.string(judgedAbsolute ? "absolute" : "shares")
        w.key("metric"); w.string(metricName)
        w.key("unit"); w.string(unit)
        for (k, s) in [("base", base), ("new", new)] {
            w.key(k); w.open("{")
            w.key("files"); w.open("["); for f in s.files { w.string(f) }; w.close("]")
            w.key("formats"); w.open("["); for f in s.formats { w.string(f) }; w.close("]")
            w.key("totals"); numbers(s.totals)
            w.key("units"); w.open("["); for m in s.metrics { w.string(m.unit) }; w.close("]")
            w.key("sampled"); w.bool(s.sampled)
            w.key("bottleneck"); if let b = s.bottleneck { w.open("{"); w.key("class"); w.string(b.title); w.key("share"); w.number(b.share); w.close("}") } else { w.null() }
            w.close("}")
        }
        w.key("total"); w.open("{"); series(total); w.close("}")
        w.key("notes"); w.open("["); for n in notes { w.string(n) }; w.close("]")
        w.key("functions"); w.open("[")
        for r in rows {
            w.open("{")
            w.key("name"); w.string(r.name)
            w.key("file"); if let f = r.file { w.string(f) } else { w.null() }
            w.key("line"); if let l = r.line { w.number(Double(l)) } else { w.null() }
            w.key("status"); w.string(r.status)
            series(r.selfValues)
            w.key("total"); w.open("{"); series(r.totalValues, verdict: false); w.close("}")
            w.close("}")
        }
        w.close("]")
        w.key("tree"); w.open("[")
        for n in nodes {
            w.open("{")
            w.key("path"); w.open("["); for p in n.path { w.string(p) }; w.close("]")
            series(n.values)
            w.close("}")
        }
        w.close("]")
        w.close("}")
        return w.out + "\n"
    }
}
