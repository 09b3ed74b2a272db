/// A loaded profile. Read-only: transforms (invert, focus, merge threads, diff) make new ones.
public final class Profile: Sendable {
    public let source: String
    public let format: String
    public let metrics: [ValueType]
    public let defaultMetric: Int
    public let frames: FrameTable
    public let tree: CallTree
    public let functions: FunctionTable
    /// True when the tree was estimated from a call graph (pstats, callgrind).
    public let estimatedTree: Bool
    public let sampleCount: Int?
    public let warnings: [String]
    public let metadata: [(String, String)]
    /// How many threads the reader merged while reading (`ReadOptions.mergeThreads`): their
    /// samples are in the tree without their thread frames, which a re-read can give back
    /// (the viewer's `t`). 0 for derived profiles.
    public let mergedThreads: Int

    init(source: String, format: String, metrics: [ValueType], defaultMetric: Int, frames: FrameTable,
         tree: CallTree, functions: FunctionTable, estimatedTree: Bool, sampleCount: Int?,
         warnings: [String], metadata: [(String, String)], mergedThreads: Int = 0) {
        self.source = source
        self.format = format
        self.metrics = metrics
        self.defaultMetric = defaultMetric
        self.frames = frames
        self.tree = tree
        self.functions = functions.nodeLists == nil && functions.count > 0
            ? functions.withNodes(from: tree, frames: frames) : functions
        self.estimatedTree = estimatedTree
        self.sampleCount = sampleCount
        self.warnings = warnings
        self.metadata = metadata
        self.mergedThreads = mergedThreads
    }

    /// The profile's total: all sampled weight (including samples that stopped at a thread or
    /// process root), or for call-graph formats the sum of self time over functions, as pstats does.
    /// A step on an estimated tree (a focus, a drop) makes its table from the tree, whose nodes
    /// hold time no function's self does ("(callees not recorded)"): its total is the tree's, as
    /// its functions' totals are (a focus on a recursive function showed it at 9774%).
    public func total(metric: Int) -> Double {
        guard metric < metrics.count else { return 0 }
        if estimatedTree && functions.hasExplicitEdges { return functions.selfWeight[metric].reduce(0, +) }
        return tree.totalWeight[metric][0]
    }

    public func metricIndex(named name: String) -> Int? {
        metrics.firstIndex { $0.name == name || $0.description == name }
    }

    /// The heaviest path from the root. In an estimated tree the weight of a subtree that counts
    /// is the time placed on real functions: "(callees not recorded)" stands for time the call
    /// graph could not place, so following it would lead to a leaf that is no hot spot.
    public func hotPath(metric: Int) -> [Int32] {
        guard estimatedTree, metric < metrics.count else { return tree.hotPath(metric: metric) }
        let unplaced = (0..<frames.frameCount).filter {
            frames.frameKind[$0] == .special && frames.name(ofFrame: Int32($0)) == CallGraphEstimate.unplacedName
        }
        guard !unplaced.isEmpty else { return tree.hotPath(metric: metric) }
        var real = tree.selfWeight[metric]
        for n in 1..<tree.count where unplaced.contains(Int(tree.frame[n])) { real[n] = 0 }
        for n in stride(from: tree.count - 1, to: 0, by: -1) { real[Int(tree.parent[n])] += real[n] }
        var path: [Int32] = []
        var n: Int32 = 0
        while let best = tree.children(n).max(by: { real[Int($0)] != real[Int($1)] ? real[Int($0)] < real[Int($1)] : $0 > $1 }),
              real[Int(best)] > 0 {
            path.append(best)
            n = best
        }
        return path
    }

    /// True for an estimated tree's "(callees not recorded)" node: time the call graph could
    /// not place, which no hot path should end on.
    public func isUnplacedTime(node n: Int32) -> Bool {
        guard estimatedTree, n > 0 else { return false }
        let f = tree.frame[Int(n)]
        return f >= 0 && frames.frameKind[Int(f)] == .special && frames.name(ofFrame: f) == CallGraphEstimate.unplacedName
    }

    /// Whether some node of the tree is of function `fn`. A scan that stops at the first such
    /// node: `functions.nodes(of:)` would first build the node lists of every function, which
    /// a view that only asks this after a transform never needs.
    public func hasNodes(ofFunction fn: Int32) -> Bool {
        guard fn >= 0, Int(fn) < frames.functionCount else { return false }
        let ofFn = frames.frameFunction.map { $0 == fn }
        return tree.frame.withUnsafeBufferPointer { frame in
            ofFn.withUnsafeBufferPointer { ofFn in
                for n in 1..<max(frame.count, 1) where frame[n] >= 0 && Int(frame[n]) < ofFn.count && ofFn[Int(frame[n])] { return true }
                return false
            }
        }
    }

    /// The function of a tree node, or -1 for the root and grouping frames.
    public func function(ofNode n: Int32) -> Int32 {
        // -1 too for no node (an empty tree's selection, a stale id): callers ask of any id.
        guard n >= 0, Int(n) < tree.count else { return -1 }
        let f = tree.frame[Int(n)]
        return f < 0 ? -1 : frames.frameFunction[Int(f)]
    }
}
