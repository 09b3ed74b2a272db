import ProfileModel

/// View 1: the function table, like `perf report` / `pprof -top`.
enum FunctionsView {
    static func draw(_ g: inout CellGrid, _ c: inout DrawContext) {
        if let d = c.derived.diff { drawDiff(&g, &c, d); return }
        let s = c.state, p = c.profile, m = c.metric
        let rows = c.derived.rows
        let ft = p.functions
        let total = p.total(metric: m)
        let (div, suffix) = ValueFormat.scale(unit: p.metrics[m].unit, maxValue: total)
        let unitText = suffix.isEmpty ? (p.metrics[m].unit == "count" ? "" : p.metrics[m].unit) : suffix
        let valueWidth = max(8, DisplayWidth.width(ValueFormat.number(total, divisor: div, suffix: suffix)) + 1)
        let calls = ft.calls.map { CallsColumn(rows: rows, calls: $0, primitive: ft.primitiveCalls) }
        let cols = columns(width: g.width, valueWidth: valueWidth, unitText: unitText, calls: calls)
        // Heading, with the sort column marked.
        var x = 0
        for col in cols {
            let mark = col.key == s.sort ? (s.sortDescending ? c.options.arrowDown : c.options.arrowUp) : ""
            let text = col.heading + mark
            g.put(text, x: x + max(0, col.width - DisplayWidth.width(text)), y: c.layout.headingRow, role: col.key == s.sort ? .title : .header)
            x += col.width + 1
        }
        let nameX = x + 1
        g.put("function" + (s.sort == .name ? (s.sortDescending ? c.options.arrowDown : c.options.arrowUp) : "")
              + "  (\(rows.count)\(s.focus != nil ? ", focused" : ""))", x: nameX, y: c.layout.headingRow, role: s.sort == .name ? .title : .header)
        let matches = c.matches
        let h = c.layout.bodyHeight
        for i in 0..<h {
            let r = s.fnTop + i
            guard r < rows.count else { break }
            let f = Int(rows[r])
            let y = c.layout.bodyTop + i
            let selected = r == s.fnSelected
            let sw = ft.selfWeight[m][f], tw = ft.totalWeight[m][f]
            let cells = cols.map { col -> String in
                switch col.kind {
                case .selfValue: ValueFormat.number(sw, divisor: div, suffix: suffix)
                case .selfPercent: ValueFormat.percent(sw, of: total)
                case .totalValue: ValueFormat.number(tw, divisor: div, suffix: suffix)
                case .totalPercent: ValueFormat.percent(tw, of: total)
                case .calls(let compact): calls?.text(f, compact: compact) ?? ""
                }
            }
            if selected { g.fill(x: 0, y: y, count: g.width, role: .selection) }
            var x = 0
            for (col, text) in zip(cols, cells) {
                let role: Role = selected ? .selection
                    : col.kind == .selfPercent ? Theme.heat(total > 0 ? sw / total : 0)
                    : col.kind == .totalPercent ? Theme.heat(total > 0 ? tw / total : 0) : .normal
                g.put(text, x: x + max(0, col.width - DisplayWidth.width(text)), y: y, role: role, maxWidth: col.width)
                x += col.width + 1
            }
            let name = p.frames.name(ofFunction: Int32(f))
            let loc = c.derived.location(file: p.frames.file(ofFunction: Int32(f)), line: p.frames.line(ofFunction: Int32(f)))
            let isMatch = matches.contains(Int32(f))
            let nameRole: Role = selected ? (isMatch ? .matchSelected : .selection) : (isMatch ? .match : .normal)
            g.putName(name, location: loc, x: nameX, y: y, role: nameRole, locationRole: selected ? .selection : .dim,
                      ascii: c.options.ascii)
            if selected { g.put(">", x: 0, y: y, role: .selection) }
        }
        if rows.isEmpty { g.put("(no functions)", x: 2, y: c.layout.bodyTop, role: .dim) }
    }

    enum ColumnKind: Equatable { case selfValue, selfPercent, totalValue, totalPercent, calls(compact: Bool) }

    struct Column { var heading: String; var width: Int; var key: SortKey?; var kind: ColumnKind }

    /// The name column gets at least this much room before columns are narrowed or dropped.
    static let minimumNameWidth = 20

    /// The columns that fit `width`, widest form first: every column with whole call counts;
    /// then call counts abbreviated (`20.8M/4.99M`); then without the values (their percents
    /// stay, and take their sort marks); then without calls. A number is never cut.
    static func columns(width: Int, valueWidth: Int, unitText: String, calls: CallsColumn?) -> [Column] {
        let unit = unitText.isEmpty ? "" : "(\(unitText))"
        let values = [Column(heading: "self" + unit, width: valueWidth + 2, key: .self, kind: .selfValue),
                      Column(heading: "self%", width: 6, key: nil, kind: .selfPercent),
                      Column(heading: "total" + unit, width: valueWidth + 2, key: .total, kind: .totalValue),
                      Column(heading: "total%", width: 7, key: nil, kind: .totalPercent)]
        let percents = [Column(heading: "self%", width: 6, key: .self, kind: .selfPercent),
                        Column(heading: "total%", width: 7, key: .total, kind: .totalPercent)]
        var plans: [[Column]] = []
        if let calls {
            let exact = Column(heading: "calls", width: max(12, calls.exactWidth), key: .calls, kind: .calls(compact: false))
            let short = Column(heading: "calls", width: max(5, calls.compactWidth), key: .calls, kind: .calls(compact: true))
            plans = [values + [exact], values + [short], percents + [short]]
        } else {
            plans = [values]
        }
        plans.append(percents)
        for plan in plans where width - (plan.reduce(0) { $0 + $1.width + 1 } + 1) >= minimumNameWidth { return plan }
        return plans[plans.count - 1]
    }

    /// Call counts (`calls/primitive` where they differ, as pstats prints them) and the widths
    /// of their whole and abbreviated forms over all rows, so the column never jumps while
    /// scrolling and never cuts a digit.
    struct CallsColumn {
        let calls: [Int64]
        let primitive: [Int64]?
        let exactWidth: Int
        let compactWidth: Int

        init(rows: [Int32], calls: [Int64], primitive: [Int64]?) {
            self.calls = calls
            self.primitive = primitive
            var exact = 0, compact = 0
            for r in rows where r >= 0 && Int(r) < calls.count {
                let c = calls[Int(r)], p = primitive?[Int(r)] ?? c
                guard c >= 0 else { continue }
                exact = max(exact, c == p ? CallsColumn.digits(c) : CallsColumn.digits(c) + 1 + CallsColumn.digits(p))
                if c >= 10_000 || p >= 10_000 {
                    compact = max(compact, CallsColumn.text(c, p, compact: true).count)
                } else {
                    compact = max(compact, c == p ? CallsColumn.digits(c) : CallsColumn.digits(c) + 1 + CallsColumn.digits(p))
                }
            }
            exactWidth = exact
            compactWidth = compact
        }

        func text(_ f: Int, compact: Bool) -> String {
            guard f < calls.count, calls[f] >= 0 else { return "" }
            return CallsColumn.text(calls[f], primitive?[f] ?? calls[f], compact: compact)
        }

        static func text(_ c: Int64, _ p: Int64, compact: Bool) -> String {
            let n = compact ? abbreviated : { String($0) }
            return c == p ? n(c) : n(c) + "/" + n(p)
        }

        static func digits(_ n: Int64) -> Int { n < 0 ? String(n).count : n < 10 ? 1 : 1 + digits(n / 10) }

        /// Three significant digits with K, M or G from 10000 on: `20800848` is `20.8M`.
        static func abbreviated(_ n: Int64) -> String {
            guard n >= 10_000 else { return String(n) }
            let suffixes = ["K", "M", "G", "T"]
            var x = Double(n) / 1e3, i = 0
            while x >= 999.5 && i < suffixes.count - 1 { x /= 1e3; i += 1 }
            return ValueFormat.fixed(x, x < 9.995 ? 2 : x < 99.95 ? 1 : 0) + suffixes[i]
        }
    }

    /// Diff mode: base, new, delta and delta% (of the base total, or in points of share when
    /// normalized) of self or total per function, largest regression first; then the ones only
    /// in the base, marked gone.
    static func drawDiff(_ g: inout CellGrid, _ c: inout DrawContext, _ d: ProfileDiff) {
        let s = c.state, p = c.profile, m = c.metric
        let rows = c.derived.rows
        guard let bp = c.derived.baseProfile else { return }
        let bm = c.derived.baseMetric
        let byTotal = s.sort == .total
        let measure = byTotal ? "total" : "self"
        let unit = p.metrics[m].unit
        let (div, suffix) = ValueFormat.scale(unit: unit, maxValue: max(d.newTotal, d.baseTotal))
        func v(_ x: Double, of total: Double) -> String {
            d.normalized ? ValueFormat.percent(x, of: total) : ValueFormat.number(x, divisor: div, suffix: suffix)
        }
        let unitText = suffix.isEmpty ? (unit == "count" ? "" : unit) : suffix
        let w = max(9, DisplayWidth.width(v(max(d.newTotal, d.baseTotal), of: 1)) + 2)
        // Normalized, the delta is already in points of share: no separate delta% column.
        let heads = d.normalized ? ["base " + measure + "%", "new " + measure + "%", "delta(pts)"]
            : ["base " + measure, "new " + measure, "delta" + (unitText.isEmpty ? "" : "(\(unitText))"), "delta%"]
        let widths = d.normalized ? [w + 1, w + 1, w + 1] : [w, w, w, 7]
        var x = 0
        for (h, cw) in zip(heads, widths) { g.put(h, x: x + max(0, cw - DisplayWidth.width(h)), y: c.layout.headingRow, role: .header); x += cw + 1 }
        let nameX = x + 1
        let order = (d.verdicts == nil ? "sorted" : "significant first,") + " by " + (s.sortDescending ? "regression" : "improvement")
        g.put("function  (\(rows.count); \(order) in \(measure))",
              x: nameX, y: c.layout.headingRow, role: .title)
        let matches = c.matches
        for i in 0..<c.layout.bodyHeight {
            let r = s.fnTop + i
            guard r < rows.count else { break }
            let row = rows[r]
            let y = c.layout.bodyTop + i
            let selected = r == s.fnSelected
            let newV: Double, baseV: Double, name: String, loc: String, tag: String, coloured: Bool
            if let g0 = Session.goneId(row) {
                coloured = d.verdicts.map { $0.verdict(name: bp.frames.name(ofFunction: g0), file: bp.frames.file(ofFunction: g0))?.isSignificant ?? false } ?? true
                newV = 0
                baseV = byTotal ? bp.functions.totalWeight[bm][Int(g0)] : bp.functions.selfWeight[bm][Int(g0)]
                name = bp.frames.name(ofFunction: g0)
                loc = c.derived.location(file: bp.frames.file(ofFunction: g0), line: nil)
                tag = "gone "
            } else {
                let f = Int(row)
                coloured = d.colours(function: row, in: p)
                newV = byTotal ? p.functions.totalWeight[m][f] : p.functions.selfWeight[m][f]
                baseV = byTotal ? d.functionBaseTotal[f] : d.functionBaseSelf[f]
                name = p.frames.name(ofFunction: row)
                loc = c.derived.location(file: p.frames.file(ofFunction: row), line: nil)
                tag = d.functionBaseTotal[f] == 0 && d.functionBaseSelf[f] == 0 ? "new " : ""
            }
            let delta = d.delta(new: newV, base: baseV)
            let share = d.share(delta)
            let deltaText = (delta > 0 ? "+" : "") + (d.normalized ? ValueFormat.fixed(share * 100, 1)
                                                                  : ValueFormat.number(delta, divisor: div, suffix: suffix))
            let cells = [v(baseV, of: d.baseTotal), v(newV, of: d.newTotal), deltaText, Theme.signedPercent(share)].prefix(widths.count)
            if selected { g.fill(x: 0, y: y, count: g.width, role: .selection) }
            var x = 0
            for (k, text) in cells.enumerated() {
                // Only significant changes are coloured; the rest is neutral, marked `~` below.
                let role: Role = selected ? .selection : k >= 2 ? (coloured ? Theme.change(share) : .dim) : .normal
                g.put(text, x: x + max(0, widths[k] - DisplayWidth.width(text)), y: y, role: role, maxWidth: widths[k])
                x += widths[k] + 1
            }
            var nx = nameX
            if !coloured { nx = g.put("~ ", x: nx, y: y, role: selected ? .selection : .dim) }
            if !tag.isEmpty { nx = g.put(tag, x: nx, y: y, role: selected ? .selection : !coloured ? .dim : tag == "new " ? .grew3 : .shrank3) }
            let isMatch = row >= 0 && matches.contains(row)
            let nameRole: Role = selected ? (isMatch ? .matchSelected : .selection) : (isMatch ? .match : .normal)
            g.putName(name, location: loc, x: nx, y: y, role: nameRole, locationRole: selected ? .selection : .dim, ascii: c.options.ascii)
            if selected { g.put(">", x: 0, y: y, role: .selection) }
        }
        if rows.isEmpty { g.put("(no functions)", x: 2, y: c.layout.bodyTop, role: .dim) }
        if s.fnSelected < rows.count, let g0 = Session.goneId(rows[s.fnSelected]) {
            c.detail = Detail(name: bp.frames.name(ofFunction: g0), facts: "only in the base: self "
                + ValueFormat.withUnit(bp.functions.selfWeight[bm][Int(g0)], unit: bp.metrics[bm].unit) + ", total "
                + ValueFormat.withUnit(bp.functions.totalWeight[bm][Int(g0)], unit: bp.metrics[bm].unit))
        }
    }
}
