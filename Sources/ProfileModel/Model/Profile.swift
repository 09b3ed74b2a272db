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

    init(source: String, format: String, metrics: [ValueType], defaultMetric: Int, frames: FrameTable,
         tree: CallTree, functions: FunctionTable, estimatedTree: Bool, sampleCount: Int?,
         warnings: [String], metadata: [(String, String)]) {
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
    }

    /// The profile's total: all sampled weight (including samples that stopped at a thread or
    /// process root), or for call-graph formats the sum of self time over functions, as pstats does.
    public func total(metric: Int) -> Double {
        guard metric < metrics.count else { return 0 }
        if estimatedTree { return functions.selfWeight[metric].reduce(0, +) }
        return tree.totalWeight[metric][0]
    }

    public func metricIndex(named name: String) -> Int? {
        metrics.firstIndex { $0.name == name || $0.description == name }
    }

    /// The function of a tree node, or -1 for the root and grouping frames.
    public func function(ofNode n: Int32) -> Int32 {
        let f = tree.frame[Int(n)]
        return f < 0 ? -1 : frames.frameFunction[Int(f)]
    }
}
