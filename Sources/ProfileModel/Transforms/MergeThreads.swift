extension Profile {
    /// Rebuilds the tree keeping only frames for which `keep` is true; a dropped frame's
    /// subtree merges into its parent. Frames, metrics and an exact function table carry over.
    public func rebuilt(format: String? = nil, keep: (Int32) -> Bool) -> Profile {
        rebuilt(format: format, frames: frames) { keep($0) ? $0 : nil }
    }

    /// Rebuilds the tree with each frame replaced by `map(frame)` (nil drops it, merging its
    /// subtree into the parent); identical paths merge. `frames` may extend this profile's table.
    public func rebuilt(format: String? = nil, frames newFrames: FrameTable, map: (Int32) -> Int32?) -> Profile {
        let b = ProfileBuilder(format: format ?? self.format, metrics: metrics, defaultMetric: defaultMetric)
        b.frames = newFrames
        b.estimatedTree = estimatedTree
        b.sampleCount = sampleCount
        b.warnings = warnings
        b.metadata = metadata
        if functions.calls != nil || estimatedTree { b.exactFunctions = functions.strippedOfNodes() }
        let n = tree.count
        b.reserve(nodes: n)
        var mapped = [Int32](repeating: 0, count: n)
        // Samples with no frame at all (an empty stack) sit on the root itself.
        for m in 0..<metrics.count where n > 0 && tree.selfWeight[m][0] != 0 { b.addSelf(0, metric: m, tree.selfWeight[m][0]) }
        for i in 1..<max(n, 1) {
            let p = mapped[Int(tree.parent[i])]
            let node = map(tree.frame[i]).map { b.child(of: p, frame: $0) } ?? p
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

    /// One node per function instead of per executing line (py-spy and austin put the line
    /// into each frame): every frame of a function maps to one frame at the function's line.
    public func mergingLines() -> Profile {
        var ft = frames
        var rep = [Int32](repeating: -1, count: ft.functionCount)
        var changed = false
        var map = [Int32](repeating: -1, count: ft.frameCount)
        for f in 0..<frames.frameCount {
            let fn = frames.frameFunction[f]
            guard fn >= 0 else { map[f] = Int32(f); continue }
            if rep[Int(fn)] < 0 {
                let line = ft.functionLine[Int(fn)]
                rep[Int(fn)] = frames.frameLine[f] == line ? Int32(f)
                    : ft.frame(name: ft.functionName[Int(fn)], file: ft.functionFile[Int(fn)], line: line,
                               kind: ft.functionKind[Int(fn)])
            }
            map[f] = rep[Int(fn)]
            if map[f] != Int32(f) { changed = true }
        }
        guard changed else { return self }
        return rebuilt(frames: ft) { map[Int($0)] }
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
