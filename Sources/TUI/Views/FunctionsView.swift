import ProfileModel

/// View 1: the function table, like `perf report` / `pprof -top`.
enum FunctionsView {
    static func draw(_ g: inout CellGrid, _ c: inout DrawContext) {
        if let d = c.session.diff(for: c.state) { drawDiff(&g, &c, d); return }
        let s = c.state, p = c.profile, m = c.metric
        let rows = c.session.functionRows(for: s)
        let ft = p.functions
        let total = p.total(metric: m)
        let (div, suffix) = ValueFormat.scale(unit: p.metrics[m].unit, maxValue: total)
        let hasCalls = ft.calls != nil
        let unitText = suffix.isEmpty ? (p.metrics[m].unit == "count" ? "" : p.metrics[m].unit) : suffix
        let valueWidth = max(8, DisplayWidth.width(ValueFormat.number(total, divisor: div, suffix: suffix)) + 1)
        var cols: [(String, Int, SortKey?)] = [
            ("self" + (unitText.isEmpty ? "" : "(\(unitText))"), valueWidth + 2, .self), ("self%", 6, nil),
            ("total" + (unitText.isEmpty ? "" : "(\(unitText))"), valueWidth + 2, .total), ("total%", 7, nil),
        ]
        if hasCalls { cols.append(("calls", 12, .calls)) }
        // Heading, with the sort column marked.
        var x = 0
        for (name, w, key) in cols {
            let mark = key == s.sort ? (s.sortDescending ? c.options.arrowDown : c.options.arrowUp) : ""
            let text = name + mark
            g.put(text, x: x + max(0, w - DisplayWidth.width(text)), y: 1, role: key == s.sort ? .title : .header)
            x += w + 1
        }
        let nameX = x + 1
        g.put("function" + (s.sort == .name ? (s.sortDescending ? c.options.arrowDown : c.options.arrowUp) : "")
              + "  (\(rows.count)\(s.focus != nil ? ", focused" : ""))", x: nameX, y: 1, role: s.sort == .name ? .title : .header)
        let matches = c.matches
        let h = c.layout.bodyHeight
        for i in 0..<h {
            let r = s.fnTop + i
            guard r < rows.count else { break }
            let f = Int(rows[r])
            let y = c.layout.bodyTop + i
            let selected = r == s.fnSelected
            let sw = ft.selfWeight[m][f], tw = ft.totalWeight[m][f]
            var cells: [String] = [
                ValueFormat.number(sw, divisor: div, suffix: suffix), ValueFormat.percent(sw, of: total),
                ValueFormat.number(tw, divisor: div, suffix: suffix), ValueFormat.percent(tw, of: total),
            ]
            if hasCalls {
                let calls = ft.calls![f], prim = ft.primitiveCalls?[f] ?? calls
                cells.append(calls < 0 ? "" : calls == prim ? String(calls) : "\(calls)/\(prim)")
            }
            if selected { g.fill(x: 0, y: y, count: g.width, role: .selection) }
            var x = 0
            for (k, (_, w, _)) in cols.enumerated() {
                let text = cells[k]
                let role: Role = selected ? .selection
                    : k == 1 ? Theme.heat(total > 0 ? sw / total : 0) : k == 3 ? Theme.heat(total > 0 ? tw / total : 0) : .normal
                g.put(text, x: x + max(0, w - DisplayWidth.width(text)), y: y, role: role, maxWidth: w)
                x += w + 1
            }
            let name = p.frames.name(ofFunction: Int32(f))
            let loc = Report.location(file: p.frames.file(ofFunction: Int32(f)), line: p.frames.line(ofFunction: Int32(f)))
            let isMatch = matches.contains(Int32(f))
            let nameRole: Role = selected ? (isMatch ? .matchSelected : .selection) : (isMatch ? .match : .normal)
            g.putName(name, location: loc, x: nameX, y: y, role: nameRole, locationRole: selected ? .selection : .dim,
                      ascii: c.options.ascii)
            if selected { g.put(">", x: 0, y: y, role: .selection) }
        }
        if rows.isEmpty { g.put("(no functions)", x: 2, y: c.layout.bodyTop, role: .dim) }
    }

    /// Diff mode: base, new, delta and delta% (of the base total, or in points of share when
    /// normalized) of self or total per function, largest regression first; then the ones only
    /// in the base, marked gone.
    static func drawDiff(_ g: inout CellGrid, _ c: inout DrawContext, _ d: ProfileDiff) {
        let s = c.state, p = c.profile, m = c.metric
        let rows = c.session.functionRows(for: s)
        guard let bp = c.session.baseProfile(for: s) else { return }
        let bm = min(c.session.baseState(for: s).metric, bp.metrics.count - 1)
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
        for (h, cw) in zip(heads, widths) { g.put(h, x: x + max(0, cw - DisplayWidth.width(h)), y: 1, role: .header); x += cw + 1 }
        let nameX = x + 1
        g.put("function  (\(rows.count); sorted by \(s.sortDescending ? "regression" : "improvement") in \(measure))",
              x: nameX, y: 1, role: .title)
        let matches = c.matches
        for i in 0..<c.layout.bodyHeight {
            let r = s.fnTop + i
            guard r < rows.count else { break }
            let row = rows[r]
            let y = c.layout.bodyTop + i
            let selected = r == s.fnSelected
            let newV: Double, baseV: Double, name: String, loc: String, tag: String
            if let g0 = Session.goneId(row) {
                newV = 0
                baseV = byTotal ? bp.functions.totalWeight[bm][Int(g0)] : bp.functions.selfWeight[bm][Int(g0)]
                name = bp.frames.name(ofFunction: g0)
                loc = Report.location(file: bp.frames.file(ofFunction: g0), line: nil)
                tag = "gone "
            } else {
                let f = Int(row)
                newV = byTotal ? p.functions.totalWeight[m][f] : p.functions.selfWeight[m][f]
                baseV = byTotal ? d.functionBaseTotal[f] : d.functionBaseSelf[f]
                name = p.frames.name(ofFunction: row)
                loc = Report.location(file: p.frames.file(ofFunction: row), line: nil)
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
                let role: Role = selected ? .selection : k >= 2 ? Theme.change(share) : .normal
                g.put(text, x: x + max(0, widths[k] - DisplayWidth.width(text)), y: y, role: role, maxWidth: widths[k])
                x += widths[k] + 1
            }
            var nx = nameX
            if !tag.isEmpty { nx = g.put(tag, x: nx, y: y, role: selected ? .selection : tag == "new " ? .grew3 : .shrank3) }
            let isMatch = row >= 0 && matches.contains(row)
            let nameRole: Role = selected ? (isMatch ? .matchSelected : .selection) : (isMatch ? .match : .normal)
            g.putName(name, location: loc, x: nx, y: y, role: nameRole, locationRole: selected ? .selection : .dim, ascii: c.options.ascii)
            if selected { g.put(">", x: 0, y: y, role: .selection) }
        }
        if rows.isEmpty { g.put("(no functions)", x: 2, y: c.layout.bodyTop, role: .dim) }
        if s.fnSelected < rows.count, let g0 = Session.goneId(rows[s.fnSelected]) {
            c.detail = bp.frames.name(ofFunction: g0) + "  only in the base: self "
                + ValueFormat.withUnit(bp.functions.selfWeight[bm][Int(g0)], unit: bp.metrics[bm].unit) + ", total "
                + ValueFormat.withUnit(bp.functions.totalWeight[bm][Int(g0)], unit: bp.metrics[bm].unit)
        }
    }
}
