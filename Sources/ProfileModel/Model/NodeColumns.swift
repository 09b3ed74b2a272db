#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A builder's nodes in raw columns that grow together: parent, frame, path hash (see
/// `ChildIndex.pathHash`) and one self-weight column per metric. Node 0 is the root.
///
/// Swift arrays here checked uniqueness and capacity on each of the four appends a new node
/// made, ~200 instructions a node: a sixth of reading a big folded file (callgrind,
/// BENCHMARKS.md). Appending here is a capacity check and four stores. The owner calls
/// `deallocate()`; a copy of the struct shares the columns.
struct NodeColumns {
    private(set) var count = 1
    private(set) var capacity = 0
    private(set) var parent: UnsafeMutablePointer<Int32>
    private(set) var frame: UnsafeMutablePointer<Int32>
    private(set) var pathHash: UnsafeMutablePointer<UInt32>
    /// `weight[metric][node]`; `metricCount` columns.
    private(set) var weight: UnsafeMutablePointer<UnsafeMutablePointer<Double>>
    private(set) var metricCount: Int

    init(metrics: Int) {
        metricCount = metrics
        parent = .allocate(capacity: 1)
        frame = .allocate(capacity: 1)
        pathHash = .allocate(capacity: 1)
        weight = .allocate(capacity: max(metrics, 1))
        for m in 0..<metrics { weight[m] = .allocate(capacity: 1) }
        capacity = 1
        parent[0] = -1
        frame[0] = -1
        pathHash[0] = ChildIndex.rootHash
        for m in 0..<metrics { weight[m][0] = 0 }
    }

    func deallocate() {
        parent.deallocate()
        frame.deallocate()
        pathHash.deallocate()
        for m in 0..<metricCount { weight[m].deallocate() }
        weight.deallocate()
    }

    /// A new node with no weight; returns its id.
    @inline(__always)
    mutating func append(parent p: Int32, frame f: Int32, hash: UInt32) -> Int32 {
        let id = count
        if id == capacity { grow(to: id + 1) }
        parent[id] = p
        frame[id] = f
        pathHash[id] = hash
        for m in 0..<metricCount { weight[m][id] = 0 }
        count = id + 1
        return Int32(truncatingIfNeeded: id)
    }

    /// New nodes with no weight and no path hash yet (a merge; the index is rebuilt after).
    mutating func append(parents: [Int32], frames: [Int32]) {
        let n = parents.count
        reserve(count + n)
        parents.withUnsafeBufferPointer { (parent + count).update(from: $0.baseAddress!, count: n) }
        frames.withUnsafeBufferPointer { (frame + count).update(from: $0.baseAddress!, count: n) }
        for m in 0..<metricCount { (weight[m] + count).update(repeating: 0, count: n) }
        count += n
    }

    mutating func reserve(_ n: Int) {
        if n > capacity { grow(to: n) }
    }

    private mutating func grow(to n: Int) {
        let c = max(n, 2 * capacity, 16)
        func moved<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
            let q = UnsafeMutablePointer<T>.allocate(capacity: c)
            q.moveInitialize(from: p, count: count)
            p.deallocate()
            return q
        }
        parent = moved(parent)
        frame = moved(frame)
        pathHash = moved(pathHash)
        for m in 0..<metricCount { weight[m] = moved(weight[m]) }
        capacity = c
    }

    /// A new weight column, 0 for every node.
    mutating func addMetric() {
        let w = UnsafeMutablePointer<UnsafeMutablePointer<Double>>.allocate(capacity: metricCount + 1)
        w.moveInitialize(from: weight, count: metricCount)
        weight.deallocate()
        weight = w
        weight[metricCount] = .allocate(capacity: capacity)
        weight[metricCount].initialize(repeating: 0, count: count)
        metricCount += 1
    }

    /// Total weight per node and metric: self plus descendants (one backward pass, as
    /// `CallTree.totals`).
    func totals() -> [[Double]] {
        (0..<metricCount).map { m in
            var t = weights(metric: m)
            t.withUnsafeMutableBufferPointer { t in
                var i = count - 1
                while i > 0 { t[Int(parent[i])] += t[i]; i -= 1 }
            }
            return t
        }
    }

    var parents: [Int32] { Array(UnsafeBufferPointer(start: parent, count: count)) }
    var frames: [Int32] { Array(UnsafeBufferPointer(start: frame, count: count)) }
    func weights(metric m: Int) -> [Double] { Array(UnsafeBufferPointer(start: weight[m], count: count)) }
}

/// `freeze` lets another thread read the columns while the builder waits for it.
extension NodeColumns: @unchecked Sendable {}
