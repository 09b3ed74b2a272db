import CPrefetch

/// Per-function self and total weights, and caller → callee edges.
///
/// Derived from a call tree, a function's total counts each stack once even under recursion
/// (the speedscope and pprof rule): a node adds to its function's total only when no ancestor
/// node belongs to the same function. Edges follow the same rule per (caller, callee) pair;
/// see CallEdges.swift.
public struct FunctionTable: Sendable {
    public let count: Int
    /// `selfWeight[metric][function]`
    public let selfWeight: [[Double]]
    public let totalWeight: [[Double]]
    /// Call counts where the format records them (pstats: nc and cc); nil otherwise.
    public let calls: [Int64]?
    public let primitiveCalls: [Int64]?
    public let edgeCaller: [Int32]
    public let edgeCallee: [Int32]
    /// `edgeWeight[metric][edge]`: weight that flows through the call.
    public let edgeWeight: [[Double]]
    /// Edge call counts where known (pstats).
    public let edgeCalls: [Int64]?
    /// Edge ids grouped by callee (callers of f) and by caller (callees of f), CSR.
    public let byCalleeStart: [Int32], byCallee: [Int32]
    public let byCallerStart: [Int32], byCaller: [Int32]
    /// Tree nodes of each function (CSR), in node order; built on first use (see `FunctionNodes`).
    public var nodesStart: [Int32] { nodeLists?.lists.start ?? [] }
    public var nodes: [Int32] { nodeLists?.lists.list ?? [] }
    private(set) var nodeLists: FunctionNodes?
    /// True when the format recorded the call graph (pstats, callgrind); otherwise edges come
    /// from the tree, per function, through `Profile.callers(of:)` and `callees(of:)`.
    public internal(set) var hasExplicitEdges = true

    public func callers(of fn: Int32) -> ArraySlice<Int32> {
        byCallee[Int(byCalleeStart[Int(fn)])..<Int(byCalleeStart[Int(fn) + 1])]
    }
    public func callees(of fn: Int32) -> ArraySlice<Int32> {
        byCaller[Int(byCallerStart[Int(fn)])..<Int(byCallerStart[Int(fn) + 1])]
    }
    public func nodes(of fn: Int32) -> ArraySlice<Int32> {
        guard let (start, list) = nodeLists?.lists, fn >= 0, Int(fn) + 1 < start.count else { return [] }
        return list[Int(start[Int(fn)])..<Int(start[Int(fn) + 1])]
    }

    /// Derives the table from a tree.
    public init(tree: CallTree, frames: FrameTable, metricCount: Int) {
        self.init(parent: tree.parent, frame: tree.frame, selfWeight: tree.selfWeight, totalWeight: tree.totalWeight,
                  frames: frames, metricCount: metricCount)
    }

    /// Derives the table from a tree's arrays (parents before children, as builders make
    /// them) in one forward pass over flat buffers: no child lists needed, so `freeze` can build
    /// this while the call tree sorts its children. Per-node scratch comes from `scratch`.
    init(parent: [Int32], frame: [Int32], selfWeight: [[Double]], totalWeight: [[Double]], frames: FrameTable, metricCount: Int,
         scratch: SpareMemory = SpareMemory()) {
        let F = frames.functionCount
        let M = metricCount
        let N = parent.count
        var selfFlat = [Double](repeating: 0, count: M * F)
        var totalFlat = [Double](repeating: 0, count: M * F)
        // A node adds to its function's total when it is the outermost of that function on its
        // stack: no ancestor has the same function. Each node carries a Bloom filter of its
        // ancestors' functions, two 64-bit words with one bit of each function in each: a clear
        // bit proves it outermost; both bits set (recursion, or collisions) walks up to check.
        // With one word, a fifth of the benchmark's 1.55M nodes walked, ~15 ancestors each,
        // nearly all for collisions; with two, a fifteenth. Deep stacks of distinct functions
        // fill the filter, and the walks grow with depth (quadratic: depth 100k took 11 s), so
        // once the walks pass a few steps a node the rest come from `OutermostWalk`, exact and
        // linear, which on shallow trees would cost more than the filter.
        let bloom = scratch.take(2 * max(N, 1), of: UInt64.self)
        bloom[0] = 0; bloom[1] = 0
        @inline(__always) func bits(_ fn: Int32) -> (UInt64, UInt64) {
            let h = UInt64(UInt32(bitPattern: fn)) &* 0x9E37_79B9_7F4A_7C15
            return (1 << (h >> 58), 1 << ((h >> 52) & 63))
        }
        var walkBudget = 4 * N + 4096
        var exact: UnsafeMutablePointer<Bool>? = nil
        withBuffers(selfWeight) { sw in
        withBuffers(totalWeight) { tw in
        frames.frameFunction.withUnsafeBufferPointer { frameFn in
        parent.withUnsafeBufferPointer { parent in
        frame.withUnsafeBufferPointer { frame in
        selfFlat.withUnsafeMutableBufferPointer { selfW in
        totalFlat.withUnsafeMutableBufferPointer { totalW in
            @inline(__always) func function(_ n: Int) -> Int32 {
                let f = frame[n]
                return f >= 0 ? frameFn[Int(f)] : -1
            }
            // The filter is read no more once the walk runs: the walk's arrays go in its memory,
            // already touched, instead of as much again in fresh pages.
            func walk() -> UnsafeMutablePointer<Bool> {
                return OutermostWalk.run(parent: parent, count: N, scratch: scratch, functionCount: F,
                                         reusing: UnsafeMutableRawPointer(bloom), bytes: 16 * max(N, 1),
                                         prefetchFunction: { perftop_prefetch(frame.baseAddress! + $0) }, function: function)
            }
            let ahead = CallTree.ahead
            let budget = walkBudget
            for n in 1..<max(N, 1) {
                // Walks at a steady rate of a few steps a node (recursion all over the tree) would
                // spend the budget only near the end, the filter's pass then wasted: they switch
                // as soon as the rate shows, checked every 64k nodes.
                if exact == nil && n & 0xFFFF == 0 && budget - walkBudget > 2 * n { exact = walk() }
                let fn: Int32
                var outer = true
                if let exact {
                    fn = function(n)
                    guard fn >= 0 else { continue }
                    outer = exact[n]
                } else {
                    if n + ahead < N { let q = Int(parent[n + ahead]); perftop_prefetch(frame.baseAddress! + q); perftop_prefetch(bloom + 2 * q) }
                    fn = function(n)
                    let p = Int(parent[n])
                    let pf = function(p)
                    var b0 = bloom[2 * p], b1 = bloom[2 * p + 1]
                    if pf >= 0 { let (x, y) = bits(pf); b0 |= x; b1 |= y }
                    bloom[2 * n] = b0; bloom[2 * n + 1] = b1
                    guard fn >= 0 else { continue }
                    let (x, y) = bits(fn)
                    if b0 & x != 0 && b1 & y != 0 {
                        var k = p
                        while k > 0 {
                            walkBudget -= 1
                            if function(k) == fn { outer = false; break }
                            if bloom[2 * k] & x == 0 || bloom[2 * k + 1] & y == 0 { break }      // nor any ancestor of k
                            k = Int(parent[k])
                        }
                        if walkBudget < 0 {
                            let e = walk()
                            exact = e
                            outer = e[n]
                        }
                    }
                }
                for m in 0..<M {
                    let i = m * F + Int(fn)
                    selfW[i] += sw[m][n]
                    if outer { totalW[i] += tw[m][n] }
                }
            }
        }}}}}}}
        let selfW = (0..<M).map { Array(selfFlat[$0 * F..<($0 + 1) * F]) }
        let totalW = (0..<M).map { Array(totalFlat[$0 * F..<($0 + 1) * F]) }
        // Edges are derived from the tree on demand (Profile.callers(of:)): most loads never need them.
        self.init(count: F, selfWeight: selfW, totalWeight: totalW, calls: nil, primitiveCalls: nil,
                  edgeCaller: [], edgeCallee: [], edgeWeight: (0..<M).map { _ in [] }, edgeCalls: nil,
                  nodeLists: FunctionNodes(frame: frame, frameFunction: frames.frameFunction, functionCount: F))
        hasExplicitEdges = false
    }

    /// The table of a tree whose function totals are known (`ProfileBuilder.functionTotals`):
    /// only the self weights are summed from the nodes, in node order as the derived table does.
    init(frame: [Int32], selfWeight: [[Double]], functionTotals: [[Double]], frames: FrameTable, metricCount M: Int) {
        let F = frames.functionCount
        let N = frame.count
        var selfW = (0..<M).map { _ in [Double](repeating: 0, count: F) }
        frames.frameFunction.withUnsafeBufferPointer { frameFn in
        frame.withUnsafeBufferPointer { frame in
            for m in 0..<M {
                selfWeight[m].withUnsafeBufferPointer { sw in
                selfW[m].withUnsafeMutableBufferPointer { out in
                    for n in 1..<max(N, 1) {
                        let f = frame[n]
                        guard f >= 0 else { continue }
                        let fn = frameFn[Int(f)]
                        if fn >= 0 { out[Int(fn)] += sw[n] }
                    }
                }}
            }
        }}
        self.init(count: F, selfWeight: selfW, totalWeight: functionTotals, calls: nil, primitiveCalls: nil,
                  edgeCaller: [], edgeCallee: [], edgeWeight: (0..<M).map { _ in [] }, edgeCalls: nil,
                  nodeLists: FunctionNodes(frame: frame, frameFunction: frames.frameFunction, functionCount: F))
        hasExplicitEdges = false
    }

    /// Builds a table from explicit values (exact formats such as pstats).
    init(count: Int, selfWeight: [[Double]], totalWeight: [[Double]], calls: [Int64]?,
         primitiveCalls: [Int64]?, edgeCaller: [Int32], edgeCallee: [Int32],
         edgeWeight: [[Double]], edgeCalls: [Int64]?, nodeLists: FunctionNodes? = nil) {
        self.count = count
        self.selfWeight = selfWeight
        self.totalWeight = totalWeight
        self.calls = calls
        self.primitiveCalls = primitiveCalls
        self.edgeCaller = edgeCaller
        self.edgeCallee = edgeCallee
        self.edgeWeight = edgeWeight
        self.edgeCalls = edgeCalls
        (byCalleeStart, byCallee) = FunctionTable.group(edgeCallee, count: count)
        (byCallerStart, byCaller) = FunctionTable.group(edgeCaller, count: count)
        self.nodeLists = nodeLists
    }

    /// Returns a copy whose node lists come from `tree` (for exact tables built before the tree).
    func withNodes(from tree: CallTree, frames: FrameTable) -> FunctionTable {
        withNodeLists(FunctionNodes(frame: tree.frame, frameFunction: frames.frameFunction, functionCount: count))
    }

    /// A copy without node lists, to carry into a rebuilt tree (`Profile.init` adds that tree's).
    func strippedOfNodes() -> FunctionTable { withNodeLists(nil) }

    /// A copy with other node lists; figures, edges and their grouping are shared.
    private func withNodeLists(_ lists: FunctionNodes?) -> FunctionTable {
        var t = self
        t.nodeLists = lists
        return t
    }

    /// Edge ids grouped by key (CSR); keys outside 0..<count are left out. Flat buffers: with
    /// array checks per element this was ~190 instructions an edge, a sixth of loading a
    /// 100k-function pstats file (300k edges, grouped twice).
    static func group(_ keys: [Int32], count: Int) -> ([Int32], [Int32]) {
        var start = [Int32](repeating: 0, count: count + 1)
        var list: [Int32] = []
        keys.withUnsafeBufferPointer { keys in
            start.withUnsafeMutableBufferPointer { start in
                for k in keys where k >= 0 && Int(k) < count { start[Int(k) + 1] += 1 }
                for i in 0..<count { start[i + 1] += start[i] }
            }
            list = [Int32](unsafeUninitializedCapacity: Int(start[count])) { out, initialized in
                let fill = UnsafeMutablePointer<Int32>.allocate(capacity: count + 1)
                defer { fill.deallocate() }
                start.withUnsafeBufferPointer { fill.initialize(from: $0.baseAddress!, count: count + 1) }
                for (e, k) in keys.enumerated() where k >= 0 && Int(k) < count {
                    out[Int(fill[Int(k)])] = Int32(truncatingIfNeeded: e)
                    fill[Int(k)] += 1
                }
                initialized = out.count
            }
        }
        return (start, list)
    }
}

/// Which nodes are the outermost of their function on their stack, by one depth-first walk
/// keeping a count per function of the nodes on the current path: linear in the nodes
/// whatever the depth (the Bloom filter's ancestor walks are quadratic in it).
enum OutermostWalk {
    /// `outer[n]` for every node (parents before children); memory from `reused[0..<bytes]`
    /// (a finished pass's, 64-byte aligned) while it lasts, then from `scratch`.
    /// `prefetchFunction(n)` starts loading what `function(n)` reads.
    static func run(parent: UnsafeBufferPointer<Int32>, count N: Int, scratch: SpareMemory, functionCount F: Int,
                    reusing reused: UnsafeMutableRawPointer? = nil, bytes: Int = 0,
                    prefetchFunction: (Int) -> Void = { _ in },
                    function: (Int) -> Int32) -> UnsafeMutablePointer<Bool> {
        var next = reused, left = reused == nil ? 0 : bytes
        func take<T>(_ count: Int, of type: T.Type) -> UnsafeMutablePointer<T> {
            let size = (count * MemoryLayout<T>.stride + 63) & ~63
            guard let p = next, size <= left else { return scratch.take(count, of: type) }
            next = p + size
            left -= size
            return p.bindMemory(to: type, capacity: count)
        }
        let outer = take(max(N, 1), of: Bool.self)
        outer.initialize(repeating: true, count: max(N, 1))
        guard N > 1 else { return outer }
        // Children as CSR.
        let start = take(N + 1, of: Int32.self)
        start.initialize(repeating: 0, count: N + 1)
        for n in 1..<N { start[Int(parent[n]) + 1] += 1 }
        for i in 0..<N { start[i + 1] += start[i] }
        let fill = take(N, of: Int32.self)
        fill.initialize(from: start, count: N)
        let children = take(N, of: Int32.self)
        for n in 1..<N {
            let p = Int(parent[n])
            children[Int(fill[p])] = Int32(n)
            fill[p] += 1
        }
        // Pre-order walk; `path` holds the current node's ancestors, unwound on the way.
        var onPath = [Int32](repeating: 0, count: max(F, 1))
        let todo = fill          // reused: at most N - 1 nodes wait at once
        // Last: it is written only as deep as the tree goes, so fresh pages past the reused
        // memory are mostly never touched.
        let path = take(N, of: Int32.self)
        var pending = 0, depth = 0
        path[0] = 0
        depth = 1
        for c in start[0]..<start[1] { todo[pending] = children[Int(c)]; pending += 1 }
        onPath.withUnsafeMutableBufferPointer { onPath in
            while pending > 0 {
                pending -= 1
                let n = Int(todo[pending])
                let p = parent[n]
                while path[depth - 1] != p {
                    depth -= 1
                    let f = function(Int(path[depth]))
                    if f >= 0 { onPath[Int(f)] -= 1 }
                }
                let f = function(n)
                if f >= 0 {
                    outer[n] = onPath[Int(f)] == 0
                    onPath[Int(f)] += 1
                }
                path[depth] = Int32(n)
                depth += 1
                // Children are anywhere in the columns: their entries load while the ones
                // before them are walked.
                for c in start[n]..<start[n + 1] {
                    let k = Int(children[Int(c)])
                    perftop_prefetch(parent.baseAddress! + k)
                    perftop_prefetch(start + k)
                    prefetchFunction(k)
                    todo[pending] = Int32(k)
                    pending += 1
                }
            }
        }
        return outer
    }
}

/// The tree nodes of each function (CSR, in node order), built from the tree's frames the
/// first time a view asks (callers, callees, source lines): on the 105 MB folded benchmark
/// they are 6 MB written in 20k scattered streams, ~13 ms a load, which the first screen (the
/// function table, the hot path) never needs. Thread-safe; a profile shares one.
final class FunctionNodes: @unchecked Sendable {
    private var built: (start: [Int32], list: [Int32])?
    private var frame: [Int32], frameFunction: [Int32]
    private let functionCount: Int
    private let lock = Lock()

    init(frame: [Int32], frameFunction: [Int32], functionCount: Int) {
        self.frame = frame
        self.frameFunction = frameFunction
        self.functionCount = functionCount
    }

    var lists: (start: [Int32], list: [Int32]) {
        lock.withLock {
            if let built { return built }
            let b = FunctionNodes.build(frame: frame, frameFunction: frameFunction, functionCount: functionCount)
            built = b
            frame = []
            frameFunction = []
            return b
        }
    }

    private static func build(frame: [Int32], frameFunction: [Int32], functionCount F: Int) -> (start: [Int32], list: [Int32]) {
        var start = [Int32](repeating: 0, count: F + 1)
        var list = [Int32]()
        frame.withUnsafeBufferPointer { frame in
        frameFunction.withUnsafeBufferPointer { frameFn in
            @inline(__always) func function(_ n: Int) -> Int {
                let f = Int(frame[n])
                return f >= 0 && f < frameFn.count ? Int(frameFn[f]) : -1
            }
            start.withUnsafeMutableBufferPointer { start in
                for n in 1..<max(frame.count, 1) {
                    let fn = function(n)
                    if fn >= 0 && fn < F { start[fn + 1] += 1 }
                }
                for i in 0..<F { start[i + 1] += start[i] }
            }
            list = [Int32].big(repeating: 0, count: Int(start[F]))
            var fill = start
            list.withUnsafeMutableBufferPointer { list in
            fill.withUnsafeMutableBufferPointer { fill in
                for n in 1..<max(frame.count, 1) {
                    let fn = function(n)
                    guard fn >= 0 && fn < F else { continue }
                    list[Int(fill[fn])] = Int32(n)
                    fill[fn] += 1
                }
            }}
        }}
        return (start, list)
    }
}

/// `body` with a buffer pointer to each of `arrays` (one per metric).
func withBuffers<T, R>(_ arrays: [[T]], _ body: ([UnsafeBufferPointer<T>]) -> R) -> R {
    func nest(_ i: Int, _ buffers: [UnsafeBufferPointer<T>]) -> R {
        i == arrays.count ? body(buffers) : arrays[i].withUnsafeBufferPointer { nest(i + 1, buffers + [$0]) }
    }
    return nest(0, [])
}
