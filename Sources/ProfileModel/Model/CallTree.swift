import CPrefetch

/// The call tree: an arena of integer-indexed nodes in struct-of-arrays form.
///
/// Node 0 is the root and has no frame. A node's parent always has a smaller index, so
/// totals are summed in one reverse pass and a forward pass visits parents first.
/// Children are stored contiguously (CSR) and sorted by total weight of `orderMetric`
/// (heaviest first), so views walk them in weight order without sorting per keystroke.
public struct CallTree: Sendable {
    public let parent: [Int32]
    public let frame: [Int32]
    /// `selfWeight[metric][node]`
    public let selfWeight: [[Double]]
    /// `totalWeight[metric][node]`: self plus all descendants.
    public let totalWeight: [[Double]]
    public let childStart: [Int32]
    public let childList: [Int32]
    /// Position of each node among its parent's children (in `childList` order), so views
    /// step to siblings in O(1).
    public let childPosition: [Int32]
    public let orderMetric: Int

    public var count: Int { parent.count }
    public static let root: Int32 = 0

    /// How many nodes ahead the passes over all nodes prefetch a parent's (or a child's)
    /// entries: parents are scattered (a stack's first new node hangs under an old node
    /// anywhere), so without it each such read is a cache miss waited for in turn.
    static let ahead = 16

    /// Total weight per node: its self weight plus its descendants' (parents come before
    /// their children, so one backward pass adds each node into its parent).
    static func totals(parent: [Int32], selfWeight: [[Double]]) -> [[Double]] {
        var totals = selfWeight.map { [Double].big(copying: $0) }
        let n = parent.count
        for m in 0..<totals.count {
            totals[m].withUnsafeMutableBufferPointer { t in
                parent.withUnsafeBufferPointer { p in
                    let t0 = t.baseAddress!
                    var i = n - 1
                    while i > 0 {
                        if i > ahead { perftop_prefetch(t0 + Int(p[i - ahead])) }
                        t[Int(p[i])] += t[i]
                        i -= 1
                    }
                }
            }
        }
        return totals
    }

    init(parent: [Int32], frame: [Int32], selfWeight: [[Double]], orderMetric: Int) {
        self.init(parent: parent, frame: frame, selfWeight: selfWeight,
                  totalWeight: CallTree.totals(parent: parent, selfWeight: selfWeight), orderMetric: orderMetric)
    }

    /// With the totals already summed (`totals(parent:selfWeight:)`); scratch from `scratch`.
    init(parent: [Int32], frame: [Int32], selfWeight: [[Double]], totalWeight totals: [[Double]], orderMetric: Int,
         scratch: SpareMemory = SpareMemory()) {
        self.init(parent: parent, frame: frame, selfWeight: selfWeight, totalWeight: { totals }, orderMetric: orderMetric,
                  scratch: scratch)
    }

    /// With the totals summed elsewhere meanwhile: `totals()` is called only once the children
    /// are grouped, before they are sorted by weight (`freeze` sums them on its other core).
    /// `columns`: arrays made ahead for the three per-node columns (see `SpareColumns`).
    init(parent: [Int32], frame: [Int32], selfWeight: [[Double]], totalWeight totalsWhenNeeded: () -> [[Double]],
         orderMetric: Int, scratch: SpareMemory, columns: SpareColumns? = nil) {
        let n = parent.count
        self.parent = parent
        self.frame = frame
        self.selfWeight = selfWeight
        self.orderMetric = orderMetric
        var start = columns?.take(n + 1, repeating: 0) ?? [Int32].big(repeating: 0, count: n + 1)
        parent.withUnsafeBufferPointer { p in
            start.withUnsafeMutableBufferPointer { s in
                let s0 = s.baseAddress!
                for i in 1..<max(n, 1) {
                    if i + CallTree.ahead < n { perftop_prefetch(s0 + Int(p[i + CallTree.ahead]) + 1) }
                    s[Int(p[i]) + 1] += 1
                }
                for i in 0..<n { s[i + 1] += s[i] }
            }
        }
        // Children grouped by parent (CSR), each group sorted heaviest first (ties: older
        // first), and each child's position in its group. Flat buffers: with array bounds and
        // uniqueness checks this was the slower half of a freeze on 1.5M nodes.
        var list = columns?.take(max(n - 1, 0), repeating: 0) ?? [Int32].big(repeating: 0, count: max(n - 1, 0))
        var pos = columns?.take(n, repeating: 0) ?? [Int32].big(repeating: 0, count: n)
        let fill = scratch.take(n + 1, of: Int32.self)
        parent.withUnsafeBufferPointer { p in
        list.withUnsafeMutableBufferPointer { l in
        start.withUnsafeBufferPointer { start in
            fill.initialize(from: start.baseAddress!, count: n + 1)
            let l0 = l.baseAddress!
            for i in 1..<max(n, 1) {
                if i + CallTree.ahead < n { perftop_prefetch(fill + Int(p[i + CallTree.ahead])) }
                if i + CallTree.ahead / 2 < n { perftop_prefetch(l0 + Int(fill[Int(p[i + CallTree.ahead / 2])])) }
                let q = Int(p[i])
                l[Int(fill[q])] = Int32(i)
                fill[q] += 1
            }
        }}}
        let totals = totalsWhenNeeded()
        totalWeight = totals
        let w = totals.isEmpty ? [Double](repeating: 0, count: n) : totals[orderMetric]
        list.withUnsafeMutableBufferPointer { l in
        pos.withUnsafeMutableBufferPointer { pos in
        start.withUnsafeBufferPointer { start in
        w.withUnsafeBufferPointer { w in
            @inline(__always) func before(_ x: Int32, _ y: Int32) -> Bool {
                let wx = w[Int(x)], wy = w[Int(y)]
                return wx != wy ? wx > wy : x < y
            }
            // Children's weights and positions are scattered: load them a stretch ahead.
            let w0 = w.baseAddress!, pos0 = pos.baseAddress!
            var loaded = 0
            for q in 0..<n {
                let a = Int(start[q]), b = Int(start[q + 1])
                guard b - a > 1 else { continue }
                let upTo = min(b + CallTree.ahead, n - 1)
                if loaded < upTo {
                    for k in max(loaded, a)..<upTo { let c = Int(l[k]); perftop_prefetch(w0 + c); perftop_prefetch(pos0 + c) }
                    loaded = upTo
                }
                if b - a <= 16 {
                    // Insertion sort: most groups are small.
                    for i in (a + 1)..<b {
                        let x = l[i]
                        var j = i
                        while j > a && before(x, l[j - 1]) { l[j] = l[j - 1]; j -= 1 }
                        l[j] = x
                    }
                } else {
                    var r = UnsafeMutableBufferPointer(rebasing: l[a..<b])
                    r.sort(by: before)
                }
                for k in a..<b { pos[Int(l[k])] = Int32(k - a) }
            }
        }}}}
        childStart = start
        childList = list
        childPosition = pos
    }

    /// How many frames deep `n` is (the root's children are 1). Not stored: views ask it for
    /// the rows they draw, and a column would cost every tree four bytes a node.
    public func depth(of n: Int32) -> Int {
        var d = 0, i = n
        while i > 0 { d += 1; i = parent[Int(i)] }
        return d
    }

    /// Every node's depth, for passes over the whole tree (parents come first).
    public func depths() -> [Int32] {
        let n = count
        var d = [Int32].big(repeating: 0, count: n)
        d.withUnsafeMutableBufferPointer { d in
            parent.withUnsafeBufferPointer { p in
                for i in 1..<max(n, 1) { d[i] = d[Int(p[i])] + 1 }
            }
        }
        return d
    }

    /// The deepest node's depth: a pass over every node (and a column for it), so a caller that
    /// needs it twice keeps it.
    public func maxDepth() -> Int { Int(depths().max() ?? 0) }

    /// The next sibling in weight order, or -1.
    @inline(__always)
    public func nextSibling(_ n: Int32) -> Int32 {
        guard n > 0 else { return -1 }
        let p = Int(parent[Int(n)])
        let i = Int(childStart[p]) + Int(childPosition[Int(n)]) + 1
        return i < Int(childStart[p + 1]) ? childList[i] : -1
    }

    /// The previous sibling in weight order, or -1.
    @inline(__always)
    public func previousSibling(_ n: Int32) -> Int32 {
        guard n > 0, childPosition[Int(n)] > 0 else { return -1 }
        let p = Int(parent[Int(n)])
        return childList[Int(childStart[p]) + Int(childPosition[Int(n)]) - 1]
    }

    /// The heaviest child, or -1.
    @inline(__always)
    public func firstChild(_ n: Int32) -> Int32 {
        childStart[Int(n)] < childStart[Int(n) + 1] ? childList[Int(childStart[Int(n)])] : -1
    }

    /// The lightest (last) child, or -1.
    @inline(__always)
    public func lastChild(_ n: Int32) -> Int32 {
        childStart[Int(n)] < childStart[Int(n) + 1] ? childList[Int(childStart[Int(n) + 1]) - 1] : -1
    }

    /// The child of `node` with frame `f`, or -1 (a linear scan of the children).
    public func child(of node: Int32, frame f: Int32) -> Int32 {
        for c in children(node) where frame[Int(c)] == f { return c }
        return -1
    }

    /// The frames from the root down to `node` (the node's identity across rebuilt trees).
    public func framePath(to node: Int32) -> [Int32] { path(to: node).map { frame[Int($0)] } }

    /// The node reached by following `frames` from the root, or the deepest prefix found.
    public func node(followingFrames frames: [Int32]) -> (node: Int32, exact: Bool) {
        var n: Int32 = 0
        for f in frames {
            let c = child(of: n, frame: f)
            if c < 0 { return (n, false) }
            n = c
        }
        return (n, true)
    }

    @inline(__always)
    public func children(_ node: Int32) -> ArraySlice<Int32> {
        childList[Int(childStart[Int(node)])..<Int(childStart[Int(node) + 1])]
    }

    /// Children heaviest first by `metric`; free when `metric == orderMetric`.
    public func children(_ node: Int32, by metric: Int) -> [Int32] {
        let c = children(node)
        if metric == orderMetric || c.count < 2 { return Array(c) }
        let w = totalWeight[metric]
        return c.sorted { w[Int($0)] != w[Int($1)] ? w[Int($0)] > w[Int($1)] : $0 < $1 }
    }

    public func childCount(_ node: Int32) -> Int {
        Int(childStart[Int(node) + 1] - childStart[Int(node)])
    }

    /// Follows the heaviest child from `start` down to a leaf.
    public func hotPath(from start: Int32 = 0, metric: Int) -> [Int32] {
        var path: [Int32] = []
        var n = start
        while true {
            let c = children(n, by: metric)
            guard let first = c.first, totalWeight[metric][Int(first)] > 0 else { break }
            path.append(first)
            n = first
        }
        return path
    }

    /// Nodes from the root's child down to `node`.
    public func path(to node: Int32) -> [Int32] {
        var p: [Int32] = []
        var n = node
        while n > 0 { p.append(n); n = parent[Int(n)] }
        return p.reversed()
    }
}
