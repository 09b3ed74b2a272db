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
        let columns = diff != nil ? "  total  change  " : "  total    self  "
        let direction = inverted ? " \(l) callers (bottom-up)" : " \(r) callees"
        // The transform stack (focus, merges, ...) is the breadcrumb line above.
        let tags = ""
        let notes = p.estimatedTree ? ["   [estimated from the call graph]", "   [estimated]"] : [""]
        // The inverted tree's first root is the top-self function already: no callout there.
        drawHeading(&g, c, [columns + "function" + direction + notes[0] + tags, columns + "function" + direction + notes.last! + tags,
                            columns + "function" + notes.last! + tags], callout: !inverted)
        let nav = TreeNav(tree: t, expanded: ts.expanded, minPercent: c.state.minPercent, metric: m)
        var n = ts.top > 0 && Int(ts.top) < t.count && nav.isVisible(ts.top) ? ts.top : nav.first
        let matches = c.matches
        let maxLevels = max(2, min(30, (g.width - 40) / 2))
        for i in 0..<c.layout.bodyHeight {
            guard n >= 0 else { break }
            let y = c.layout.bodyTop + i
            let selected = n == ts.selected
            if selected { g.fill(x: 0, y: y, count: g.width, role: .selection) }
            let w = t.totalWeight[m][Int(n)], sw = t.selfWeight[m][Int(n)]
            let tp = ValueFormat.percent(w, of: root, width: 6), sp = ValueFormat.percent(sw, of: root, width: 7)
            g.put(tp, x: 7 - DisplayWidth.width(tp), y: y, role: selected ? .selection : Theme.heat(root > 0 ? w / root : 0))
            if let diff {
                // The change of the node's total since the base: red grew, blue shrank; the sign
                // is the mark without colour (ASCII trees use + and - as expand markers).
                let r = diff.change(new: w, base: diff.nodeBaseTotal[Int(n)])
                // Not significant across the runs: neutral, marked `~`.
                let coloured = inverted || diff.colours(node: n, in: p)
                let text = (coloured ? "" : "~") + Theme.signedPercent(r)
                g.put(text, x: 15 - DisplayWidth.width(text), y: y, role: selected ? .selection : coloured ? Theme.change(r) : .dim)
            } else {
                g.put(sp, x: 15 - DisplayWidth.width(sp), y: y, role: selected ? .selection : .dim)
            }
            // Indent guides: a bar for each ancestor level that has more siblings below.
            let depth = t.depth(of: n)
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
            let marker = !nav.hasChildren(n) ? " " : ts.expanded.contains(n) ? c.options.expanded : c.options.collapsed
            x = g.put(marker + " ", x: x, y: y, role: selected ? .selection : .dim)
            let fr = p.frames.frame(t.frame[Int(n)])
            let f = p.function(ofNode: n)
            let isMatch = f >= 0 && matches.contains(f)
            let role: Role = selected ? (isMatch ? .matchSelected : .selection) : (isMatch ? .match : fr.kind.isGrouping ? .title : .normal)
            g.putName(fr.name, location: c.derived.location(file: fr.file, line: fr.line), x: x, y: y, role: role,
                      locationRole: selected ? .selection : .dim, ascii: c.options.ascii)
            if selected { g.put(">", x: 0, y: y, role: .selection) }
            n = nav.next(n)
        }
        if nav.first < 0 { g.put("(empty profile)", x: 2, y: c.layout.bodyTop, role: .dim) }
        if ts.selected > 0 && Int(ts.selected) < t.count {
            c.detail = DrawContext.describeNode(ts.selected, in: p, metric: m, diff: diff, whole: c.derived.wholeTotal,
                                                  shownName: c.state.hasFocusStep ? "focus" : "shown")
        }
    }

    /// The column heading, then on the right the "top self" callout: the function with the most
    /// self time and its share, so the first screen names the answer however deep the tree is.
    /// `headings` go from the fullest to the shortest; the first one that leaves the whole name
    /// room is drawn, else the shortest and the name is cut (the share never is).
    static func drawHeading(_ g: inout CellGrid, _ c: DrawContext, _ headings: [String], callout wanted: Bool) {
        guard wanted, let top = c.derived.topSelf else { g.put(headings[0], x: 0, y: c.layout.headingRow, role: .header); return }
        let p = c.profile
        let name = p.frames.name(ofFunction: top.function).terminalSafe
        let share = " " + ValueFormat.percent(top.weight, of: p.total(metric: c.metric))
        let label = "top self: "
        // Room for the name beside a heading: two spaces before the callout, the last column free.
        func room(_ h: String) -> Int { g.width - 1 - DisplayWidth.width(h) - 2 - label.count - share.count }
        let left = headings.first { room($0) >= DisplayWidth.width(name) } ?? headings[headings.count - 1]
        g.put(left, x: 0, y: c.layout.headingRow, role: .header)
        guard room(left) >= min(8, DisplayWidth.width(name)) else { return }
        let text = label + DisplayWidth.truncate(name, to: room(left), ascii: c.options.ascii) + share
        g.put(text, x: g.width - 1 - DisplayWidth.width(text), y: c.layout.headingRow, role: .title)
    }
}
