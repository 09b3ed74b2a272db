extension Profile {
    /// The same tree with other self weights (a live time window): nodes left with no weight
    /// are dropped. `weights[metric][node]` must cover this profile's nodes.
    public func withSelfWeights(_ weights: [[Double]]) -> Profile {
        let n = tree.count
        var total = weights
        for m in 0..<total.count {
            if total[m].count < n { total[m] += [Double](repeating: 0, count: n - total[m].count) }
            var i = n - 1
            while i > 0 { total[m][Int(tree.parent[i])] += total[m][i]; i -= 1 }
        }
        let w = total
        let sw = weights
        let b = derivedBuilder()
        let mapped = b.appendKept(parent: tree.parent, frame: tree.frame) { i in w.contains(where: { $0[i] != 0 }) }
        for m in 0..<min(metrics.count, sw.count) {
            for i in 1..<max(1, min(n, sw[m].count)) where sw[m][i] != 0 && mapped[i] != 0 { b.addSelf(mapped[i], metric: m, sw[m][i]) }
        }
        return freezeDerived(b)
    }
}
