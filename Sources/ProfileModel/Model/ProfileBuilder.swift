import Dispatch
import CPrefetch

/// The only writer of profiles. Readers append stacks (root first) with weights, then
/// `freeze()` returns an immutable `Profile`. The builder stays usable after a freeze, so a
/// live stream can keep appending and publish a new snapshot whenever it likes.
public final class ProfileBuilder {
    public var frames = FrameTable()
    public private(set) var metrics: [ValueType]
    public var defaultMetric: Int
    public var format: String
    public var estimatedTree = false
    public var sampleCount: Int? = nil
    public var warnings: [String] = []
    public var metadata: [(String, String)] = []
    /// Threads whose grouping frames the reader left out (`Profile.mergedThreads`).
    public var mergedThreads = 0
    /// Set by readers whose function table is exact (pstats): used instead of one derived from the tree.
    public var exactFunctions: FunctionTable? = nil
    /// `totalWeight[metric][function]`, set by a step that leaves every function's total as it
    /// was (merging a function into its callers): the table then sums only self weights, not
    /// the outermost call of each function on every stack. Ignored if it does not fit.
    var functionTotals: [[Double]]? = nil
    /// Line votes from readers that merge lines while reading and so leave no line in the
    /// tree: self weight (default metric) per function and line, which labels a function by
    /// its hottest line (`FrameTable.label`). Kept as the winner so far per function and the
    /// totals of its other lines: weights only ever add, so a line takes the lead exactly when
    /// its total passes the leader's, and a snapshot reads the labels without counting again.
    private var votes = LineVotes()
    /// The line-based readers (`StackPath`) vote by leaf text id, an array slot a stack: what
    /// function and line each text names (0: none), and its weight since the last count
    /// (`countTextVotes`), with the texts that have some.
    private var textLine: [UInt64] = []
    private var textWeight: [Double] = []
    private var votedTexts: [Int32] = []

    /// Text `text` (a `StackPath` text id) names `line` of `frame`'s function (a reader that
    /// merges lines).
    func noteLeafText(_ text: Int32, frame: Int32, line: Int32) {
        guard text >= 0 else { return }
        let t = Int(text)
        if t >= textLine.count {
            textLine.append(contentsOf: repeatElement(0, count: t + 1 - textLine.count))
            textWeight.append(contentsOf: repeatElement(0, count: t + 1 - textWeight.count))
        }
        let fn = frame >= 0 ? frames.frameFunction[Int(frame)] : -1
        textLine[t] = line > 0 && fn >= 0 ? packPair(fn, line) : 0
    }

    @inline(__always)
    func voteLeafText(_ text: Int32, _ weight: Double) {
        let t = Int(text)
        guard weight > 0, t >= 0, t < textLine.count, textLine[t] != 0 else { return }
        if textWeight[t] == 0 { votedTexts.append(text) }
        textWeight[t] += weight
    }

    /// A vote for `line` of function `fn` (readers that know the function, as pprof).
    func voteLine(function fn: Int32, line: Int32, _ weight: Double) {
        if fn >= 0 && line > 0 && weight > 0 { votes.add(fn, line, weight) }
    }

    /// Moves the text votes since the last count into `votes`: the texts voted for, not all.
    private func countTextVotes() {
        for t in votedTexts {
            let key = textLine[Int(t)]
            votes.add(Int32(truncatingIfNeeded: key >> 32), Int32(truncatingIfNeeded: key), textWeight[Int(t)])
            textWeight[Int(t)] = 0
        }
        votedTexts.removeAll(keepingCapacity: true)
    }

    /// Takes `other`'s votes (a second half read into its own builder): `functionMap` maps its
    /// function ids to ours.
    func absorbVotes(of other: ProfileBuilder, functionMap: [Int32]) {
        other.countTextVotes()
        other.votes.forEach { fn, line, w in
            guard Int(fn) < functionMap.count, functionMap[Int(fn)] >= 0 else { return }
            votes.add(functionMap[Int(fn)], line, w)
        }
    }

    /// The nodes (parent, frame, path hash, a self weight per metric); node 0 is the root.
    /// Every entry point but `walk` commits nodes a walk left pending.
    private var nodes: NodeColumns
    private var childIndex = ChildIndex(capacity: 4096)
    private var indexDropped = false
    /// The dropped index's memory, lent to the next step's scratch (see `SpareMemory`).
    private var spare: SpareMemory? = nil

    public init(format: String, metrics: [ValueType], defaultMetric: Int? = nil) {
        self.format = format
        self.metrics = metrics
        self.defaultMetric = defaultMetric ?? max(0, metrics.count - 1)
        nodes = NodeColumns(metrics: metrics.count)
    }

    deinit {
        nodes.deallocate()
        scratchHashes.deallocate()
        scratchNodes.deallocate()
    }

    public var nodeCount: Int { nodes.count }
    /// The tree so far.
    public var parent: [Int32] { nodes.commit(); return nodes.parent }
    public var frame: [Int32] { nodes.commit(); return nodes.frame }
    public var selfWeight: [[Double]] { nodes.commit(); return nodes.weight }

    /// Adds a metric; every existing node gets 0 for it. Returns its index.
    @discardableResult
    public func addMetric(_ v: ValueType) -> Int {
        metrics.append(v)
        nodes.addMetric()
        return metrics.count - 1
    }

    public func setMetric(_ i: Int, _ v: ValueType) { metrics[i] = v }

    /// The child of `node` for `frame`, created if missing.
    @inline(__always)
    public func child(of node: Int32, frame f: Int32) -> Int32 {
        if indexDropped { rebuildIndex() }
        nodes.commit()
        let h = ChildIndex.pathHash(nodes.pathHash[Int(node)], f)
        let c = childIndex.getOrInsert(hash: h, isChild: { nodes.parentOf($0) == node }) { appendNode(parent: node, frame: f, hash: h) }
        nodes.commit()
        return c
    }

    /// The path hash of `node`: from it and `ChildIndex.pathHash` a reader hashes a whole stack
    /// ahead and prefetches its probes through `index` (StackPath, `descend`).
    @inline(__always)
    func pathHash(of node: Int32) -> UInt32 {
        if indexDropped { rebuildIndex() }
        nodes.commit()
        return nodes.pathHash[Int(node)]
    }

    /// The child index, for a reader that prefetches probes (bind it once per stack: each
    /// read of the property costs a retain and a release).
    var index: ChildIndex {
        if indexDropped { rebuildIndex() }
        return childIndex
    }

    /// Prefetches the parent of each hash's first candidate child, once the caller's prefetches
    /// of their index slots are on the way: the slots hold no key, so `walk` confirms a found
    /// child by its parent, a second random read per frame that would otherwise wait its turn.
    func prefetchConfirmations(_ index: ChildIndex, hashes: UnsafePointer<UInt32>, count: Int) {
        nodes.parent.withUnsafeBufferPointer { parent in
            guard let base = parent.baseAddress else { return }
            for k in 0..<count {
                let c = index.firstCandidate(hashes[k])
                if c > 0 && Int(c) < parent.count { perftop_prefetch(base + Int(c)) }
            }
        }
    }

    /// Walks down from `node` through `count` frames with their path hashes, creating missing
    /// children; the node for frame k goes to `nodes[k]`. Returns the last node. `index` is
    /// this builder's `index`, bound once by the caller. New nodes stay pending (see
    /// `NodeColumns`) until the next other call: a batch of walks appends them in bulk.
    @inline(__always)
    func walk(_ index: ChildIndex, from node: Int32, frames: UnsafePointer<Int32>, hashes: UnsafePointer<UInt32>, count: Int,
              nodes: UnsafeMutablePointer<Int32>) -> Int32 {
        var node = node
        for k in 0..<count {
            let f = frames[k], h = hashes[k], p = node
            node = index.getOrInsert(hash: h, isChild: { self.nodes.parentOf($0) == p }) { appendNode(parent: p, frame: f, hash: h) }
            nodes[k] = node
        }
        return node
    }

    /// A new node with no weight yet; the caller has put it in the index.
    @inline(__always)
    private func appendNode(parent p: Int32, frame f: Int32, hash: UInt32) -> Int32 {
        nodes.append(parent: p, frame: f, hash: hash)
    }

    private var scratchHashes = UnsafeMutablePointer<UInt32>.allocate(capacity: 0)
    private var scratchNodes = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
    private var scratchCapacity = 0

    /// The node for `frames` (root first) below `node`, made as needed; the node of each frame
    /// goes to `nodes` when given. The probes of the whole stack are prefetched before the walk,
    /// so their cache misses overlap (see StackPath).
    public func descend(from node: Int32, through frames: UnsafeBufferPointer<Int32>,
                        nodes: UnsafeMutablePointer<Int32>? = nil) -> Int32 {
        let n = frames.count
        guard n > 0, let base = frames.baseAddress else { return node }
        if n > scratchCapacity {
            scratchHashes.deallocate()
            scratchNodes.deallocate()
            scratchCapacity = max(n, 2 * scratchCapacity)
            scratchHashes = .allocate(capacity: scratchCapacity)
            scratchNodes = .allocate(capacity: scratchCapacity)
        }
        let index = self.index
        self.nodes.commit()
        var h = self.nodes.pathHash[Int(node)]
        for k in 0..<n {
            h = ChildIndex.pathHash(h, base[k])
            scratchHashes[k] = h
            index.prefetch(h)
        }
        prefetchConfirmations(index, hashes: scratchHashes, count: n)
        let leaf = walk(index, from: node, frames: base, hashes: scratchHashes, count: n, nodes: nodes ?? scratchNodes)
        self.nodes.commit()
        return leaf
    }

    /// `descend` for readers that reuse the previous stack's nodes: `nodes[..<shared]` are the
    /// nodes of `path[..<shared]` (the last one is `node`). Walks the rest of `path`; `nodes`
    /// then holds the nodes of all of `path`. Returns the last.
    func descend(from node: Int32, path: [Int32], after shared: Int, nodes: inout [Int32]) -> Int32 {
        nodes.removeSubrange(shared...)
        nodes.append(contentsOf: repeatElement(0, count: path.count - shared))
        return path.withUnsafeBufferPointer { frames in
            nodes.withUnsafeMutableBufferPointer { out in
                descend(from: node, through: UnsafeBufferPointer(rebasing: frames[shared...]),
                        nodes: out.baseAddress.map { $0 + shared })
            }
        }
    }

    /// Reserves room for about `nodes` tree nodes (and an index for `indexed` of them, when
    /// fewer get looked up), so big inputs don't pay for repeated growth.
    public func reserve(nodes: Int, indexed: Int? = nil) {
        let n = min(max(nodes, 0), 1 << 24)
        guard n > self.nodes.count else { return }
        self.nodes.reserve(n)
        if childIndex.count == 0 && !indexDropped {
            childIndex = ChildIndex(capacity: max(4096, min(indexed ?? n, n)))
        }
    }

    /// Gives the child index room for about `n` nodes now instead of by doublings, each of
    /// which clears a new table and moves every entry so far: for a reader that has estimated
    /// its tree partway through. Nothing when that would not save a doubling.
    func reserveIndex(for n: Int) {
        guard !indexDropped else { return }
        nodes.commit()
        let count = nodes.count
        let n = min(n, 1 << 24)
        guard n >= 2 * count, nodes.pathHash.count == count else { return }
        let index = ChildIndex(capacity: n)
        nodes.pathHash.withUnsafeBufferPointer { hash in
            for i in 1..<max(count, 1) { index.insertNew(hash: hash[i], child: Int32(i)) }
        }
        childIndex = index
    }

    /// Frees the (parent, frame) → child index, the largest structure while reading. A one-shot
    /// load calls this before `freeze()` so the index and the frozen tree never coexist; the
    /// index is rebuilt if more stacks arrive.
    /// Its memory, already faulted in, is kept for `freeze`'s scratch.
    public func dropIndex() {
        dropIndex(lending: freezeScratchBytes)
    }

    /// `dropIndex`, keeping `bytes` of the index's memory for the next step's scratch (a
    /// merge's, a freeze's); the rest goes back to the system.
    func dropIndex(lending bytes: Int) {
        if !indexDropped { spare = childIndex.surrender(keep: bytes) }
        childIndex = ChildIndex(capacity: 16)
        nodes.dropPathHashes()
        indexDropped = true
    }

    private func rebuildIndex() {
        spare = nil
        indexDropped = false
        nodes.commit()
        let n = nodes.count
        let index = ChildIndex(capacity: n)
        var hashes = [UInt32](repeating: 0, count: n)
        nodes.parent.withUnsafeBufferPointer { parent in
        nodes.frame.withUnsafeBufferPointer { frame in
        hashes.withUnsafeMutableBufferPointer { hashes in
            hashes[0] = ChildIndex.rootHash
            for i in 1..<max(n, 1) {
                let h = ChildIndex.pathHash(hashes[Int(parent[i])], frame[i])
                hashes[i] = h
                index.insertNew(hash: h, child: Int32(i))
            }
        }}}
        nodes.setPathHashes(hashes)
        childIndex = index
    }

    /// Adds `other`'s tree (same metrics; its frames mapped to ours by `frameMap`), visiting its
    /// nodes in id order: the nodes it creates are numbered as appending other's stacks after
    /// ours would number them. Two readers can so build halves of one input apart.
    func absorb(_ other: ProfileBuilder, frameMap: [Int32]) {
        if indexDropped { rebuildIndex() }
        nodes.commit()
        other.nodes.commit()
        let before = Int32(nodes.count)
        let count = other.nodes.count
        // Scratch from other's dropped index (see `absorbScratchBytes`).
        let scratch = other.spare ?? SpareMemory()
        other.spare = nil
        let newId = scratch.take(max(count, 1), of: Int32.self)
        let hash = scratch.take(max(count, 1), of: UInt32.self)
        newId[0] = 0
        hash[0] = ChildIndex.rootHash
        var added = 0
        let index = childIndex
        // Room for all of other's nodes as new ones, made on another core meanwhile: the first
        // touches of ~13 MB of columns on the benchmark, which the id loop below never reads
        // (it reads other's columns and our index). Cut back to the nodes added afterwards.
        // Our parents confirm the index's candidates; `extend` leaves their column alone.
        nodes.parent.withUnsafeBufferPointer { ourParent in
        let grow = SideTask { self.nodes.extend(by: count - 1) }
        // Ids first: an existing child found in the index, or the next new id. Only a node that
        // existed before can have the child already; a node made here is new, and so are all
        // its children (the mapping is one to one). A path hash depends on frames only, so each
        // node's hash in our numbering (`hash`) follows from its parent's along other's tree,
        // without knowing the parent's new id: the index slots are prefetched 16 nodes ahead.
        // (Probing with our parent's stored hash made two dependent random reads per node:
        // nearly all of a merge's time.) A node whose parent is already known to be new needs
        // neither (`surelyNew` in its id until its turn): most of the benchmark's second half.
        let surelyNew: Int32 = -2, unknown: Int32 = -1
        other.nodes.parent.withUnsafeBufferPointer { oParent in
        other.nodes.frame.withUnsafeBufferPointer { oFrame in
        frameMap.withUnsafeBufferPointer { fmap in
            @inline(__always) func mapped(_ of: Int32) -> Int32 { of >= 0 ? fmap[Int(of)] : of }
            let ahead = 16
            for c in 1..<min(ahead + 1, max(count, 1)) {
                hash[c] = ChildIndex.pathHash(hash[Int(oParent[c])], mapped(oFrame[c]))
                newId[c] = unknown
            }
            var next = before
            for b in 1..<max(count, 1) {
                let c = b + ahead
                if c < count {
                    // The parent's id if numbered already (it is before b), else its mark.
                    let pc = Int(oParent[c]), q = newId[pc]
                    if q == surelyNew || q >= before {
                        newId[c] = surelyNew
                    } else {
                        newId[c] = unknown
                        hash[c] = ChildIndex.pathHash(hash[pc], mapped(oFrame[c]))
                        index.prefetch(hash[c])
                    }
                }
                let p = newId[Int(oParent[b])]
                var id: Int32 = p < before ? index.get(hash: hash[b], isChild: { ourParent[Int($0)] == p }) : -1
                if id < 0 {
                    id = next
                    next += 1
                }
                newId[b] = id
            }
            added = Int(next - before)
        }}}
        grow.wait()
        }
        nodes.truncate(to: Int(before) + added)
        // Other's weights added on the other core (the columns moved out, so each side owns
        // what it writes) while this one writes the new nodes' parents and frames.
        var weight: [[Double]] = []
        swap(&weight, &nodes.weight)
        let theirWeight = other.nodes.weight
        let addWeights = SideTask {
            for m in weight.indices {
                weight[m].withUnsafeMutableBufferPointer { mine in
                theirWeight[m].withUnsafeBufferPointer { theirs in
                    mine[0] += theirs[0]
                    let base = mine.baseAddress!
                    for b in 1..<max(count, 1) where theirs[b] != 0 {
                        if b + 16 < count { perftop_prefetch(base + Int(newId[b + 16])) }
                        mine[Int(newId[b])] += theirs[b]
                    }
                }}
            }
        }
        // The new nodes, in id order: other's nodes that got new ids, in other's order.
        nodes.fill(from: Int(before)) { parents, frames in
            other.nodes.parent.withUnsafeBufferPointer { oParent in
            other.nodes.frame.withUnsafeBufferPointer { oFrame in
            frameMap.withUnsafeBufferPointer { fmap in
                for b in 1..<max(count, 1) where newId[b] >= before {
                    let i = Int(newId[b] - before), of = oFrame[b]
                    parents[i] = newId[Int(oParent[b])]
                    frames[i] = of >= 0 ? fmap[Int(of)] : of
                }
            }}}
        }
        addWeights.wait()
        swap(&weight, &nodes.weight)
        // The new nodes are not in the index: rebuild it if anyone asks for a child again.
        dropIndex()
    }

    /// Adds a whole tree (`parent` and `frame` columns, parents before children) with each
    /// frame replaced by `frameMap[frame]` (-1 drops the node: its subtree and self weight merge
    /// into its parent); identical paths merge. A transform's rebuild (threads or lines merged,
    /// functions hidden). Each node's path hash follows from its parent's along the source
    /// tree, so the child-index probes are prefetched a stretch ahead, as `absorb` does: a
    /// `child(of:frame:)` a node, each probe a cache miss waited for, took ~2 s a rebuild of
    /// a 6.5M-node tree.
    ///
    /// `original`: the tree these columns rewrite (same node ids; its paths are distinct, as
    /// any frozen tree's are), given by transforms that change a small part of a big tree.
    /// A node whose parent and frame are the original's, below such nodes only, keeps its
    /// original path, which no other kept node has; unless a rewritten node's new path hashes
    /// alike (a bitmap of those hashes says), it is appended without a probe. Into an empty
    /// builder at its root only (nodes already there could share a path); otherwise every
    /// node probes.
    /// The tree's root goes to `root` (a reader's thread node); returns each node's new id.
    @discardableResult
    func addTree(parent: [Int32], frame: [Int32], selfWeight: [[Double]], frameMap: [Int32],
                 original: (parent: [Int32], frame: [Int32])? = nil, under root: Int32 = 0) -> [Int32] {
        let n = parent.count
        guard n > 0 else { return [] }
        if indexDropped { rebuildIndex() }
        nodes.commit()
        let hash = UnsafeMutablePointer<UInt32>.allocate(capacity: n)
        // Per node: 1 when it must probe the index (sparse mode only).
        var probe: UnsafeMutablePointer<UInt8>? = nil
        defer { hash.deallocate(); probe?.deallocate() }
        hash[0] = nodes.pathHash[Int(root)]
        var probes = n
        if let original, root == 0, nodes.count == 1, original.parent.count == n, original.frame.count == n {
            let must = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
            probe = must
            probes = Self.markProbes(parent: parent, frame: frame, frameMap: frameMap, original: original,
                                     hash: hash, into: must)
        }
        reserve(nodes: nodes.count + n, indexed: nodes.count + probes)
        let index = childIndex
        // Uninitialised, as the scratch pointer it replaced (transforms call this on trees
        // of millions of nodes): every id is written below.
        return [Int32](unsafeUninitializedCapacity: n) { newIdBuffer, initialized in
        initialized = n
        let newId = newIdBuffer.baseAddress!
        newId[0] = root
        parent.withUnsafeBufferPointer { parent in
        frame.withUnsafeBufferPointer { frame in
        frameMap.withUnsafeBufferPointer { fmap in
            @inline(__always) func mapped(_ i: Int) -> Int32 {
                let f = frame[i]
                return f >= 0 && Int(f) < fmap.count ? fmap[Int(f)] : -1
            }
            if let must = probe {
                let ahead = 16
                for c in 1..<min(ahead + 1, n) where must[c] != 0 { index.prefetch(hash[c]) }
                for i in 1..<n {
                    if i + ahead < n {
                        if must[i + ahead] != 0 { index.prefetch(hash[i + ahead]) }
                        perftop_prefetch(newId + Int(parent[i + ahead]))      // the parent's id, anywhere behind
                    }
                    let f = mapped(i), p = newId[Int(parent[i])], h = hash[i]
                    if f < 0 {
                        newId[i] = p
                    } else if must[i] == 0 {
                        newId[i] = appendNode(parent: p, frame: f, hash: h)
                    } else {
                        newId[i] = index.getOrInsert(hash: h, isChild: { nodes.parentOf($0) == p }) { appendNode(parent: p, frame: f, hash: h) }
                    }
                }
                return
            }
            @inline(__always) func hashOf(_ i: Int) {
                let f = mapped(i), ph = hash[Int(parent[i])]
                if f < 0 { hash[i] = ph } else {
                    hash[i] = ChildIndex.pathHash(ph, f)
                    index.prefetch(hash[i])
                }
            }
            let ahead = 16
            for c in 1..<min(ahead + 1, n) { hashOf(c) }
            for i in 1..<n {
                if i + ahead < n { hashOf(i + ahead) }
                let f = mapped(i), p = newId[Int(parent[i])], h = hash[i]
                newId[i] = f < 0 ? p : index.getOrInsert(hash: h, isChild: { nodes.parentOf($0) == p }) { appendNode(parent: p, frame: f, hash: h) }
            }
        }}}
        nodes.commit()
        // Nodes appended without a probe are not in the index: it is rebuilt if asked again.
        if probes < n - 1 { dropIndex() }
        for m in selfWeight.indices where m < metrics.count && !selfWeight[m].isEmpty {
            selfWeight[m].withUnsafeBufferPointer { addSelf(newId, $0.baseAddress!, count: min(n, $0.count), metric: m) }
        }
        }
    }

    /// Replaces each node's frame `f` by `map(f)`, for a reader that builds its tree on
    /// provisional frame ids (speedscope: indices into `shared.frames`, which py-spy writes
    /// after the samples). `map` must be one to one on the frames in the tree, so siblings stay
    /// distinct. The child index is keyed by the old frames: it is dropped (rebuilt on demand).
    func remapFrames(_ map: (Int32) -> Int32) {
        nodes.rewriteFrames { fr in
            for i in 1..<max(fr.count, 1) { fr[i] = map(fr[i]) }
        }
        dropIndex()
    }

    /// Sets metric `m`'s self weight of every node at once (`column[node]`, all nodes).
    func setSelfWeights(_ m: Int, _ column: [Double]) {
        nodes.setWeights(m, column)
    }

    /// Takes the whole tree out (parent and frame columns; weights are dropped), leaving only
    /// the root: a reader whose provisional frames merge nodes replays it through `addTree`.
    func takeTree() -> (parent: [Int32], frame: [Int32]) {
        let t = nodes.takeAll()
        childIndex = ChildIndex(capacity: 4096)
        indexDropped = false
        spare = nil
        return t
    }

    /// For `addTree(original:)`: each node's new path hash into `hash`, and into `must` 1 for
    /// the nodes that probe: a rewritten node (moved, joined or given another frame, or below
    /// one) that makes a node, and a node on its original path whose hash a rewritten node's
    /// new path has too (the same path, or a hash collision: a probe too many, never too few).
    /// Returns how many probe.
    static func markProbes(parent: [Int32], frame: [Int32], frameMap: [Int32],
                           original: (parent: [Int32], frame: [Int32]),
                           hash: UnsafeMutablePointer<UInt32>, into must: UnsafeMutablePointer<UInt8>) -> Int {
        let n = parent.count
        // 0: original path; 1: rewritten, makes a node; 2: rewritten, joins its parent's node.
        must[0] = 0
        var rewritten = 0
        parent.withUnsafeBufferPointer { parent in
        frame.withUnsafeBufferPointer { frame in
        frameMap.withUnsafeBufferPointer { fmap in
        original.parent.withUnsafeBufferPointer { oParent in
        original.frame.withUnsafeBufferPointer { oFrame in
            // A parent's hash and mark are anywhere behind: load them a stretch ahead.
            let ahead = CallTree.ahead
            for i in 1..<n {
                if i + ahead < n { let q = Int(parent[i + ahead]); perftop_prefetch(hash + q); perftop_prefetch(must + q) }
                let f0 = frame[i]
                let f = f0 >= 0 && Int(f0) < fmap.count ? fmap[Int(f0)] : -1
                let p = Int(parent[i])
                hash[i] = f < 0 ? hash[p] : ChildIndex.pathHash(hash[p], f)
                if f < 0 {
                    must[i] = 2
                } else if must[p] == 0 && p == Int(oParent[i]) && f == oFrame[i] {
                    must[i] = 0
                } else {
                    must[i] = 1
                    rewritten += 1
                }
            }
        }}}}}
        guard rewritten > 0 else { return 0 }
        var bits = 64
        while bits < 32 * rewritten { bits *= 2 }
        let shift = UInt32(32 - bits.trailingZeroBitCount)
        @inline(__always) func slot(_ h: UInt32) -> Int { Int((h &* 0x9E37_79B1) >> shift) }
        var seen = [UInt64](repeating: 0, count: bits / 64)
        var probes = 0
        seen.withUnsafeMutableBufferPointer { seen in
            for i in 1..<n where must[i] == 1 { let s = slot(hash[i]); seen[s >> 6] |= 1 << UInt64(s & 63) }
            for i in 1..<n {
                if must[i] == 2 { must[i] = 0; continue }
                if must[i] == 0 {
                    let s = slot(hash[i])
                    if seen[s >> 6] & (1 << UInt64(s & 63)) != 0 { must[i] = 1 }
                }
                if must[i] != 0 { probes += 1 }
            }
        }
        return probes
    }

    /// Appends the nodes of a tree (`parent` and `frame` columns, parents first) that `keep`
    /// accepts, frames as they are; a kept node's parent must be kept too (or be the root).
    /// The paths of a tree are distinct, and so are those of any part of it, so no node needs a
    /// child-index probe: the index is dropped instead (rebuilt if a child is asked for later).
    /// Returns each node's new id (0 for nodes not kept). For views that keep part of a tree
    /// (focus, a live time window), where a probe a node was nearly all the work.
    func appendKept(parent: [Int32], frame: [Int32], keep: (Int) -> Bool) -> [Int32] {
        let n = parent.count
        var newId = [Int32](repeating: 0, count: n)
        guard n > 1 else { return newId }
        dropIndex()
        var kept = 0
        for i in 1..<n where keep(i) { kept += 1 }
        reserve(nodes: nodes.count + kept + 1)
        parent.withUnsafeBufferPointer { parent in
        frame.withUnsafeBufferPointer { frame in
        newId.withUnsafeMutableBufferPointer { newId in
            for i in 1..<n where keep(i) {
                newId[i] = nodes.append(parent: newId[Int(parent[i])], frame: frame[i], hash: 0)
            }
        }}}
        nodes.commit()
        return newId
    }

    /// Keeps only the nodes `keep` marks (a kept node's parent must be kept too; the root
    /// always is), with their self weights, and, when `frames` is set, only the frames, functions
    /// and strings those nodes use (a reader that caches frame ids passes false). Returns each
    /// old node's new id, -1 for a dropped one. A live stream in a time window forgets what
    /// left it this way, so that its memory follows the window, not the stream's length.
    func compact(keeping keep: [Bool], frames compactFrames: Bool) -> [Int32] {
        nodes.commit()
        let n = nodes.count
        var frameMap: [Int32]? = nil, functionMap: [Int32]? = nil
        if compactFrames {
            var used = [Bool](repeating: false, count: frames.frameCount)
            for i in 1..<max(n, 1) where keep[i] && nodes.frame[i] >= 0 { used[Int(nodes.frame[i])] = true }
            let c = frames.compacted(keeping: used)
            frames = c.table
            frameMap = c.frameMap
            functionMap = c.functionMap
        }
        // No path hashes and no index: both are rebuilt on the next `child(of:frame:)`.
        nodes.dropPathHashes()
        let newId = nodes.compact { keep[$0] }
        if let frameMap {
            nodes.rewriteFrames { f in
                for i in f.indices where f[i] >= 0 { f[i] = frameMap[Int(f[i])] }
            }
        }
        childIndex = ChildIndex(capacity: 16)
        indexDropped = true
        spare = nil
        // The reader starts a new path (`forgetPaths`), whose text ids start again from 0.
        countTextVotes()
        (textLine, textWeight) = ([], [])
        if let functionMap {
            var kept = LineVotes()
            // A vote for a function not kept would never count again.
            votes.forEach { fn, line, w in
                if Int(fn) < functionMap.count, functionMap[Int(fn)] >= 0 { kept.add(functionMap[Int(fn)], line, w) }
            }
            votes = kept
        }
        return newId
    }

    /// Cuts the nodes that hold no weight in any metric, renumbering the rest in order (the
    /// child index goes: rebuilt if a child is asked for later). In the builder's own columns:
    /// copying the kept nodes into a new builder touched as much fresh memory as the tree.
    /// Returns the kept nodes' total weights (`totals[metric][node]`), which it needs to decide
    /// and which a cut leaves as they were (only empty subtrees go): for `freeze(totals:)`, valid
    /// until the next node or weight is added.
    @discardableResult
    func cutEmptyNodes() -> [[Double]] {
        nodes.commit()
        var totals = CallTree.totals(parent: nodes.parent, selfWeight: nodes.weight)
        func empty(_ i: Int) -> Bool { !totals.contains { $0[i] != 0 } }
        guard (1..<max(nodes.count, 1)).contains(where: empty) else { return totals }
        dropIndex()
        let newId = nodes.compact { !empty($0) }
        let kept = nodes.count
        for m in totals.indices {
            totals[m].withUnsafeMutableBufferPointer { t in
                var k = 1
                for i in 1..<newId.count where newId[i] >= 0 { t[k] = t[i]; k += 1 }
            }
            totals[m].removeLast(totals[m].count - kept)
        }
        return totals
    }

    /// What `absorb` takes from the absorbed builder's spare memory: an id and a path hash a node.
    var absorbScratchBytes: Int {
        nodes.commit()
        return 8 * (nodes.count + 1) + 2 * 64
    }

    /// What `freeze` takes from spare memory: the function table's Bloom filter of ancestors'
    /// functions (16 bytes a node), the call tree's fill cursor (4).
    var freezeScratchBytes: Int {
        nodes.commit()
        return Self.freezeScratchBytes(nodes: nodes.count)
    }

    static func freezeScratchBytes(nodes n: Int) -> Int { 20 * (n + 1) + 2 * 64 }

    /// The freeze's scratch being faulted in on the other core (see `prepareFreezeScratch`).
    private var scratchAhead: (task: SideTask, box: ScratchBox)? = nil

    final class ScratchBox: @unchecked Sendable {
        var memory: SpareMemory? = nil
        var columns: SpareColumns? = nil
    }

    /// Starts faulting in the freeze's fresh memory for a tree of up to `nodes` nodes on the
    /// other core, for a transform about to rebuild a big tree on this one: the scratch, and
    /// the call tree's three per-node columns. The kernel zeroes fresh pages at their first
    /// touch, which inside the freeze made a good part of both its sides. A tree with more
    /// nodes takes fresh memory past the scratch, and new columns.
    /// Call it once `exactFunctions` and `functionTotals` are set: a freeze with either takes
    /// no Bloom filter, one with an exact table neither scratch nor columns.
    func prepareFreezeScratch(nodes n: Int) {
        guard n >= Self.parallelFreezeNodes, scratchAhead == nil, exactFunctions == nil,
              sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 else { return }
        let bytes = functionTotals == nil ? Self.freezeScratchBytes(nodes: n) : 4 * (n + 1) + 2 * 64
        let box = ScratchBox()
        scratchAhead = (SideTask {
            box.memory = SpareMemory.faulted(bytes: bytes)
            box.columns = SpareColumns(count: 3, capacity: n + 1)
        }, box)
    }

    /// From this many nodes `freeze` builds the call tree and the function table on two cores.
    static let parallelFreezeNodes = 200_000

    /// Sees every weight added (node, metric, value): a live stream keeps per-second deltas
    /// with it for its time windows. Nil for files.
    public var recorder: ((Int32, Int, Double) -> Void)? = nil

    @inline(__always)
    public func addSelf(_ node: Int32, metric: Int, _ value: Double) {
        nodes.commit()
        nodes.weight[metric][Int(node)] += value
        recorder?(node, metric, value)
    }

    /// `addSelf` for a reader's batch of nodes: one commit and one access to the column for
    /// all of them (per node, they were ~150 instructions a line of a folded file).
    func addSelf(_ nodes: UnsafePointer<Int32>, _ values: UnsafePointer<Double>, count: Int, metric: Int) {
        if recorder != nil {
            for i in 0..<count { addSelf(nodes[i], metric: metric, values[i]) }
            return
        }
        self.nodes.commit()
        self.nodes.weight[metric].withUnsafeMutableBufferPointer { w in
            for i in 0..<count { w[Int(nodes[i])] += values[i] }
        }
    }

    /// Adds `weight[m][i]` to node `newId[i]` for each node `i` that `keep` accepts, one pass
    /// over each metric's column (per node and metric, `addSelf` costs a commit, a recorder
    /// check and nested array lookups: the bulk of a drop's rebuild).
    func addSelf(_ weight: [[Double]], to newId: [Int32], where keep: (Int) -> Bool) {
        if recorder != nil {
            for i in newId.indices where keep(i) {
                for m in weight.indices where m < metrics.count && weight[m][i] != 0 { addSelf(newId[i], metric: m, weight[m][i]) }
            }
            return
        }
        self.nodes.commit()
        let count = nodes.count
        for m in weight.indices where m < metrics.count {
            weight[m].withUnsafeBufferPointer { from in
            newId.withUnsafeBufferPointer { id in
            self.nodes.weight[m].withUnsafeMutableBufferPointer { to in
                for i in 0..<min(from.count, id.count) where from[i] != 0 && keep(i) {
                    let k = Int(id[i])
                    precondition(k >= 0 && k < count)
                    to[k] += from[i]
                }
            }}}
        }
    }

    /// Appends one stack, root first; `weights` has one value per metric.
    @discardableResult
    public func addStack<C: Collection>(_ stack: C, weights: [Double]) -> Int32 where C.Element == Int32 {
        var n: Int32 = 0
        for f in stack { n = child(of: n, frame: f) }
        nodes.commit()
        for (m, w) in weights.enumerated() where w != 0 { nodes.weight[m][Int(n)] += w }
        return n
    }

    /// The frame table with each function labelled by its hottest line: self weight per line
    /// from the tree's line-level frames and from `votes`. A copy, so a live builder's
    /// own table keeps only what its reader put in.
    private func labelledFrames(metric m: Int) -> FrameTable {
        guard m < metrics.count, frames.functionCount > 0 else { return frames }
        countTextVotes()
        // Line-level frames in the tree vote too (a tree read with lines whose reader also
        // voted): counted here over the tree, into a copy of the votes.
        var treeVotes: [UInt64: Double] = [:]
        if frames.frameCount > frames.functionCount {
            var perFrame = [Double](repeating: 0, count: frames.frameCount)
            nodes.frame.withUnsafeBufferPointer { fr in
                nodes.weight[m].withUnsafeBufferPointer { w in
                    for n in 0..<min(fr.count, w.count) where w[n] > 0 && fr[n] >= 0 { perFrame[Int(fr[n])] += w[n] }
                }
            }
            // A merged frame's line is a stand-in, not where its weight was: its reader voted.
            for f in 0..<frames.frameCount where perFrame[f] > 0 && !frames.isMerged(Int32(f)) {
                let fn = frames.frameFunction[f], line = frames.frameLine[f]
                if fn >= 0 && line > 0 { treeVotes[packPair(fn, line), default: 0] += perFrame[f] }
            }
        }
        var labelled = frames
        if treeVotes.isEmpty {
            labelled.label(lines: votes.leader)
        } else {
            var all = votes
            for (key, w) in treeVotes { all.add(Int32(truncatingIfNeeded: key >> 32), Int32(truncatingIfNeeded: key), w) }
            labelled.label(lines: all.leader)
        }
        return labelled
    }

    public func freeze(source: String = "") -> Profile { freeze(source: source, totals: nil) }

    /// `freeze`, given each node's total weight when the caller has it already (`cutEmptyNodes`);
    /// ignored unless it has a column per metric, a value per node.
    func freeze(source: String, totals knownNodeTotals: [[Double]]?) -> Profile {
        nodes.commit()
        let nodeTotals = knownNodeTotals.flatMap { t in
            t.count == metrics.count && t.allSatisfy({ $0.count == nodes.count }) ? t : nil
        }
        func sumTotals(_ p: [Int32], _ w: [[Double]]) -> [[Double]] {
            nodeTotals ?? CallTree.totals(parent: p, selfWeight: w)
        }
        // Scratch (`freezeScratchBytes`): the dropped index's memory when a one-shot load lent
        // it (`dropIndex`), or what `prepareFreezeScratch` faulted in, whichever is larger;
        // else fresh.
        var columns: SpareColumns? = nil
        if let ahead = scratchAhead {
            ahead.task.wait()
            scratchAhead = nil
            if let m = ahead.box.memory, m.capacity > spare?.capacity ?? 0 { spare = m }
            columns = ahead.box.columns
        }
        let scratch = spare ?? SpareMemory()
        spare = nil
        let order = min(defaultMetric, max(metrics.count - 1, 0))
        let frames = labelledFrames(metric: order)
        let tree: CallTree, functions: FunctionTable
        let knownTotals = functionTotals.flatMap { t in
            t.count == metrics.count && t.allSatisfy({ $0.count == frames.functionCount }) ? t : nil
        }
        func derivedTable(_ p: [Int32], _ f: [Int32], _ w: [[Double]], _ totals: () -> [[Double]]) -> FunctionTable {
            if let knownTotals {
                return FunctionTable(frame: f, selfWeight: w, functionTotals: knownTotals, frames: frames,
                                     metricCount: metrics.count)
            }
            return FunctionTable(parent: p, frame: f, selfWeight: w, totalWeight: totals(), frames: frames,
                                 metricCount: metrics.count, scratch: scratch)
        }
        if let exact = exactFunctions {
            tree = CallTree(parent: parent, frame: frame, selfWeight: selfWeight,
                            totalWeight: sumTotals(parent, selfWeight), orderMetric: order)
            functions = exact
        } else if nodes.count >= Self.parallelFreezeNodes && sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 {
            // A big tree: the function table needs no child lists, so it is built on another
            // core while the call tree groups and sorts its children. That core sums the
            // totals first; the call tree needs them only to sort, after grouping.
            let (p, f, w) = (parent, frame, selfWeight)
            let totalsReady = DispatchSemaphore(value: 0)
            var totals: [[Double]] = [], table: FunctionTable? = nil
            let side = SideTask {
                totals = sumTotals(p, w)
                totalsReady.signal()
                table = derivedTable(p, f, w) { totals }
            }
            tree = CallTree(parent: p, frame: f, selfWeight: w,
                            totalWeight: { totalsReady.wait(); return totals }, orderMetric: order, scratch: scratch,
                            columns: columns)
            side.wait()
            functions = table ?? FunctionTable(tree: tree, frames: frames, metricCount: metrics.count)
        } else {
            tree = CallTree(parent: parent, frame: frame, selfWeight: selfWeight,
                            totalWeight: sumTotals(parent, selfWeight), orderMetric: order)
            functions = derivedTable(tree.parent, tree.frame, tree.selfWeight) { tree.totalWeight }
        }
        return Profile(source: source, format: format, metrics: metrics,
                       defaultMetric: min(defaultMetric, max(metrics.count - 1, 0)),
                       frames: frames.withoutIndexes(), tree: tree, functions: functions,
                       estimatedTree: estimatedTree, sampleCount: sampleCount,
                       warnings: warnings, metadata: metadata, mergedThreads: mergedThreads)
    }
}

/// Work for the other core while this thread does its own: `wait()` joins it. For the
/// builder's two-core steps, whose two sides touch disjoint state (the closure is not
/// checked for sendability). On one core it runs at once, inline.
final class SideTask: @unchecked Sendable {
    private let work: () -> Void
    private let done = DispatchSemaphore(value: 0)

    init(_ work: @escaping () -> Void) {
        self.work = work
        if sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 {
            DispatchQueue.global().async { self.work(); self.done.signal() }
        } else {
            work()
            done.signal()
        }
    }

    func wait() { done.wait() }
}

/// Line votes per function: each function's leading line and its weight, and the weights of
/// its other lines. Ties go to the smaller line. Weights only add (every vote is positive),
/// so the leader changes only when a vote lifts another line past it.
struct LineVotes {
    /// Per function: the leading line (0: no vote yet) and its weight.
    private(set) var leader: [Int32] = []
    private var leaderWeight: [Double] = []
    /// `packPair(function, line)` → weight, for lines that are not their function's leader.
    private var others: [UInt64: Double] = [:]

    mutating func add(_ fn: Int32, _ line: Int32, _ w: Double) {
        guard fn >= 0, line > 0, w > 0 else { return }
        let f = Int(fn)
        if f >= leader.count {
            let more = max(f + 1 - leader.count, leader.count)
            leader.append(contentsOf: repeatElement(0, count: more))
            leaderWeight.append(contentsOf: repeatElement(0, count: more))
        }
        let lead = leader[f]
        if lead == line || lead == 0 {
            leader[f] = line
            leaderWeight[f] += w
            return
        }
        let key = packPair(fn, line)
        let total = others[key, default: 0] + w
        if total > leaderWeight[f] || (total == leaderWeight[f] && line < lead) {
            others[packPair(fn, lead)] = leaderWeight[f]
            others[key] = nil
            leader[f] = line
            leaderWeight[f] = total
        } else {
            others[key] = total
        }
    }

    /// Every (function, line, weight) voted for.
    func forEach(_ body: (Int32, Int32, Double) -> Void) {
        for f in leader.indices where leader[f] > 0 { body(Int32(f), leader[f], leaderWeight[f]) }
        for (key, w) in others { body(Int32(truncatingIfNeeded: key >> 32), Int32(truncatingIfNeeded: key), w) }
    }
}
