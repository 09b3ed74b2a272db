import ProfileModel

/// What a mouse event at a cell points at.
public enum MouseTarget: Equatable, Sendable {
    case none
    /// A view tab in the title row.
    case tab(ViewKind)
    /// A row of the functions table (an index into the table's rows).
    case functionRow(Int)
    /// A row of the callers/callees view (callers, the function, callees).
    case callersRow(Int)
    /// A tree node; `marker`: on its expand/collapse marker.
    case treeNode(Int32, marker: Bool)
    /// A flame-graph span (a node of the shown profile).
    case flameNode(Int32)
}

/// Hit-testing: a pure function of the state, what it derives to and the screen size. It
/// mirrors where `Screen.render` and the views put things (the same layout, the same first
/// row), so a click lands on what is drawn under it.
public enum MouseHit {
    public static func target(x: Int, y: Int, state s: AppState, derived d: Derived, size: Size) -> MouseTarget {
        guard x >= 0, y >= 0, x < size.width, y < size.height else { return .none }
        if y == 0 { return tab(x: x, width: size.width, current: s.view) }
        let layout = Layout(size: size)
        guard size.height >= 5, size.width >= Screen.minimumViewWidth,
              y >= layout.bodyTop, y < layout.bodyTop + layout.bodyHeight, s.overlay == nil else { return .none }
        let i = y - layout.bodyTop
        switch s.view {
        case .functions:
            let r = s.fnTop + i
            return r >= 0 && r < d.rows.count ? .functionRow(r) : .none
        case .tree:
            return treeNode(x: x, row: i, ts: s.tree, profile: d.profile, width: size.width)
        case .inverted:
            return treeNode(x: x, row: i, ts: s.inverted, profile: d.inverted ?? d.profile, width: size.width)
        case .callers:
            guard let model = d.callers, model.function >= 0 else { return .none }
            return callersRow(line: s.callersTop + i, model).map(MouseTarget.callersRow) ?? .none
        case .flame:
            return flameNode(x: x, row: i, state: s, profile: d.profile, width: size.width)
        }
    }

    /// The tab under column `x` of the title row (laid out as `Screen.drawTitle` does).
    static func tab(x: Int, width: Int, current: ViewKind) -> MouseTarget {
        let tabs = Screen.titleTabs(width: width, current: current)
        let tabsWidth = tabs.reduce(0) { $0 + DisplayWidth.width($1.0) + 1 }
        var tx = max(0, width - tabsWidth)
        for (k, (t, _)) in tabs.enumerated() {
            let w = DisplayWidth.width(t)
            if x >= tx && x < tx + w { return .tab(ViewKind.allCases[k]) }
            tx += w + 1
        }
        return .none
    }

    /// The node drawn on body row `row` of a tree view, from the same first row as
    /// `TreeView.draw`; the marker sits after the indent guides as drawn there.
    static func treeNode(x: Int, row: Int, ts: TreeState, profile p: Profile, width: Int) -> MouseTarget {
        let t = p.tree
        let nav = TreeNav(tree: t, expanded: ts.expanded)
        var n = ts.top > 0 && Int(ts.top) < t.count && nav.isVisible(ts.top) ? ts.top : nav.first
        for _ in 0..<row where n >= 0 { n = nav.next(n) }
        guard n > 0 else { return .none }
        let depth = t.depth(of: n)
        let maxLevels = max(2, min(30, (width - 40) / 2))
        var markerX = 17 + 2 * min(max(0, depth - 1), maxLevels)
        if depth - 1 > maxLevels { markerX += DisplayWidth.width("[\(depth)]") }
        let onMarker = t.firstChild(n) >= 0 && (x == markerX || x == markerX + 1)
        return .treeNode(n, marker: onMarker)
    }

    /// The callers view row on screen line `line` (a heading is no row).
    static func callersRow(line: Int, _ model: CallersModel) -> Int? {
        let c = model.callers.count
        if line <= 0 || line == c + 2 { return nil }
        if line <= c + 1 { return line - 1 }
        let row = line - 2
        return row < model.rowCount ? row : nil
    }

    /// The span under (x, body row) of the flame graph, from `FlameView.layout`. A shaded run
    /// of frames too narrow to draw stands for its first frame.
    static func flameNode(x: Int, row: Int, state s: AppState, profile p: Profile, width: Int) -> MouseTarget {
        let m = min(s.metric, p.metrics.count - 1)
        let r = s.flame.topDepth + row
        let rows = FlameView.layout(p, zoom: s.flame.zoom.last ?? 0, metric: m, width: width, rows: r + 1)
        guard r < rows.count, let sp = rows[r].first(where: { x >= $0.x0 && x < $0.x1 }) else { return .none }
        if let from = sp.remainderFrom {
            let kids = Array(p.tree.children(sp.node))
            return Int(from) < kids.count ? .flameNode(kids[Int(from)]) : .none
        }
        return sp.node > 0 ? .flameNode(sp.node) : .none
    }
}
