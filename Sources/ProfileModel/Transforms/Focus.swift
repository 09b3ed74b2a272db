extension Profile {
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
}
