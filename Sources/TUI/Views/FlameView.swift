import ProfileModel

/// View 5: the flame graph as an icicle (root on top), widths proportional to total weight.
/// Frames narrower than a column merge into a shaded remainder. Work is bounded by the
/// screen: at most one span per column per row.
enum FlameView {
    struct Span: Equatable {
        var node: Int32
        var x0: Int
        var x1: Int
        /// A merged run of frames too narrow to draw, under `node`; `fromPosition` is the first
        /// child position inside it.
        var remainderFrom: Int32? = nil
    }

    /// Rows of spans from the zoom root down, `rows` deep.
    static func layout(_ p: Profile, zoom: Int32, metric m: Int, width: Int, rows: Int) -> [[Span]] {
        let t = p.tree
        let w = t.totalWeight[m]
        var out: [[Span]] = [[Span(node: zoom, x0: 0, x1: width)]]
        guard w[Int(zoom)] > 0 else { return out }
        while out.count < rows {
            var next: [Span] = []
            for s in out[out.count - 1] where s.remainderFrom == nil {
                let tw = w[Int(s.node)]
                guard tw > 0 else { continue }
                let span = Double(s.x1 - s.x0)
                var cum = 0.0
                var pos: Int32 = 0
                for c in t.children(s.node) {
                    let cw = w[Int(c)]
                    let a = s.x0 + Int((cum / tw * span).rounded(.down))
                    let b = s.x0 + Int(((cum + cw) / tw * span).rounded(.down))
                    if b - a < 1 {
                        // Children are heaviest first: everything from here on is narrower.
                        var rest = 0.0
                        for r in t.children(s.node).dropFirst(Int(pos)) { rest += w[Int(r)] }
                        let e = s.x0 + Int(((cum + rest) / tw * span).rounded(.down))
                        if e > a { next.append(Span(node: s.node, x0: a, x1: e, remainderFrom: pos)) }
                        else if rest > 0 && a < s.x1 { next.append(Span(node: s.node, x0: a, x1: a + 1, remainderFrom: pos)) }
                        break
                    }
                    next.append(Span(node: c, x0: a, x1: b))
                    cum += cw
                    pos += 1
                }
            }
            if next.isEmpty { break }
            out.append(next)
        }
        return out
    }

    static func draw(_ g: inout CellGrid, _ c: inout DrawContext) {
        let s = c.state, p = c.profile, m = c.metric
        let t = p.tree
        let zoom = s.flame.zoom.last ?? 0
        let diff = c.derived.diff
        var crumbs = "Flame graph (icicle): width = total" + (diff != nil ? ", colour = change (red grew, blue shrank)" : "")
        if !s.flame.zoom.isEmpty {
            crumbs += "   zoom: " + s.flame.zoom.map { p.frames.frame(t.frame[Int($0)]).name }.joined(separator: " > ")
                + "   (Esc: out)"
        }
        g.put(DisplayWidth.truncate(crumbs, to: g.width, ascii: c.options.ascii), x: 0, y: c.layout.headingRow, role: .header)
        let rows = layout(p, zoom: zoom, metric: m, width: g.width, rows: s.flame.topDepth + c.layout.bodyHeight)
        let matches = c.matches
        let mono = c.options.color == .none
        for (r, spans) in rows.enumerated() where r >= s.flame.topDepth {
            let y = c.layout.bodyTop + r - s.flame.topDepth
            guard y < c.layout.bodyTop + c.layout.bodyHeight else { break }
            // The left neighbour's colour and end: a span of the same colour right after it
            // starts with a separator, so siblings of one module do not run together.
            var previous: (role: Role, end: Int)? = nil
            for (i, sp) in spans.enumerated() {
                let width = sp.x1 - sp.x0
                guard width > 0 else { continue }
                defer { previous = (g[sp.x0, y].role, sp.x1) }
                if let from = sp.remainderFrom {
                    let sel = s.flame.selected > 0 && t.parent[Int(s.flame.selected)] == sp.node
                        && t.childPosition[Int(s.flame.selected)] >= from
                    g.fill(c.options.shade, x: sp.x0, y: y, count: width, role: sel ? .flameSelected : .flameRemainder)
                    continue
                }
                let n = sp.node
                let name: String
                let f = p.function(ofNode: n)
                if n == 0 {
                    name = "all (\(c.value(t.totalWeight[m][0], in: p)))"
                } else {
                    name = p.frames.frame(t.frame[Int(n)]).name
                }
                let role: Role
                // Diff mode: the change of the span's total; monochrome fills it with + or -.
                var change = diff.map { $0.change(new: t.totalWeight[m][Int(n)], base: $0.nodeBaseTotal[Int(n)]) }
                // Not significant across the runs: the diff's neutral colour, and `~` before the name in mono.
                let neutral = change != nil && change != 0 && !(diff?.colours(node: n, in: p) ?? true)
                if neutral { change = nil }
                let mark = neutral ? "~" : change.map(Theme.changeMark) ?? " "
                if n == s.flame.selected { role = .flameSelected }
                else if f >= 0 && matches.contains(f) { role = .flameMatch }
                else if mono { role = i % 2 == 0 ? .flame0 : .flame1 }
                else if neutral { role = .flameSame }
                else if let change { role = Theme.flameChange(change) }
                else { role = slot(p, n) }
                let fillChar = mono && mark != " " && !neutral ? mark : mono && role != .flameSelected && i % 2 == 1 ? "=" : " "
                g.fill(fillChar, x: sp.x0, y: y, count: width, role: role)
                let separated = !mono && previous?.role == role && previous?.end == sp.x0
                let x0 = separated ? sp.x0 + 1 : sp.x0, room = separated ? width - 1 : width
                if separated { g.put(c.options.ascii ? "|" : "▏", x: sp.x0, y: y, role: role) }
                if room >= 2 || mono {
                    let label = mono && mark != " " ? mark + name : name
                    let text = DisplayWidth.truncate(label, to: room, ascii: c.options.ascii)
                    g.put(text, x: x0, y: y, role: role, maxWidth: room)
                } else if room == 1 {
                    g.put(String(name.prefix(1)), x: x0, y: y, role: role, maxWidth: 1)
                }
            }
        }
        if s.flame.selected > 0 && Int(s.flame.selected) < t.count {
            c.detail = DrawContext.describeNode(s.flame.selected, in: p, metric: m, diff: diff, whole: c.derived.wholeTotal,
                                                  shownName: c.state.hasFocusStep ? "focus" : "shown")
        }
    }

    /// A palette slot from the frame's file (or module), so one module keeps one colour.
    static func slot(_ p: Profile, _ n: Int32) -> Role {
        let fr = p.tree.frame[Int(n)]
        guard fr >= 0 else { return .flame0 }
        let key = p.frames.file(ofFrame: fr) ?? p.frames.name(ofFrame: fr)
        var h: UInt32 = 2166136261
        for b in key.utf8 { h = (h ^ UInt32(b)) &* 16777619 }
        let slots: [Role] = [.flame0, .flame1, .flame2, .flame3, .flame4, .flame5, .flame6, .flame7]
        return slots[Int(h % 8)]
    }
}
