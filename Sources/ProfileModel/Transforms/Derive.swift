/// The one way a transform makes a profile from another: `derivedBuilder` starts a builder
/// that carries the metrics, frames, sample count, estimated-tree flag, warnings and metadata,
/// and `freezeDerived` finishes it. Transforms that copied these fields by hand drifted
/// (`--focus` lost the sample count, which switched `diff --focus` from shares to absolute).
extension Profile {
    func derivedBuilder(format: String? = nil, frames newFrames: FrameTable? = nil) -> ProfileBuilder {
        let b = ProfileBuilder(format: format ?? self.format, metrics: metrics, defaultMetric: defaultMetric)
        b.frames = newFrames ?? frames
        b.estimatedTree = estimatedTree
        b.sampleCount = sampleCount
        b.warnings = warnings
        b.metadata = metadata
        return b
    }

    /// The derived profile. Its sample count follows the samples it kept: scaled by the share
    /// of the `samples` (count) metric left, so a focus on a third of the stacks counts a third
    /// of the samples; without such a metric the count stays as recorded.
    /// `totals`: each node's total weight in `b`'s tree, when the step has them already.
    func freezeDerived(_ b: ProfileBuilder, totals: [[Double]]? = nil) -> Profile {
        if let n = sampleCount, let s = metrics.firstIndex(where: { $0.name == "samples" && $0.unit == "count" }) {
            let before = tree.totalWeight[s].first ?? 0
            let after = b.selfWeight[s].reduce(0, +)
            if before > 0 { b.sampleCount = Int((Double(n) * after / before).rounded()) }
        }
        b.dropIndex()
        return b.freeze(source: source, totals: totals)
    }

    /// This profile with another tree over the same nodes (the same ids, parents and frames):
    /// the function table and its node lists are kept.
    func with(tree t: CallTree) -> Profile {
        Profile(source: source, format: format, metrics: metrics, defaultMetric: defaultMetric,
                frames: frames, tree: t, functions: functions, estimatedTree: estimatedTree,
                sampleCount: sampleCount, warnings: warnings, metadata: metadata)
    }

    /// Rebuilds keeping the nodes `keepNode` accepts (their parents must be kept too) and the
    /// self weight of the nodes `keepSelf` accepts; `keepSelf(0)` asks for the root's (samples
    /// that stopped above every frame, such as a thread with no stack).
    func rebuiltWeights(keepNode: (Int) -> Bool, keepSelf: (Int) -> Bool) -> Profile {
        let b = derivedBuilder()
        var kept = 1
        for i in 1..<max(tree.count, 1) where keepNode(i) { kept += 1 }
        b.prepareFreezeScratch(nodes: kept)
        let mapped = b.appendKept(parent: tree.parent, frame: tree.frame, keep: keepNode)
        b.addSelf(tree.selfWeight, to: mapped) { i in (i == 0 || mapped[i] != 0) && keepSelf(i) }
        return freezeDerived(b)
    }
}
