import ProfileModel

/// View 3: callers above, the function, callees below (speedscope's sandwich, pprof's peek).
enum CallersView {
    static func draw(_ g: inout CellGrid, _ c: inout DrawContext) {
        let s = c.state, p = c.profile, m = c.metric
        guard let model = c.derived.callers else { return }
        guard model.function >= 0 else {
            g.put("Select a function first (in the functions table or a tree).", x: 2, y: c.layout.bodyTop, role: .dim)
            return
        }
        let total = p.total(metric: m)
        let ft = p.functions
        let fTotal = ft.totalWeight[m][Int(model.function)]
        // Diff mode: the second column is the change of the weight through each call.
        let diff = c.derived.diff
        g.put(diff != nil ? "  total  change  calls  function" : "  total  of fn   calls  function", x: 0, y: c.layout.headingRow, role: .header)
        var lines: [(row: Int?, text: String, role: Role, edge: CallEdge?, base: Double?)] = []
        lines.append((nil, "Callers of \(p.frames.name(ofFunction: model.function)) (\(model.callers.count))", .title, nil, nil))
        for (i, e) in model.callers.enumerated() { lines.append((i, "", .normal, e, model.baseCallers.indices.contains(i) ? model.baseCallers[i] : nil)) }
        lines.append((model.selfRow, "", .header, nil, diff?.functionBaseTotal[Int(model.function)]))
        lines.append((nil, "Callees (\(model.callees.count))", .title, nil, nil))
        for (i, e) in model.callees.enumerated() {
            lines.append((model.selfRow + 1 + i, "", .normal, e, model.baseCallees.indices.contains(i) ? model.baseCallees[i] : nil))
        }
        let matches = c.matches
        for i in 0..<c.layout.bodyHeight {
            let li = s.callersTop + i
            guard li < lines.count else { break }
            let y = c.layout.bodyTop + i
            let l = lines[li]
            guard let row = l.row else { g.put(l.text, x: 0, y: y, role: l.role); continue }
            let selected = row == s.callersSelected
            if selected { g.fill(x: 0, y: y, count: g.width, role: .selection) }
            let f: Int32
            let w: Double
            var calls = ""
            if let e = l.edge {
                f = e.function; w = e.weight[m]
                if let n = e.calls { calls = String(n) }
            } else {
                f = model.function; w = fTotal
                if let n = ft.calls?[Int(f)], n >= 0 { calls = String(n) }
            }
            let tp = ValueFormat.percent(w, of: total, width: 6)
            g.put(tp, x: 7 - DisplayWidth.width(tp), y: y, role: selected ? .selection : Theme.heat(total > 0 ? w / total : 0))
            if let diff, let base = l.base {
                let r = diff.change(new: w, base: base)
                let coloured = diff.colours(function: f, in: p)
                let text = (coloured ? "" : "~") + Theme.signedPercent(r)
                g.put(text, x: 15 - DisplayWidth.width(text), y: y, role: selected ? .selection : coloured ? Theme.change(r) : .dim)
            } else {
                let of = l.edge == nil ? "" : ValueFormat.percent(w, of: fTotal, width: 6)
                g.put(of, x: 14 - DisplayWidth.width(of), y: y, role: selected ? .selection : .dim)
            }
            g.put(calls, x: 22 - min(8, DisplayWidth.width(calls)), y: y, role: selected ? .selection : .normal, maxWidth: 8)
            let isMatch = matches.contains(f)
            let indent = l.edge == nil ? "" : "  "
            let role: Role = selected ? (isMatch ? .matchSelected : .selection) : isMatch ? .match : l.edge == nil ? .header : .normal
            let loc = c.derived.location(file: p.frames.file(ofFunction: f), line: p.frames.line(ofFunction: f))
            g.putName(indent + p.frames.name(ofFunction: f), location: loc, x: 24, y: y, role: role,
                      locationRole: selected ? .selection : .dim, ascii: c.options.ascii)
            if selected { g.put(">", x: 0, y: y, role: .selection) }
        }
        if let f = model.function(at: s.callersSelected) {
            c.detail = DrawContext.describeFunction(f, in: p, metric: m, whole: c.derived.wholeTotal)
        }
    }
}
