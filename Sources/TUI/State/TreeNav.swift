import ProfileModel

/// Pre-order navigation over the visible rows of a tree view without flattening it: every
/// step costs O(1) or O(depth), so a keystroke costs what the screen shows, not the tree size.
/// With `everything`, every node counts as expanded: the walk search uses over all nodes.
struct TreeNav {
    let tree: CallTree
    let expanded: Set<Int32>
    var everything = false
    /// The minimum-percent filter: rows whose total is under `minWeight` are not shown. Children
    /// are ordered heaviest first, so the hidden ones are the tail of each list of siblings.
    var minWeight = 0.0
    var weights: [Double] = []

    init(tree: CallTree, expanded: Set<Int32>, everything: Bool = false, minPercent: Double? = nil, metric: Int = 0) {
        self.tree = tree
        self.expanded = expanded
        self.everything = everything
        if let pct = minPercent, pct > 0, metric < tree.totalWeight.count {
            weights = tree.totalWeight[metric]
            minWeight = (weights.first ?? 0) * pct / 100
        }
    }

    /// Whether node `n` passes the minimum-percent filter.
    func shown(_ n: Int32) -> Bool { n >= 0 && (minWeight <= 0 || weights[Int(n)] >= minWeight) }
    func firstChild(_ n: Int32) -> Int32 { let c = tree.firstChild(n); return shown(c) ? c : -1 }
    func nextSibling(_ n: Int32) -> Int32 { let c = tree.nextSibling(n); return shown(c) ? c : -1 }
    func lastChild(_ n: Int32) -> Int32 {
        guard minWeight > 0 else { return tree.lastChild(n) }
        var c = firstChild(n)
        while c >= 0, nextSibling(c) >= 0 { c = nextSibling(c) }
        return c
    }
    /// Whether `n` has children that the filter shows.
    func hasChildren(_ n: Int32) -> Bool { firstChild(n) >= 0 }

    func isOpen(_ n: Int32) -> Bool { n == 0 || everything || expanded.contains(n) }

    var first: Int32 { firstChild(0) }

    var last: Int32 {
        var n = lastChild(0)
        while n >= 0, isOpen(n), lastChild(n) >= 0 { n = lastChild(n) }
        return n
    }

    /// The row after `n` (-1: none, or `n` is no node of this tree).
    func next(_ n: Int32) -> Int32 {
        guard n >= 0, Int(n) < tree.count else { return -1 }
        if isOpen(n), firstChild(n) >= 0 { return firstChild(n) }
        var k = n
        while k > 0 {
            let s = nextSibling(k)
            if s >= 0 { return s }
            k = tree.parent[Int(k)]
        }
        return -1
    }

    /// The row before `n` (-1: none, or `n` is no node of this tree).
    func previous(_ n: Int32) -> Int32 {
        guard n > 0, Int(n) < tree.count else { return -1 }
        let s = tree.previousSibling(n)
        if s >= 0 {
            var d = s
            while isOpen(d), lastChild(d) >= 0 { d = lastChild(d) }
            return d
        }
        let p = tree.parent[Int(n)]
        return p > 0 ? p : -1
    }

    /// Moves `count` visible rows (negative: up), stopping at the ends.
    func step(_ n: Int32, _ count: Int) -> Int32 {
        var cur = n
        if count >= 0 {
            for _ in 0..<count { let x = next(cur); if x < 0 { break }; cur = x }
        } else {
            for _ in 0..<(-count) { let x = previous(cur); if x < 0 { break }; cur = x }
        }
        return cur
    }

    /// Whether `a` comes before `b` in pre-order (compares child positions where paths split).
    func precedes(_ a: Int32, _ b: Int32) -> Bool {
        if a == b { return false }
        let pa = tree.path(to: a), pb = tree.path(to: b)
        for i in 0..<min(pa.count, pb.count) where pa[i] != pb[i] {
            return tree.childPosition[Int(pa[i])] < tree.childPosition[Int(pb[i])]
        }
        return pa.count < pb.count
    }

    /// A top row that keeps `selected` on screen, moving `top` as little as possible.
    func scrolled(top: Int32, selected: Int32, height: Int) -> Int32 {
        guard selected >= 0 else { return first }
        var t = top > 0 && Int(top) < tree.count ? top : first
        if t < 0 { return -1 }
        // A top that is no longer visible (its parent collapsed) resets to the selection.
        if !isVisible(t) { t = selected }
        if precedes(selected, t) || selected == t { return selected }
        var k = t
        for _ in 0..<max(0, height - 1) {
            k = next(k)
            if k < 0 { break }
            if k == selected { return t }
        }
        return step(selected, -(height - 1))
    }

    /// `top` moved up as far as needed for the rows from it to fill `height` lines (a rebuilt
    /// tree can end before the screen does; then the rows above come back into view).
    func filled(top: Int32, height: Int) -> Int32 {
        guard top > 0 else { return top }
        var rows = 1, k = top
        while rows < height, next(k) >= 0 { k = next(k); rows += 1 }
        var t = top
        while rows < height, previous(t) >= 0 { t = previous(t); rows += 1 }
        return t
    }

    func isVisible(_ n: Int32) -> Bool {
        var p = tree.parent[Int(n)]
        while p > 0 { if !expanded.contains(p) { return false }; p = tree.parent[Int(p)] }
        return true
    }

    /// The first node from `start` (itself too, with `includeCurrent`) that satisfies `ok`,
    /// walking forward or backward in pre-order over all nodes and wrapping around.
    static func find(in tree: CallTree, from start: Int32, forward: Bool, includeCurrent: Bool,
                     where ok: (Int32) -> Bool) -> Int32? {
        let all = TreeNav(tree: tree, expanded: [], everything: true)
        var n = start
        if includeCurrent && ok(n) { return n }
        for _ in 0..<tree.count {
            let x = forward ? all.next(n) : all.previous(n)
            n = x >= 0 ? x : forward ? all.first : all.last
            if n < 0 { return nil }
            if ok(n) { return n }
        }
        return nil
    }

    /// The hot path below `from`: the heaviest child, its heaviest child, and so on, for as long
    /// as one child is the answer. It goes from node `n` into its heaviest child `c` only when
    /// - `c` holds at least `fanOut` (half) of the time `n` spends in its children: below that the
    ///   time fans out, and no single child explains it (so the path stops on `n`);
    /// - `c` holds at least `n`'s own self time: otherwise `n` itself is where the time goes;
    /// - `c` holds at least `floor` (1%) of the whole tree, so a path never ends on a 0.x% node.
    /// From the root, the first step is taken whenever the heaviest child clears the floor.
    /// Children that `avoiding` names (an estimate's unplaced time) are passed over.
    func hotPath(from: Int32, metric: Int, fanOut: Double = 0.5, floor: Double = 0.01,
                 avoiding: (Int32) -> Bool = { _ in false }) -> [Int32] {
        var path: [Int32] = []
        var n = from
        let w = tree.totalWeight[metric], sw = tree.selfWeight[metric]
        let minimum = w[0] * floor
        while true {
            var c = tree.firstChild(n)
            while c >= 0 && avoiding(c) { c = tree.nextSibling(c) }
            guard c >= 0 else { break }
            let wc = w[Int(c)], children = w[Int(n)] - sw[Int(n)]
            guard wc > 0, wc >= minimum else { break }
            if n != 0 { guard wc >= children * fanOut, wc >= sw[Int(n)] else { break } }
            path.append(c)
            n = c
        }
        return path
    }
}
