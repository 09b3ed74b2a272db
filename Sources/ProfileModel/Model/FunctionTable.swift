/// Per-function self and total weights, and caller → callee edges.
///
/// Derived from a call tree, a function's total counts each stack once even under recursion
/// (the speedscope and pprof rule): a node adds to its function's total only when no ancestor
/// node belongs to the same function. Edges follow the same rule per (caller, callee) pair.
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
    /// Tree nodes of each function (CSR), in node order.
    public let nodesStart: [Int32], nodes: [Int32]

    public func callers(of fn: Int32) -> ArraySlice<Int32> {
        byCallee[Int(byCalleeStart[Int(fn)])..<Int(byCalleeStart[Int(fn) + 1])]
    }
    public func callees(of fn: Int32) -> ArraySlice<Int32> {
        byCaller[Int(byCallerStart[Int(fn)])..<Int(byCallerStart[Int(fn) + 1])]
    }
    public func nodes(of fn: Int32) -> ArraySlice<Int32> {
        guard Int(fn) + 1 < nodesStart.count else { return [] }
        return nodes[Int(nodesStart[Int(fn)])..<Int(nodesStart[Int(fn) + 1])]
    }

    /// Derives the table from a tree.
    public init(tree: CallTree, frames: FrameTable, metricCount: Int) {
        let F = frames.functionCount
        let M = metricCount
        var selfW = [[Double]](repeating: [Double](repeating: 0, count: F), count: M)
        var totalW = selfW
        var onStack = [Int32](repeating: 0, count: F)
        var edgeIndex = PairMap(capacity: 1024)
        var eCaller: [Int32] = [], eCallee: [Int32] = []
        var eWeight = [[Double]](repeating: [], count: M)
        var eOnStack: [Int32] = []
        let frameFn = frames.frameFunction

        // Iterative DFS: (node, fn, edge, next child position)
        struct Item { var node: Int32; var fn: Int32; var edge: Int32; var cursor: Int32 }
        var stack: [Item] = [Item(node: 0, fn: -1, edge: -1, cursor: tree.childStart[0])]
        while let top = stack.last {
            let end = tree.childStart[Int(top.node) + 1]
            if top.cursor >= end {
                stack.removeLast()
                if top.fn >= 0 { onStack[Int(top.fn)] -= 1 }
                if top.edge >= 0 { eOnStack[Int(top.edge)] -= 1 }
                continue
            }
            stack[stack.count - 1].cursor += 1
            let n = tree.childList[Int(top.cursor)]
            let f = tree.frame[Int(n)]
            let fn = f >= 0 ? frameFn[Int(f)] : -1
            var edge: Int32 = -1
            if fn >= 0 {
                let i = Int(fn)
                for m in 0..<M { selfW[m][i] += tree.selfWeight[m][Int(n)] }
                if onStack[i] == 0 { for m in 0..<M { totalW[m][i] += tree.totalWeight[m][Int(n)] } }
                onStack[i] += 1
                // caller = nearest enclosing function on the stack
                var caller: Int32 = -1
                var k = stack.count - 1
                while k >= 0 { if stack[k].fn >= 0 { caller = stack[k].fn; break }; k -= 1 }
                if caller >= 0 {
                    edge = edgeIndex.getOrInsert(caller, fn) {
                        eCaller.append(caller); eCallee.append(fn); eOnStack.append(0)
                        for m in 0..<M { eWeight[m].append(0) }
                        return Int32(eCaller.count - 1)
                    }
                    if eOnStack[Int(edge)] == 0 {
                        for m in 0..<M { eWeight[m][Int(edge)] += tree.totalWeight[m][Int(n)] }
                    }
                    eOnStack[Int(edge)] += 1
                }
            }
            stack.append(Item(node: n, fn: fn, edge: edge, cursor: tree.childStart[Int(n)]))
        }
        // Nodes per function.
        var nStart = [Int32](repeating: 0, count: F + 1)
        for i in 1..<max(tree.count, 1) {
            let f = tree.frame[i]; if f < 0 { continue }
            let fn = frameFn[Int(f)]; if fn >= 0 { nStart[Int(fn) + 1] += 1 }
        }
        for i in 0..<F { nStart[i + 1] += nStart[i] }
        var nList = [Int32](repeating: 0, count: Int(nStart[F]))
        var fill = nStart
        for i in 1..<max(tree.count, 1) {
            let f = tree.frame[i]; if f < 0 { continue }
            let fn = frameFn[Int(f)]; if fn < 0 { continue }
            nList[Int(fill[Int(fn)])] = Int32(i); fill[Int(fn)] += 1
        }
        self.init(count: F, selfWeight: selfW, totalWeight: totalW, calls: nil, primitiveCalls: nil,
                  edgeCaller: eCaller, edgeCallee: eCallee, edgeWeight: eWeight, edgeCalls: nil,
                  nodesStart: nStart, nodes: nList)
    }

    /// Builds a table from explicit values (exact formats such as pstats).
    public init(count: Int, selfWeight: [[Double]], totalWeight: [[Double]], calls: [Int64]?,
                primitiveCalls: [Int64]?, edgeCaller: [Int32], edgeCallee: [Int32],
                edgeWeight: [[Double]], edgeCalls: [Int64]?, nodesStart: [Int32] = [], nodes: [Int32] = []) {
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
        self.nodesStart = nodesStart
        self.nodes = nodes
    }

    /// Returns a copy whose node lists come from `tree` (for exact tables built before the tree).
    func withNodes(from tree: CallTree, frames: FrameTable) -> FunctionTable {
        let derived = FunctionTable(tree: tree, frames: frames, metricCount: 0)
        return FunctionTable(count: count, selfWeight: selfWeight, totalWeight: totalWeight, calls: calls,
                             primitiveCalls: primitiveCalls, edgeCaller: edgeCaller, edgeCallee: edgeCallee,
                             edgeWeight: edgeWeight, edgeCalls: edgeCalls,
                             nodesStart: derived.nodesStart, nodes: derived.nodes)
    }

    private static func group(_ keys: [Int32], count: Int) -> ([Int32], [Int32]) {
        var start = [Int32](repeating: 0, count: count + 1)
        for k in keys where k >= 0 && Int(k) < count { start[Int(k) + 1] += 1 }
        for i in 0..<count { start[i + 1] += start[i] }
        var list = [Int32](repeating: 0, count: Int(start[count]))
        var fill = start
        for (e, k) in keys.enumerated() where k >= 0 && Int(k) < count {
            list[Int(fill[Int(k)])] = Int32(e); fill[Int(k)] += 1
        }
        return (start, list)
    }
}
