/// Transforms behind the viewer's keys. Each returns a new profile; the input is untouched.
extension Profile {
    /// The same profile with children ordered by `metric` (the tree is re-indexed; node ids
    /// change, frame paths do not).
    public func ordered(by metric: Int) -> Profile {
        guard metric != tree.orderMetric, metric < metrics.count else { return self }
        let t = CallTree(parent: tree.parent, frame: tree.frame, selfWeight: tree.selfWeight, orderMetric: metric)
        return Profile(source: source, format: format, metrics: metrics, defaultMetric: defaultMetric,
                       frames: frames, tree: t, functions: functions, estimatedTree: estimatedTree,
                       sampleCount: sampleCount, warnings: warnings, metadata: metadata)
    }

    /// Only the stacks that pass through `fn` (pprof's `-focus`): ancestors keep the weight
    /// that flows into `fn`, everything below `fn` is kept whole.
    public func focused(on fn: Int32) -> Profile { focused(onAny: [fn]) }

    /// Only the stacks that pass through any of `fns`.
    public func focused(onAny fns: Set<Int32>) -> Profile {
        let n = tree.count
        var through = [Bool](repeating: false, count: n)     // a focused function is on the path to the node
        var reaches = [Bool](repeating: false, count: n)     // ... or in the node's subtree
        for i in 1..<max(n, 1) {
            through[i] = through[Int(tree.parent[i])] || fns.contains(function(ofNode: Int32(i)))
        }
        var i = n - 1
        while i > 0 {
            if through[i] { reaches[i] = true }
            if reaches[i] { reaches[Int(tree.parent[i])] = true }
            i -= 1
        }
        return rebuiltWeights(keepNode: { reaches[$0] }, keepSelf: { through[$0] })
    }

    /// Merges every node of the functions in `hidden` into its parent (its self weight moves up).
    public func hiding(_ hidden: Set<Int32>) -> Profile {
        guard !hidden.isEmpty else { return self }
        return rebuilt { f in
            let fn = frames.frameFunction[Int(f)]
            return fn < 0 || !hidden.contains(fn)
        }
    }

    /// The bottom-up tree: roots are the functions where time was spent (self), children are
    /// their callers. Thread and process frames are left out.
    public func inverted() -> Profile {
        let b = ProfileBuilder(format: format, metrics: metrics, defaultMetric: defaultMetric)
        b.frames = frames
        b.estimatedTree = estimatedTree
        b.sampleCount = sampleCount
        b.warnings = warnings
        b.metadata = metadata
        // Room up front: regrowing the child index and the node columns step by step was half of
        // inverting the 1.55M-node benchmark tree (2.47M nodes inverted). The inverted tree has
        // at most one node per frame of each stack that has weight (its depth), and rarely more
        // than twice the tree's.
        func weighted(_ i: Int) -> Bool { (0..<metrics.count).contains { tree.selfWeight[$0][i] != 0 } }
        var bound = 0
        for i in 1..<max(tree.count, 1) where weighted(i) { bound += Int(tree.depth[i]) }
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
        if functions.calls != nil || estimatedTree { b.exactFunctions = functions.strippedOfNodes() }
        b.dropIndex()
        return b.freeze(source: source)
    }

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
        let b = ProfileBuilder(format: format, metrics: metrics, defaultMetric: defaultMetric)
        b.frames = frames
        b.warnings = warnings
        b.metadata = metadata
        let mapped = b.appendKept(parent: tree.parent, frame: tree.frame) { i in w.contains(where: { $0[i] != 0 }) }
        for m in 0..<min(metrics.count, sw.count) {
            for i in 1..<max(1, min(n, sw[m].count)) where sw[m][i] != 0 && mapped[i] != 0 { b.addSelf(mapped[i], metric: m, sw[m][i]) }
        }
        b.dropIndex()
        return b.freeze(source: source)
    }

    /// Rebuilds keeping the nodes `keepNode` accepts (their parents must be kept too) and the
    /// self weight of the nodes `keepSelf` accepts.
    func rebuiltWeights(keepNode: (Int) -> Bool, keepSelf: (Int) -> Bool) -> Profile {
        let b = ProfileBuilder(format: format, metrics: metrics, defaultMetric: defaultMetric)
        b.frames = frames
        b.estimatedTree = estimatedTree
        b.warnings = warnings
        b.metadata = metadata
        let mapped = b.appendKept(parent: tree.parent, frame: tree.frame, keep: keepNode)
        for i in 1..<max(tree.count, 1) where mapped[i] != 0 && keepSelf(i) {
            for m in 0..<metrics.count where tree.selfWeight[m][i] != 0 { b.addSelf(mapped[i], metric: m, tree.selfWeight[m][i]) }
        }
        b.dropIndex()
        return b.freeze(source: source)
    }
}
