extension Profile {
    /// Rebuilds the tree keeping only frames for which `keep` is true; a dropped frame's
    /// subtree merges into its parent. Frames, metrics and an exact function table carry over.
    public func rebuilt(format: String? = nil, keep: (Int32) -> Bool) -> Profile {
        rebuilt(format: format, frames: frames) { keep($0) ? $0 : nil }
    }

    /// Rebuilds the tree with each frame replaced by `map(frame)` (nil drops it, merging its
    /// subtree into the parent); identical paths merge. `frames` may extend this profile's table.
    /// `sameFunctions`: the map changes no function's figures (it drops only thread and process
    /// frames, or joins frames of one function), so the function table carries over instead of
    /// being summed again from the new tree.
    public func rebuilt(format: String? = nil, frames newFrames: FrameTable, sameFunctions: Bool = false,
                        map: (Int32) -> Int32?) -> Profile {
        rebuilt(format: format, frames: newFrames, sameFunctions: sameFunctions,
                frameMap: (0..<frames.frameCount).map { map(Int32($0)) ?? -1 })
    }

    /// `rebuilt` with the map as an array by frame id (-1 drops the frame).
    /// `functionTotals`: every function's total in the new tree, when the caller knows them.
    func rebuilt(format: String? = nil, frames newFrames: FrameTable, sameFunctions: Bool, frameMap: [Int32],
                 functionTotals: [[Double]]? = nil) -> Profile {
        let b = derivedBuilder(format: format, frames: newFrames)
        let keepsFunctions = sameFunctions && newFrames.functionCount == frames.functionCount
        if keepsFunctions || functions.calls != nil || estimatedTree { b.exactFunctions = functions.strippedOfNodes() }
        b.functionTotals = functionTotals
        b.prepareFreezeScratch(nodes: tree.count)
        b.addTree(parent: tree.parent, frame: tree.frame, selfWeight: tree.selfWeight, frameMap: frameMap,
                  original: (tree.parent, tree.frame))
        return freezeDerived(b)
    }

    /// Adds up identical stacks across threads and processes (drops the grouping roots).
    public func mergingThreads() -> Profile { merging(threads: true, lines: false) }

    /// One node per function instead of per executing line (py-spy and austin put the line
    /// into each frame): every frame of a function maps to one frame at the function's line.
    public func mergingLines() -> Profile { merging(threads: false, lines: true) }

    /// `mergingThreads` and/or `mergingLines` in one rebuild (each is a whole tree built anew).
    public func merging(threads: Bool, lines: Bool) -> Profile {
        let dropThreads = threads && frames.frameKind.contains(where: { $0.isGrouping })
        var ft = frames
        var map = (0..<Int32(frames.frameCount)).map { $0 }
        var changed = dropThreads
        if dropThreads {
            for f in 0..<frames.frameCount where frames.frameKind[f].isGrouping { map[f] = -1 }
        }
        if lines {
            var rep = [Int32](repeating: -1, count: ft.functionCount)
            for f in 0..<frames.frameCount where map[f] >= 0 {
                let fn = frames.frameFunction[f]
                guard fn >= 0 else { continue }
                if rep[Int(fn)] < 0 {
                    let line = ft.functionLine[Int(fn)]
                    rep[Int(fn)] = frames.frameLine[f] == line ? Int32(f)
                        : ft.frame(name: ft.functionName[Int(fn)], file: ft.functionFile[Int(fn)], line: line,
                                   kind: ft.functionKind[Int(fn)])
                }
                map[f] = rep[Int(fn)]
                if map[f] != Int32(f) { changed = true }
            }
        }
        guard changed else { return self }
        return rebuilt(frames: ft, sameFunctions: true, frameMap: map)
    }

    public var hasThreads: Bool { frames.frameKind.contains { $0.isGrouping } }
}
