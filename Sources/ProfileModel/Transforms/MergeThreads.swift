extension Profile {
    /// Rebuilds the tree keeping only frames for which `keep` is true; a dropped frame's
    /// subtree merges into its parent. Frames, metrics and an exact function table carry over.
    public func rebuilt(format: String? = nil, keep: (Int32) -> Bool) -> Profile {
        let b = ProfileBuilder(format: format ?? self.format, metrics: metrics, defaultMetric: defaultMetric)
        b.frames = frames
        b.estimatedTree = estimatedTree
        b.sampleCount = sampleCount
        b.warnings = warnings
        b.metadata = metadata
        if functions.calls != nil || estimatedTree { b.exactFunctions = functions.strippedOfNodes() }
        let n = tree.count
        var mapped = [Int32](repeating: 0, count: n)
        for i in 1..<max(n, 1) {
            let p = mapped[Int(tree.parent[i])]
            let f = tree.frame[i]
            let node = keep(f) ? b.child(of: p, frame: f) : p
            mapped[i] = node
            for m in 0..<metrics.count {
                let w = tree.selfWeight[m][i]
                if w != 0 { b.addSelf(node, metric: m, w) }
            }
        }
        return b.freeze(source: source)
    }

    /// Adds up identical stacks across threads and processes (drops the grouping roots).
    public func mergingThreads() -> Profile {
        guard frames.frameKind.contains(where: { $0.isGrouping }) else { return self }
        return rebuilt { !frames.frameKind[Int($0)].isGrouping }
    }

    public var hasThreads: Bool { frames.frameKind.contains { $0.isGrouping } }
}

extension FunctionTable {
    func strippedOfNodes() -> FunctionTable {
        FunctionTable(count: count, selfWeight: selfWeight, totalWeight: totalWeight, calls: calls,
                      primitiveCalls: primitiveCalls, edgeCaller: edgeCaller, edgeCallee: edgeCallee,
                      edgeWeight: edgeWeight, edgeCalls: edgeCalls)
    }
}
