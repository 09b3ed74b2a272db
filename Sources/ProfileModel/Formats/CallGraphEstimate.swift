/// Estimating a call tree from a call graph (pstats, callgrind).
///
/// Formats that record a call graph give each function its self and cumulative weight and each
/// caller → callee edge the weight that flowed through it, but no stacks. The tree is built
/// top-down from the roots of the graph: each function's weight is shared among its callees in
/// proportion to the edges' weights, with recursion cut (a function already on the path is not
/// expanded again). A node keeps as self only its share of the function's self (so the nodes of
/// a function never add up to more than the file's self time for it); callee time the graph
/// cannot place (a callee cut by recursion, a missing or inconsistent edge) goes to an explicit
/// "(callees not recorded)" child. A function whose only recorded caller is itself (cProfile
/// does that when threads share one profiler) is not a program of its own: it hangs under a
/// "(caller not recorded)" root. Every metric is shared along the same nodes; the first metric
/// decides which edges are too small to expand.
struct CallGraphEstimate {
    /// Functions are the builder's function ids, 0..<count.
    let count: Int
    /// `selfWeight[metric][function]`, `totalWeight[metric][function]`.
    let selfWeight: [[Double]]
    let totalWeight: [[Double]]
    /// Calls (nc) and primitive, non-recursive calls (cc) per function; -1 = unknown.
    let calls: [Int64]
    let primitiveCalls: [Int64]
    /// Functions that appear as entries in their own right (not only as someone's caller).
    let isEntry: [Bool]
    let edgeCaller: [Int32]
    let edgeCallee: [Int32]
    /// `edgeWeight[metric][edge]`.
    let edgeWeight: [[Double]]
    /// Calls through each edge; -1 = unknown.
    let edgeCalls: [Int64]
    /// When set, the roots are scaled so the tree adds up to this per metric (callgrind: the
    /// program's total self cost, which inconsistent inclusive costs can exceed). nil: as recorded.
    var rootTotal: [Double]? = nil

    /// Largest tree the estimate builds, and the deepest path it follows.
    static let maxNodes = 1_000_000
    static let maxDepth = 256
    /// Placeholder frames: not functions of the file, so they have no row in its table.
    static let unplacedName = "(callees not recorded)"
    static let orphanName = "(caller not recorded)"

    /// Adds the estimated tree to `builder` (whose metric indices match this graph's).
    func build(into builder: ProfileBuilder) {
        let F = count
        let M = selfWeight.count
        guard F > 0, M > 0 else { return }
        if let note = overTotalNote(builder) { builder.warnings.append(note) }
        let ct = totalWeight[0], eCt = edgeWeight[0]
        var calleesStart = [Int](repeating: 0, count: F + 1)
        for c in edgeCaller where c >= 0 && Int(c) < F { calleesStart[Int(c) + 1] += 1 }
        for i in 0..<F { calleesStart[i + 1] += calleesStart[i] }
        var callees = [Int](repeating: 0, count: calleesStart[F])
        var fill = calleesStart
        for (e, c) in edgeCaller.enumerated() where c >= 0 && Int(c) < F {
            callees[fill[Int(c)]] = e; fill[Int(c)] += 1
        }
        // A function is a root when some of its calls came from outside the recorded callers
        // (the top-level `exec`, a profiler's `disable`, a thread's entry point). It roots the
        // share of its cumulative time those calls account for; for a recursive function the
        // outside calls are the outermost ones, which carry all of `ct`.
        var knownCalls = [Int64](repeating: 0, count: F)
        var hasCaller = [Bool](repeating: false, count: F)
        var callsItself = [Bool](repeating: false, count: F)
        for (e, c) in edgeCallee.enumerated() where c >= 0 && Int(c) < F {
            knownCalls[Int(c)] += max(edgeCalls[e], 0)
            if edgeCaller[e] != c { hasCaller[Int(c)] = true } else { callsItself[Int(c)] = true }
        }
        var roots: [(Int, Double)] = (0..<F).compactMap { f in
            guard isEntry[f], ct[f] > 0 else { return nil }
            if !hasCaller[f] { return (f, 1) }
            let nc = calls[f], cc = primitiveCalls[f]
            guard nc > 0, cc > 0 else { return nil }
            let outside = nc - knownCalls[f]
            return outside > 0 ? (f, min(1, Double(outside) / Double(cc))) : nil
        }
        if roots.isEmpty, let top = (0..<F).max(by: { ct[$0] < ct[$1] }), ct[top] > 0 { roots = [(top, 1)] }
        var rootScale = [Double](repeating: 1, count: M)
        if let rootTotal, rootTotal.count == M {
            for m in 0..<M {
                let sum = roots.reduce(0.0) { $0 + totalWeight[m][$1.0] * $1.1 }
                if sum > 0 && rootTotal[m] >= 0 { rootScale[m] = rootTotal[m] / sum }
            }
        }
        let grand = roots.reduce(0.0) { $0 + ct[$1.0] * $1.1 } * rootScale[0]
        let minWeight = grand * 1e-6
        var onPath = [Bool](repeating: false, count: F)
        let frameOf: [Int32] = {
            var a = [Int32](repeating: -1, count: F)
            for f in 0..<builder.frames.frameCount {
                let fn = builder.frames.frameFunction[f]
                if fn >= 0 && Int(fn) < F && a[Int(fn)] < 0 { a[Int(fn)] = Int32(f) }
            }
            return a
        }()
        let b = builder
        // Scaled roots (callgrind) already make the tree add up to the program's self cost:
        // there, what the callees leave stays self, as recorded.
        let placesUnrecorded = rootTotal == nil
        var placed = [[Double]](repeating: [Double](repeating: 0, count: F), count: M)
        var unplacedFrame: Int32 = -1
        func unplaced() -> Int32 {
            if unplacedFrame < 0 {
                unplacedFrame = b.frames.placeholderFrame(name: CallGraphEstimate.unplacedName)
            }
            return unplacedFrame
        }

        // `weight[m]`: the share of `fn`'s cumulative weight this node stands for.
        func expand(_ fn: Int, _ weight: [Double], _ node: Int32, _ depth: Int) {
            onPath[fn] = true
            defer { onPath[fn] = false }
            var kept = [Double](repeating: 0, count: M)
            var own = weight
            var scale = [Double](repeating: 0, count: M)
            for m in 0..<M {
                let c = totalWeight[m][fn]
                scale[m] = c != 0 ? weight[m] / c : 0
                // Its share of the function's self, and never more than the file gives the
                // function over all its nodes (roots and callers can claim the same calls).
                let t = selfWeight[m][fn]
                if placesUnrecorded && c > 0 { own[m] = max(0, min(weight[m], t * min(scale[m], 1), t - placed[m][fn])) }
            }
            if ct[fn] > 0 && depth < CallGraphEstimate.maxDepth && b.nodeCount < CallGraphEstimate.maxNodes {
                var room = [Double](repeating: 0, count: M)
                for m in 0..<M {
                    if !placesUnrecorded { own[m] = 0 }
                    room[m] = weight[m] - own[m]
                }
                var shares: [(Int, Int)] = []      // (callee, edge)
                var sum = [Double](repeating: 0, count: M)
                for k in calleesStart[fn]..<calleesStart[fn + 1] {
                    let e = callees[k]
                    let g = Int(edgeCallee[e])
                    if g < 0 || g >= F || onPath[g] || frameOf[g] < 0 { continue }
                    let w = eCt[e] * scale[0]
                    guard w >= minWeight && w > 0 else { continue }
                    shares.append((g, e))
                    for m in 0..<M { sum[m] += edgeWeight[m][e] * scale[m] }
                }
                var fit = [Double](repeating: 1, count: M)
                for m in 0..<M where sum[m] > room[m] && sum[m] > 0 { fit[m] = room[m] / sum[m] }
                for (g, e) in shares {
                    var cw = [Double](repeating: 0, count: M)
                    for m in 0..<M {
                        cw[m] = edgeWeight[m][e] * scale[m] * fit[m]
                        kept[m] += cw[m]
                    }
                    let child = b.child(of: node, frame: frameOf[g])
                    expand(g, cw, child, depth + 1)
                }
            }
            // Below the size of an edge worth expanding, the rest stays self: a placeholder per
            // rounding error would only add noise.
            let rest = (0..<M).map { max(0, weight[$0] - kept[$0] - own[$0]) }
            if placesUnrecorded && rest[0] >= minWeight && rest[0] > 0 {
                let child = b.child(of: node, frame: unplaced())
                for m in 0..<M { b.addSelf(child, metric: m, rest[m]) }
            } else {
                for m in 0..<M { own[m] += rest[m] }
            }
            for m in 0..<M { b.addSelf(node, metric: m, own[m]); placed[m][fn] += own[m] }
        }
        var orphanNode: Int32 = -1
        func orphans() -> Int32 {
            if orphanNode < 0 {
                orphanNode = b.child(of: 0, frame: b.frames.placeholderFrame(name: CallGraphEstimate.orphanName))
            }
            return orphanNode
        }
        for (r, share) in roots where frameOf[r] >= 0 {
            let orphan = placesUnrecorded && callsItself[r] && !hasCaller[r]
            let node = b.child(of: orphan ? orphans() : 0, frame: frameOf[r])
            expand(r, (0..<M).map { totalWeight[$0][r] * share * rootScale[$0] }, node, 1)
        }
        // A function no path reached (its recorded callers carry no time) still spent its self
        // time: it goes under the orphans. (A function the tree did reach is not topped up: the
        // time of its calls cut by recursion is already in a "(callees not recorded)" node.)
        for f in 0..<F where placesUnrecorded && frameOf[f] >= 0 && placed[0][f] == 0
            && selfWeight[0][f] >= minWeight && selfWeight[0][f] > 0 {
            let node = b.child(of: orphans(), frame: frameOf[f])
            for m in 0..<M { b.addSelf(node, metric: m, max(0, selfWeight[m][f] - placed[m][f])) }
        }
    }

    /// A function whose recorded cumulative time exceeds the profile's total (the sum of self
    /// times) shows a share over 100%. That comes from the file (yappi, for one, counts time in
    /// other threads and in functions still running into the cumulative figure), so say so.
    func overTotalNote(_ builder: ProfileBuilder) -> String? {
        let total = selfWeight[0].reduce(0, +)
        guard total > 0 else { return nil }
        var over = 0, top = -1
        for f in 0..<count where totalWeight[0][f] > total * (1 + 1e-9) {
            over += 1
            if top < 0 || totalWeight[0][f] > totalWeight[0][top] { top = f }
        }
        guard top >= 0 else { return nil }
        let name = builder.frames.name(ofFunction: Int32(top))
        return "\(over) function(s) record a total over the profile's total (\(name) at \(ValueFormat.percent(totalWeight[0][top], of: total))): "
            + "the file's own cumulative times exceed the sum of its self times, so their shares pass 100%"
    }
}
