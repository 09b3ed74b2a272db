extension Profile {
    /// The bottom-up tree: roots are the functions where time was spent, children are their
    /// callers. Thread and process frames are left out. A root's self is its total (all of
    /// that function's self time along those stacks); a caller's self is 0, since the time was
    /// not spent in it. So self no longer sums to the totals: the totals are those of the
    /// stacks. The function table is this profile's: turning the tree over changes no function.
    public func inverted() -> Profile {
        let b = derivedBuilder()
        // Room up front: regrowing the child index and the node columns step by step was half of
        // inverting the 1.55M-node benchmark tree (2.47M nodes inverted). The inverted tree has
        // at most one node per frame of each stack that has weight (its depth), and rarely more
        // than twice the tree's.
        func weighted(_ i: Int) -> Bool { (0..<metrics.count).contains { tree.selfWeight[$0][i] != 0 } }
        var bound = 0
        let depth = tree.depths()
        for i in 1..<max(tree.count, 1) where weighted(i) { bound += Int(depth[i]) }
        b.reserve(nodes: min(bound, 2 * tree.count) + 1)
        var path: [Int32] = []
        for i in 1..<max(tree.count, 1) where weighted(i) {
            path.removeAll(keepingCapacity: true)
            var k = Int32(i)
            while k > 0 {
                let f = tree.frame[Int(k)]
                if f >= 0 && !frames.frameKind[Int(f)].isGrouping { path.append(f) }
                k = tree.parent[Int(k)]
            }
            let node = path.withUnsafeBufferPointer { b.descend(from: 0, through: $0) }
            for m in 0..<metrics.count where tree.selfWeight[m][i] != 0 { b.addSelf(node, metric: m, tree.selfWeight[m][i]) }
        }
        b.exactFunctions = functions.strippedOfNodes()
        let stacks = freezeDerived(b)
        let t = stacks.tree
        var selfWeight = t.totalWeight
        for m in 0..<selfWeight.count {
            for n in 0..<t.count where n == 0 || t.parent[n] != 0 { selfWeight[m][n] = 0 }
        }
        return stacks.with(tree: CallTree(parent: t.parent, frame: t.frame, selfWeight: selfWeight,
                                          totalWeight: t.totalWeight, orderMetric: t.orderMetric))
    }
}
