/// A builder's nodes: parent, frame, path hash (see `ChildIndex.pathHash`) and one
/// self-weight column per metric. Node 0 is the root.
///
/// The committed nodes are the arrays a frozen tree shares (no copy at `freeze`). A walk
/// appends new nodes to raw pending buffers instead, and `commit` moves them over in one
/// bulk append per column: appending to four Swift arrays per node cost ~200 instructions in
/// uniqueness and capacity checks, a sixth of reading a big folded file (callgrind,
/// BENCHMARKS.md). The owner calls `deallocate()`.
struct NodeColumns {
    private(set) var parent: [Int32] = [-1]
    private(set) var frame: [Int32] = [-1]
    private(set) var pathHash: [UInt32] = [ChildIndex.rootHash]
    /// `weight[metric][node]`, committed nodes only.
    var weight: [[Double]]

    private var pendingParent = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
    private var pendingFrame = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
    private var pendingHash = UnsafeMutablePointer<UInt32>.allocate(capacity: 0)
    private(set) var pending = 0
    private var pendingCapacity = 0

    init(metrics: Int) {
        weight = (0..<metrics).map { _ in [0] }
    }

    func deallocate() {
        pendingParent.deallocate()
        pendingFrame.deallocate()
        pendingHash.deallocate()
    }

    /// Nodes so far, pending ones included.
    var count: Int { parent.count + pending }

    /// The parent of `node`, pending or not: what confirms a child-index candidate.
    @inline(__always)
    func parentOf(_ node: Int32) -> Int32 {
        let i = Int(node), committed = parent.count
        return i < committed ? parent[i] : pendingParent[i - committed]
    }

    /// A new (pending) node with no weight; returns its id.
    @inline(__always)
    mutating func append(parent p: Int32, frame f: Int32, hash: UInt32) -> Int32 {
        if pending == pendingCapacity { growPending() }
        pendingParent[pending] = p
        pendingFrame[pending] = f
        pendingHash[pending] = hash
        pending += 1
        return Int32(truncatingIfNeeded: parent.count + pending - 1)
    }

    private mutating func growPending() {
        let c = max(256, 2 * pendingCapacity)
        pendingParent = pendingParent.moved(count: pending, capacity: c)
        pendingFrame = pendingFrame.moved(count: pending, capacity: c)
        pendingHash = pendingHash.moved(count: pending, capacity: c)
        pendingCapacity = c
    }

    /// Moves the pending nodes to the arrays, with weight 0.
    @inline(__always)
    mutating func commit() {
        if pending > 0 { commitPending() }
    }

    private mutating func commitPending() {
        let n = pending
        parent.append(contentsOf: UnsafeBufferPointer(start: pendingParent, count: n))
        frame.append(contentsOf: UnsafeBufferPointer(start: pendingFrame, count: n))
        if !pathHash.isEmpty { pathHash.append(contentsOf: UnsafeBufferPointer(start: pendingHash, count: n)) }
        for m in weight.indices { weight[m].append(contentsOf: repeatElement(0, count: n)) }
        pending = 0
    }

    /// `count` more nodes, frame and weights 0, for a merge to fill (`fill`) and cut back
    /// (`truncate`). They are in no child index, so the path hashes go (as with
    /// `dropPathHashes`): the owner drops its index after a merge and rebuilds both on demand.
    /// The parent column grows only in `fill`: a merge confirms its child-index candidates by
    /// their parents on one thread while this runs on another.
    mutating func extend(by count: Int) {
        dropPathHashes()
        guard count > 0 else { return }
        frame.append(contentsOf: repeatElement(0, count: count))
        for m in weight.indices { weight[m].append(contentsOf: repeatElement(0, count: count)) }
    }

    /// `body` writes the parents and frames of the nodes from `start` on (see `extend`).
    mutating func fill(from start: Int, _ body: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Void) {
        precondition(pending == 0 && start <= frame.count)
        if parent.count < frame.count { parent.append(contentsOf: repeatElement(0, count: frame.count - parent.count)) }
        parent.withUnsafeMutableBufferPointer { p in
            frame.withUnsafeMutableBufferPointer { f in body(p.baseAddress! + start, f.baseAddress! + start) }
        }
    }

    /// Drops the nodes from `count` on (in each column: after `extend`, the parents are fewer).
    mutating func truncate(to count: Int) {
        precondition(pending == 0 && count <= frame.count)
        guard frame.count > count else { return }
        if parent.count > count { parent.removeLast(parent.count - count) }
        if !pathHash.isEmpty { pathHash.removeLast(pathHash.count - count) }
        frame.removeLast(frame.count - count)
        for m in weight.indices { weight[m].removeLast(weight[m].count - count) }
    }

    /// Keeps the nodes `keep` accepts (and the root), in id order, each under its parent's new
    /// id (the root's when its parent was cut), with their weights; the others go. In place:
    /// a node's new id is never above its old one, so one forward pass moves each column down.
    /// Only without path hashes (the caller dropped its child index: the ids change).
    /// Returns each old node's new id (-1: cut).
    @discardableResult
    mutating func compact(keeping keep: (Int) -> Bool) -> [Int32] {
        commit()
        precondition(pathHash.isEmpty)
        let n = parent.count
        guard n > 1 else { return [Int32](repeating: 0, count: n) }
        var next = 1
        let newId = [Int32](unsafeUninitializedCapacity: n) { ids, initialized in
            ids[0] = 0
            parent.withUnsafeMutableBufferPointer { p in
            frame.withUnsafeMutableBufferPointer { f in
                for i in 1..<n {
                    guard keep(i) else { ids[i] = -1; continue }
                    ids[i] = Int32(truncatingIfNeeded: next)
                    p[next] = max(ids[Int(p[i])], 0)
                    f[next] = f[i]
                    next += 1
                }
            }}
            initialized = n
        }
        for m in weight.indices {
            weight[m].withUnsafeMutableBufferPointer { w in
                var k = 1
                for i in 1..<n where newId[i] >= 0 { w[k] = w[i]; k += 1 }
            }
        }
        truncate(to: next)
        return newId
    }

    mutating func setPathHashes(_ hashes: [UInt32]) {
        precondition(pending == 0 && hashes.count == parent.count)
        pathHash = hashes
    }

    /// Frees the path hashes (they serve the child index only; `setPathHashes` restores them).
    mutating func dropPathHashes() {
        commit()
        pathHash = []
    }

    mutating func reserve(_ n: Int) {
        parent.reserveBig(n)
        frame.reserveBig(n)
        pathHash.reserveBig(n)
        for m in weight.indices { weight[m].reserveBig(n) }
    }

    /// `body` rewrites every node's frame in place (committed first).
    mutating func rewriteFrames(_ body: (UnsafeMutableBufferPointer<Int32>) -> Void) {
        commit()
        frame.withUnsafeMutableBufferPointer { body($0) }
    }

    /// Sets a whole weight column (one value a node).
    mutating func setWeights(_ m: Int, _ column: [Double]) {
        commit()
        precondition(column.count == parent.count)
        weight[m] = column
    }

    /// Takes the parent and frame columns, leaving the root alone with weight 0.
    mutating func takeAll() -> (parent: [Int32], frame: [Int32]) {
        commit()
        let taken = (parent, frame)
        parent = [-1]
        frame = [-1]
        pathHash = [ChildIndex.rootHash]
        for m in weight.indices { weight[m] = [0] }
        return taken
    }

    /// A new weight column, 0 for every node.
    mutating func addMetric() {
        commit()
        weight.append([Double](repeating: 0, count: parent.count))
    }
}
