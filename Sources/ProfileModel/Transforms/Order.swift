extension Profile {
    /// The same profile with children ordered by `metric` (node ids and frame paths stay; the
    /// totals are kept as they are, since an inverted tree's roots hold their total as self).
    public func ordered(by metric: Int) -> Profile {
        guard metric != tree.orderMetric, metric < metrics.count else { return self }
        return with(tree: CallTree(parent: tree.parent, frame: tree.frame, selfWeight: tree.selfWeight,
                                   totalWeight: tree.totalWeight, orderMetric: metric))
    }
}
