extension Profile {
    /// Merges every node of the functions in `hidden` into its parent (its self weight moves up).
    public func hiding(_ hidden: Set<Int32>) -> Profile {
        guard !hidden.isEmpty else { return self }
        let keep = (0..<frames.frameCount).map { f -> Int32 in
            let fn = frames.frameFunction[f]
            return fn < 0 || !hidden.contains(fn) ? Int32(f) : -1
        }
        // A stack that passed through another function still does, so every other function's
        // total (its outermost call on each stack) stays as it was, and a merged one has none:
        // only self weights need summing again. Not for a table that is not the tree's own
        // (an exact one from a reader: its totals follow that format's rules).
        var totals: [[Double]]? = nil
        if !functions.hasExplicitEdges && functions.count == frames.functionCount {
            totals = functions.totalWeight.map { column in
                var c = column
                for fn in hidden where fn >= 0 && Int(fn) < c.count { c[Int(fn)] = 0 }
                return c
            }
        }
        return rebuilt(frames: frames, sameFunctions: false, frameMap: keep, functionTotals: totals)
    }
}
