/// Caller → callee edges of one function, with the weight that flows through each call.
///
/// Formats with a call graph (pstats, callgrind) record edges; for stack formats they are
/// derived from the tree on demand, for one function at a time, with the same once-per-stack
/// rule as function totals: a call site counts only where the same (caller, callee) pair is
/// not already on the stack above it. That keeps loading cheap (most loads never look at edges)
/// and costs O(nodes of the function × depth) when a view asks.
public struct CallEdge: Sendable, Equatable {
    /// The function at the other end: the caller for `callers(of:)`, the callee for `callees(of:)`.
    public var function: Int32
    /// Weight through the edge, one value per metric.
    public var weight: [Double]
    /// Call count where the format records it.
    public var calls: Int64?
}

extension Profile {
    public func callers(of fn: Int32) -> [CallEdge] {
        if functions.hasExplicitEdges { return explicitEdges(functions.callers(of: fn), other: functions.edgeCaller) }
        var out: [Int32: Int] = [:]
        var edges: [CallEdge] = []
        for n in functions.nodes(of: fn) {
            let c = enclosingNode(of: n)
            guard c > 0 else { continue }
            let caller = function(ofNode: c)
            if hasSamePair(above: c, callee: fn, caller: caller) { continue }
            add(&edges, &out, caller, node: n)
        }
        return edges.sorted { $0.weight[defaultMetric] > $1.weight[defaultMetric] }
    }

    public func callees(of fn: Int32) -> [CallEdge] {
        if functions.hasExplicitEdges { return explicitEdges(functions.callees(of: fn), other: functions.edgeCallee) }
        var out: [Int32: Int] = [:]
        var edges: [CallEdge] = []
        for n in functions.nodes(of: fn) {
            for c in tree.children(n) {
                let callee = function(ofNode: c)
                guard callee >= 0 else { continue }
                if hasSamePair(above: n, callee: callee, caller: fn) { continue }
                add(&edges, &out, callee, node: c)
            }
        }
        return edges.sorted { $0.weight[defaultMetric] > $1.weight[defaultMetric] }
    }

    private func explicitEdges(_ ids: ArraySlice<Int32>, other: [Int32]) -> [CallEdge] {
        ids.map { e in
            CallEdge(function: other[Int(e)], weight: functions.edgeWeight.map { $0[Int(e)] },
                     calls: functions.edgeCalls.flatMap { $0[Int(e)] >= 0 ? $0[Int(e)] : nil })
        }.sorted { $0.weight[defaultMetric] > $1.weight[defaultMetric] }
    }

    private func add(_ edges: inout [CallEdge], _ index: inout [Int32: Int], _ f: Int32, node: Int32) {
        let i = index[f] ?? {
            edges.append(CallEdge(function: f, weight: [Double](repeating: 0, count: metrics.count), calls: nil))
            index[f] = edges.count - 1
            return edges.count - 1
        }()
        for m in 0..<metrics.count { edges[i].weight[m] += tree.totalWeight[m][Int(node)] }
    }

    /// The nearest ancestor node that is a function (not a thread or process root), or 0.
    func enclosingNode(of n: Int32) -> Int32 {
        var p = tree.parent[Int(n)]
        while p > 0 && function(ofNode: p) < 0 { p = tree.parent[Int(p)] }
        return max(p, 0)
    }

    /// Whether some ancestor-or-self of `callerNode`'s chain already holds the call
    /// caller → callee, i.e. a node of `callee` whose enclosing function is `caller`.
    private func hasSamePair(above callerNode: Int32, callee: Int32, caller: Int32) -> Bool {
        var n = callerNode
        while n > 0 {
            if function(ofNode: n) == callee {
                let e = enclosingNode(of: n)
                if e > 0 && function(ofNode: e) == caller { return true }
            }
            n = tree.parent[Int(n)]
        }
        return false
    }
}
