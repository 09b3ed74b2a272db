import ProfileModel

extension AppState {
    /// Handles a mouse event (htop style): a click selects what is under it, a double click
    /// (or a click on a tree's marker) expands or collapses it, zooms a flame span or opens a
    /// function's callers, the wheel scrolls, a tab switches views. Changes the selection
    /// itself and returns the keys that do the rest, for the loop to hand to `reduce`, so the
    /// mouse does exactly what those keys do.
    public mutating func mouse(_ e: MouseEvent, derived d: Derived, deriver: any Deriver, size: Size) -> [Key] {
        guard !searching else { return [] }
        switch e.kind {
        case .wheelUp, .wheelDown:
            let up = e.kind == .wheelUp
            // The flame graph scrolls its rows; lists and overlays move three lines.
            if view == .flame && overlay == nil { return [up ? .pgUp : .pgDn] }
            return Array(repeating: up ? .up : .down, count: 3)
        case .press, .doubleClick:
            break
        }
        let double = e.kind == .doubleClick
        if overlay != nil {
            // As any key does: a click closes the overlay.
            overlay = nil
            message = nil
            return []
        }
        let target = MouseHit.target(x: e.x, y: e.y, state: self, derived: d, size: size)
        if target != .none { message = nil; followHotPath = false }
        switch target {
        case .none:
            return []
        case .tab(let v):
            return v == view ? [] : [.char(Character(String(v.rawValue)))]
        case .functionRow(let r):
            fnSelected = r
            selectRow(d.rows[r])
            keepFunctionSelected(deriver: deriver, size: size)
            return double ? [.enter] : []
        case .callersRow(let r):
            callersSelected = r
            if let f = d.callers?.function(at: r) { selectedFunction = f }
            return double ? [.enter] : []
        case .treeNode(let n, let marker):
            let p = view == .inverted ? (d.inverted ?? d.profile) : d.profile
            var ts = view == .inverted ? inverted : tree
            ts.selected = n
            let f = p.function(ofNode: n)
            if f >= 0 { selectedFunction = f }
            // The first press on a marker toggled it; the second press of a double click
            // there leaves it so.
            let toggle = marker ? !double : double
            if view == .inverted { inverted = ts } else { tree = ts }
            guard toggle, p.tree.firstChild(n) >= 0 else { return [] }
            return [ts.expanded.contains(n) ? .left : .right]
        case .flameNode(let n):
            flame.selected = n
            let f = d.profile.function(ofNode: n)
            if f >= 0 { selectedFunction = f }
            return double ? [.enter] : []
        }
    }
}
