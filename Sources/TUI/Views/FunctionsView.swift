import ProfileModel

/// View 1: the function table, like `perf report` / `pprof -top`.
enum FunctionsView {
    static func draw(_ g: inout CellGrid, _ c: inout DrawContext) {
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
}
