import ProfileModel

/// Views 2 and 4: the call tree (top-down) and the inverted tree (bottom-up). Only the rows on
/// screen are visited: the first one is the state's `top` node, the rest follow in pre-order.
enum TreeView {
    static func draw(_ g: inout CellGrid, _ c: inout DrawContext, state ts: TreeState, profile p: Profile, inverted: Bool) {
        let m = c.metric
        let t = p.tree
        let root = t.totalWeight[m][0]
        let (l, r) = c.options.ascii ? ("<-", "->") : ("←", "→")
        let diff = inverted ? c.derived.invertedDiff : c.derived.diff
        var heading = (diff != nil ? "  total  change  " : "  total    self  ") + (inverted ? "function \(l) callers (bottom-up)" : "function \(r) callees")
        if let f = c.state.focus { heading += "   [focus: \(p.frames.name(ofFunction: f))]" }
        if !c.state.hidden.isEmpty { heading += "   [\(c.state.hidden.count) hidden]" }
        // The inverted tree's first root is the top-self function already: no callout there.
        drawHeading(&g, c, heading, estimated: p.estimatedTree, callout: !inverted)
        let nav = TreeNav(tree: t, expanded: ts.expanded)
        var n = ts.top > 0 && Int(ts.top) < t.count && nav.isVisible(ts.top) ? ts.top : nav.first
        let matches = c.matches
        let maxLevels = max(2, min(30, (g.width - 40) / 2))
        for i in 0..<c.layout.bodyHeight {
            guard n >= 0 else { break }
            let y = c.layout.bodyTop + i
            let selected = n == ts.selected
            if selected { g.fill(x: 0, y: y, count: g.width, role: .selection) }
            let w = t.totalWeight[m][Int(n)], sw = t.selfWeight[m][Int(n)]
            let tp = ValueFormat.percent(w, of: root), sp = ValueFormat.percent(sw, of: root)
            g.put(tp, x: 7 - DisplayWidth.width(tp), y: y, role: selected ? .selection : Theme.heat(root > 0 ? w / root : 0))
            if let diff {
                // The change of the node's total since the base: red grew, blue shrank; the sign
                // is the mark without colour (ASCII trees use + and - as expand markers).
                let r = diff.change(new: w, base: diff.nodeBaseTotal[Int(n)])
                let text = Theme.signedPercent(r)
                g.put(text, x: 15 - DisplayWidth.width(text), y: y, role: selected ? .selection : Theme.change(r))
            } else {
                g.put(sp, x: 15 - DisplayWidth.width(sp), y: y, role: selected ? .selection : .dim)
            }
            // Indent guides: a bar for each ancestor level that has more siblings below.
            let depth = Int(t.depth[Int(n)])
            var guides: [Bool] = []
            var a = t.parent[Int(n)]
            while a > 0 && guides.count < maxLevels { guides.append(t.nextSibling(a) >= 0); a = t.parent[Int(a)] }
            guides.reverse()
            var x = 17
            if depth - 1 > maxLevels {
                x = g.put("[\(depth)]", x: x, y: y, role: selected ? .selection : .dim)
            }
            for more in guides {
                x = g.put(more ? c.options.guide + " " : "  ", x: x, y: y, role: selected ? .selection : .dim)
            }
            let marker = t.firstChild(n) < 0 ? " " : ts.expanded.contains(n) ? c.options.expanded : c.options.collapsed
            x = g.put(marker + " ", x: x, y: y, role: selected ? .selection : .dim)
            let fr = p.frames.frame(t.frame[Int(n)])
            let f = p.function(ofNode: n)
            let isMatch = f >= 0 && matches.contains(f)
            let role: Role = selected ? (isMatch ? .matchSelected : .selection) : (isMatch ? .match : fr.kind.isGrouping ? .title : .normal)
            g.putName(fr.name, location: Report.location(file: fr.file, line: fr.line), x: x, y: y, role: role,
                      locationRole: selected ? .selection : .dim, ascii: c.options.ascii)
            if selected { g.put(">", x: 0, y: y, role: .selection) }
            n = nav.next(n)
        }
        if nav.first < 0 { g.put("(empty profile)", x: 2, y: c.layout.bodyTop, role: .dim) }
        if ts.selected > 0 && Int(ts.selected) < t.count {
            c.detail = DrawContext.describeNode(ts.selected, in: p, metric: m, diff: diff)
        }
    }

    /// The column heading, then on the right the "top self" callout: the function with the most
    /// self time and its share, so the first screen names the answer however deep the tree is.
    /// When both do not fit, the estimate's note shortens, then the name is cut (the share never).
    static func drawHeading(_ g: inout CellGrid, _ c: DrawContext, _ heading: String, estimated: Bool, callout wanted: Bool) {
        var callout = ""
        var name = ""
        if wanted, let top = c.derived.topSelf {
            let p = c.profile
            name = p.frames.name(ofFunction: top.function).terminalSafe
            callout = " " + ValueFormat.percent(top.weight, of: p.total(metric: c.metric))
        }
        let notes = estimated ? ["   [estimated from the call graph]", "   [estimated]"] : [""]
        var left = heading + notes[0]
        let label = "top self: "
        let minName = min(12, DisplayWidth.width(name))
        let width = g.width
        let fits = { (l: String) in DisplayWidth.width(l) + 3 + label.count + minName + callout.count <= width - 1 }
        if !callout.isEmpty, !fits(left), fits(heading + notes[notes.count - 1]) { left = heading + notes[notes.count - 1] }
        g.put(left, x: 0, y: 1, role: .header)
        guard !callout.isEmpty else { return }
        let room = g.width - 1 - DisplayWidth.width(left) - 3 - label.count - callout.count
        guard room >= minName else { return }
        let text = label + DisplayWidth.truncate(name, to: room, ascii: c.options.ascii) + callout
        g.put(text, x: g.width - 1 - DisplayWidth.width(text), y: 1, role: .title)
    }
}
