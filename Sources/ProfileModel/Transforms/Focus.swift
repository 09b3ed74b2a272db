extension Profile {
    /// Only the stacks that pass through `fn` (pprof's `-focus`): ancestors keep the weight
    /// that flows into `fn`, everything below `fn` is kept whole.
    public func focused(on fn: Int32) -> Profile { focused(onAny: [fn]) }

    /// Only the stacks that pass through any of `fns`.
    public func focused(onAny fns: Set<Int32>) -> Profile {
        let n = tree.count
        let through = throughNodes(fns)                      // a focused function is on the path to the node
        var reaches = [Bool](repeating: false, count: n)     // ... or in the node's subtree
        var i = n - 1
        while i > 0 {
            if through[i] { reaches[i] = true }
            if reaches[i] { reaches[Int(tree.parent[i])] = true }
            i -= 1
        }
        return rebuiltWeights(keepNode: { reaches[$0] }, keepSelf: { through[$0] })
    }

    /// For each node, whether one of `fns` is on its path (the node included). By frame, then
    /// spread down the tree: a set lookup a node (hashing its function) was a quarter of `d`.
    func throughNodes(_ fns: Set<Int32>) -> [Bool] {
        let n = tree.count
        var hit = [Bool](repeating: false, count: frames.frameCount)
        for f in 0..<frames.frameCount where frames.frameFunction[f] >= 0 && fns.contains(frames.frameFunction[f]) { hit[f] = true }
        var through = [Bool](repeating: false, count: n)
        tree.parent.withUnsafeBufferPointer { parent in
        tree.frame.withUnsafeBufferPointer { frame in
        hit.withUnsafeBufferPointer { hit in
        through.withUnsafeMutableBufferPointer { through in
            for i in 1..<max(n, 1) {
                let f = frame[i]
                through[i] = through[Int(parent[i])] || (f >= 0 && hit[Int(f)])
            }
        }}}}
        return through
    }
}
