import Foundation

/// The transforms that move nodes (recursion collapsed, frames joined, a subtree re-rooted) are
/// one rebuild: each node of this tree names the node it hangs under (`under`, an ancestor) and
/// its frame in the new tree (`frame`, or -1 to join the new node of `under`). The builder's
/// `addTree` then makes the new tree, merging identical paths, with self weights carried to
/// wherever their node went. So totals are preserved by construction.
extension Profile {
    struct Relink {
        var under: [Int32]
        var frame: [Int32]
        init(count n: Int) {
            under = [Int32](repeating: 0, count: n)
            frame = [Int32](repeating: -1, count: n)
        }
    }

    /// The rebuilt profile. `sameFunctions`: no function's figures change (recursion joined
    /// directly), so the function table (an exact one from pstats too) carries over.
    func relinked(_ r: Relink, frames newFrames: FrameTable, selfWeight: [[Double]]? = nil,
                  sameFunctions: Bool) -> Profile {
        freezeDerived(relinkedBuilder(r, frames: newFrames, selfWeight: selfWeight, sameFunctions: sameFunctions))
    }

    /// `relinked` before its freeze, for a step that still cuts the new tree back.
    func relinkedBuilder(_ r: Relink, frames newFrames: FrameTable, selfWeight: [[Double]]? = nil,
                         sameFunctions: Bool) -> ProfileBuilder {
        let b = derivedBuilder(frames: newFrames)
        if sameFunctions { b.exactFunctions = functions.strippedOfNodes() }
        b.prepareFreezeScratch(nodes: tree.count)
        let identity = (0..<Int32(newFrames.frameCount)).map { $0 }
        b.addTree(parent: r.under, frame: r.frame, selfWeight: selfWeight ?? tree.selfWeight, frameMap: identity,
                  original: (tree.parent, tree.frame))
        return b
    }

    /// `f -> f -> f` (a function calling itself directly, at any lines) becomes one `f`, the
    /// outermost frame; its children are the innermost call's and the calls' in between.
    /// `only`: just these functions (nil: every function).
    public func collapsingDirectRecursion(_ only: Set<Int32>? = nil) -> Profile {
        let n = tree.count
        var r = Relink(count: n)
        var newFn = [Int32](repeating: -1, count: n)   // the function of each node's new node
        var changed = false
        for i in 1..<max(n, 1) {
            let p = Int(tree.parent[i]), f = tree.frame[i]
            let fn = f >= 0 ? frames.frameFunction[Int(f)] : -1
            r.under[i] = Int32(p)
            newFn[i] = fn
            if fn >= 0 && newFn[p] == fn && (only?.contains(fn) ?? true) {
                changed = true
            } else {
                r.frame[i] = f
            }
        }
        guard changed else { return self }
        return relinked(r, frames: frames, sameFunctions: true)
    }

    /// A call of a function already on the stack goes back to the outer call's node, and the
    /// frames in between leave that stack (`f -> g -> f -> h` becomes `f -> h`, a sample in
    /// the inner `g` stays `f -> g`), as Firefox Profiler's "collapse recursion".
    /// `only`: just these functions (nil: every function).
    public func collapsingRecursion(_ only: Set<Int32>? = nil) -> Profile {
        // Paths of more than 64 functions fill the filter of the pass in id order, which then
        // walks up each node's path: quadratic in depth. The depth-first pass looks up in one
        // step but visits the nodes out of order, a cache miss each: 2-4x slower on the 50-80
        // frame stacks of real profiles. It takes the trees a walk would make slow.
        let deepest = tree.maxDepth()
        return collapsingRecursion(only, depthFirst: deepest > 256, deepest: deepest)
    }

    /// `collapsingRecursion` by either pass (the tests run both); `deepest`: the tree's
    /// `maxDepth()` when the caller has it.
    func collapsingRecursion(_ only: Set<Int32>?, depthFirst: Bool, deepest: Int? = nil) -> Profile {
        let n = tree.count
        var r = Relink(count: n)
        var changed = false
        if depthFirst {
            recursionDepthFirst(only, deepest: deepest ?? tree.maxDepth(), &r, &changed)
        } else {
            recursionInIdOrder(only, &r, &changed)
        }
        guard changed else { return self }
        // A cut-back stack can leave a node with no weight in any metric (in `f -> g -> f`, `g`
        // keeps a node though all its time went back to `f`): cut from the builder's columns,
        // before the freeze, which would otherwise sort and tabulate them for nothing. The
        // cut sums every node's total to decide; the freeze takes those instead of a second sum.
        let b = relinkedBuilder(r, frames: frames, sameFunctions: false)
        let totals = b.cutEmptyNodes()
        return freezeDerived(b, totals: totals)
    }

    /// The pass in id order (parents first): a 64-bit Bloom filter of the functions on each
    /// node's new path, so most nodes skip the walk up it.
    private func recursionInIdOrder(_ only: Set<Int32>?, _ r: inout Relink, _ changed: inout Bool) {
        let n = tree.count
        // For each node, the node of this tree that made its new node (`maker`), and a 64-bit
        // Bloom filter of the functions on its new path, so most nodes skip the walk up.
        var maker = [Int32](repeating: 0, count: n)
        var bloom = [UInt64](repeating: 0, count: n)
        for i in 1..<max(n, 1) {
            let p = Int(tree.parent[i]), f = tree.frame[i]
            let fn = f >= 0 ? frames.frameFunction[Int(f)] : -1
            r.under[i] = Int32(p)
            let bit: UInt64 = fn >= 0 ? 1 << (UInt64(UInt32(bitPattern: fn) &* 2654435761) >> 26) : 0
            if fn >= 0, bloom[p] & bit != 0, only?.contains(fn) ?? true {
                // Walk up the new path of the parent for a node of `fn`.
                var s = Int(maker[p])
                while s > 0 {
                    let sf = tree.frame[s]
                    if sf >= 0 && frames.frameFunction[Int(sf)] == fn { break }
                    s = Int(maker[Int(r.under[s])])
                }
                if s > 0 {
                    r.under[i] = Int32(s)
                    maker[i] = Int32(s)
                    bloom[i] = bloom[s]
                    changed = true
                    continue
                }
            }
            r.frame[i] = f
            maker[i] = Int32(i)
            bloom[i] = bloom[p] | bit
        }
    }

    /// The depth-first pass.
    private func recursionDepthFirst(_ only: Set<Int32>?, deepest: Int, _ r: inout Relink, _ changed: inout Bool) {
        // Depth first, keeping the new path of the node visited: at each new depth its function
        // and the node of this tree that made it, and each function's depth on it. Whether a
        // node's function is on its new path is then one lookup, however deep the stacks.
        // A node's new path depends only on its ancestors, so the order of the visit is free.
        struct Visit {
            var next: Int32, end: Int32
            /// The new depth of this node's new node, and what it overwrote there (`wrote`).
            var depth: Int32
            var wrote: Bool
            var fn: Int32, savedFn: Int32, savedNode: Int32, savedPlace: Int32
        }
        // A new path is never deeper than the old one: every buffer is sized by the tree's depth.
        let levels = deepest + 2
        let pathFn = UnsafeMutablePointer<Int32>.allocate(capacity: levels)
        let pathNode = UnsafeMutablePointer<Int32>.allocate(capacity: levels)
        let stack = UnsafeMutablePointer<Visit>.allocate(capacity: levels)
        defer { pathFn.deallocate(); pathNode.deallocate(); stack.deallocate() }
        pathFn.initialize(repeating: -1, count: levels)
        pathNode.initialize(repeating: 0, count: levels)
        var place = [Int32](repeating: -1, count: frames.functionCount)
        tree.childStart.withUnsafeBufferPointer { start in
        tree.childList.withUnsafeBufferPointer { list in
        tree.frame.withUnsafeBufferPointer { frame in
        tree.parent.withUnsafeBufferPointer { parent in
        frames.frameFunction.withUnsafeBufferPointer { frameFunction in
        place.withUnsafeMutableBufferPointer { place in
        r.under.withUnsafeMutableBufferPointer { under in
        r.frame.withUnsafeMutableBufferPointer { newFrame in
            stack[0] = Visit(next: start[0], end: start[1], depth: 0, wrote: false, fn: -1, savedFn: -1, savedNode: 0, savedPlace: -1)
            var top = 0
            while top >= 0 {
                let v = stack[top]
                if v.next == v.end {
                    top -= 1
                    if v.wrote {
                        pathFn[Int(v.depth)] = v.savedFn
                        pathNode[Int(v.depth)] = v.savedNode
                        if v.fn >= 0 { place[Int(v.fn)] = v.savedPlace }
                    }
                    continue
                }
                stack[top].next = v.next + 1
                let i = Int(list[Int(v.next)]), f = frame[i]
                let fn = f >= 0 ? frameFunction[Int(f)] : -1
                let cur = v.depth
                under[i] = parent[i]
                if fn >= 0, case let e = place[Int(fn)], e >= 0, e <= cur, pathFn[Int(e)] == fn, only?.contains(fn) ?? true {
                    // Back to the outer call's node: its new path is this node's children's.
                    under[i] = pathNode[Int(e)]
                    changed = true
                    top += 1
                    stack[top] = Visit(next: start[i], end: start[i + 1], depth: e, wrote: false,
                                       fn: -1, savedFn: -1, savedNode: 0, savedPlace: -1)
                    continue
                }
                newFrame[i] = f
                let d = Int(cur) + 1
                top += 1
                stack[top] = Visit(next: start[i], end: start[i + 1], depth: Int32(d), wrote: true, fn: fn,
                                   savedFn: pathFn[d], savedNode: pathNode[d], savedPlace: fn >= 0 ? place[Int(fn)] : -1)
                pathFn[d] = fn
                pathNode[d] = Int32(i)
                if fn >= 0 { place[Int(fn)] = Int32(d) }
            }
        }}}}}}}}
    }

    /// Only the stacks of one node (found by its frames from the root), re-rooted at it: the
    /// functions above it leave, thread and process frames above it stay as roots.
    public func focused(onSubtree path: [Int32]) throws -> Profile {
        let (node, exact) = tree.node(followingFrames: path)
        guard exact, node > 0 else { throw ProfileError("focus subtree: no node at that path in this profile") }
        return focused(onNodes: [node])
    }

    /// `focused(onSubtree:)` by function names from the root (`a;b;c` on the command line),
    /// thread and process frames skipped: every node at the end of such a path (one a thread
    /// when threads are split, or one per line frame) is kept.
    public func focused(onSubtreeNamed names: [String]) throws -> Profile {
        guard !names.isEmpty else { return self }
        let n = tree.count
        // How many names the path to each node matches from the top (-1: it left the path).
        var matched = [Int32](repeating: 0, count: n)
        var ends = Set<Int32>()
        for i in 1..<max(n, 1) {
            let k = matched[Int(tree.parent[i])], f = tree.frame[i]
            if k < 0 || k == names.count || (f >= 0 && frames.frameKind[Int(f)].isGrouping) {
                matched[i] = k
            } else if f >= 0 && frames.name(ofFrame: f) == names[Int(k)] {
                matched[i] = k + 1
                if k + 1 == names.count { ends.insert(Int32(i)) }
            } else {
                matched[i] = -1
            }
        }
        guard !ends.isEmpty else {
            throw ProfileError("--focus-subtree '\(names.joined(separator: ";"))': no such stack from a root")
        }
        return focused(onNodes: ends)
    }

    /// The subtrees of `nodes` (none inside another), each re-rooted at its node below the
    /// thread and process frames above it.
    func focused(onNodes nodes: Set<Int32>) -> Profile {
        let n = tree.count
        var r = Relink(count: n)
        var inside = [Bool](repeating: false, count: n)
        var onPath = [Bool](repeating: false, count: n)
        for node in nodes {
            var k = node
            while k > 0 { onPath[Int(k)] = true; k = tree.parent[Int(k)] }
        }
        var weight = tree.selfWeight
        for m in weight.indices { weight[m][0] = 0 }
        for i in 1..<n {
            let p = Int(tree.parent[i]), f = tree.frame[i]
            r.under[i] = Int32(p)
            inside[i] = inside[p] || nodes.contains(Int32(i))
            if inside[i] {
                r.frame[i] = f
            } else {
                if onPath[i] && f >= 0 && frames.frameKind[Int(f)].isGrouping { r.frame[i] = f }
                for m in weight.indices where weight[m][i] != 0 { weight[m][i] = 0 }
            }
        }
        return relinked(r, frames: frames, selfWeight: weight, sameFunctions: false)
    }

    /// Only the samples whose stacks don't pass through any of `fns` (the totals shrink).
    public func dropping(_ fns: Set<Int32>) -> Profile {
        guard !fns.isEmpty else { return self }
        let n = tree.count
        let through = throughNodes(fns)
        var reaches = [Bool](repeating: false, count: n)   // some weight left at or below
        let weight = tree.selfWeight, parent = tree.parent
        var i = n - 1
        while i > 0 {
            if !through[i] && !reaches[i] && weight.contains(where: { $0[i] != 0 }) { reaches[i] = true }
            if reaches[i] { reaches[Int(parent[i])] = true }
            i -= 1
        }
        return rebuiltWeights(keepNode: { reaches[$0] }, keepSelf: { !through[$0] })
    }

    /// Each run of consecutive frames that `rule` matches becomes one frame named by the rule
    /// (`<stdlib json>`, `<site-packages numpy>`, `<frozen importlib>`, `<REGEX>`): the run's
    /// self time is that frame's, its callees hang under it. Throws on a bad regular expression.
    public func collapsingFrames(_ rule: CollapseRule) throws -> Profile {
        var ft = frames
        let target = try collapseTargets(rule, into: &ft)
        guard target.contains(where: { $0 >= 0 }) else { return self }
        let n = tree.count
        var r = Relink(count: n)
        var newFrame = [Int32](repeating: -1, count: n)   // the frame of each node's new node
        for i in 1..<max(n, 1) {
            let p = Int(tree.parent[i]), f = tree.frame[i]
            r.under[i] = Int32(p)
            let t = f >= 0 ? target[Int(f)] : -1
            if t >= 0 {
                newFrame[i] = t
                if newFrame[p] != t { r.frame[i] = t }
            } else {
                newFrame[i] = f
                r.frame[i] = f
            }
        }
        return relinked(r, frames: ft, sameFunctions: false)
    }

    /// For each frame, the frame it collapses to (added to `ft`), or -1.
    func collapseTargets(_ rule: CollapseRule, into ft: inout FrameTable) throws -> [Int32] {
        var target = [Int32](repeating: -1, count: frames.frameCount)
        var byName: [String: Int32] = [:]
        func frame(named s: String) -> Int32 {
            if let f = byName[s] { return f }
            let f = ft.frame(name: s, file: nil, line: nil, kind: .function)
            byName[s] = f
            return f
        }
        var regex: NSRegularExpression? = nil
        if case .regex(let q) = rule {
            do {
                regex = try NSRegularExpression(pattern: q, options: q == q.lowercased() ? [.caseInsensitive] : [])
            } catch {
                throw ProfileError("--collapse '\(q)': not a regular expression")
            }
        }
        // Decided per function (name and file), then spread to its frames.
        var byFunction = [Int32](repeating: -2, count: frames.functionCount)
        for f in 0..<frames.frameCount {
            let fn = frames.frameFunction[f]
            guard fn >= 0 else { continue }
            if byFunction[Int(fn)] == -2 {
                let name = frames.name(ofFunction: fn), file = frames.file(ofFunction: fn)
                var t: Int32 = -1
                switch rule {
                case .stdlib:
                    if let file, case .stdlib(let rel) = DisplayPath.classify(file) {
                        t = frame(named: "<stdlib \(DisplayPath.topModule(rel))>")
                    }
                case .sitePackages:
                    if let file, case .sitePackages(let rel) = DisplayPath.classify(file) {
                        t = frame(named: "<site-packages \(DisplayPath.topModule(rel))>")
                    }
                case .frozenImportlib:
                    if DisplayPath.isFrozenImportlib(file ?? name) { t = frame(named: "<frozen importlib>") }
                case .regex(let q):
                    let r = regex!
                    func hit(_ s: String) -> Bool { r.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil }
                    if hit(name) || (file.map(hit) ?? false) { t = frame(named: "<\(q)>") }
                }
                byFunction[Int(fn)] = t
            }
            target[f] = byFunction[Int(fn)]
        }
        return target
    }
}
