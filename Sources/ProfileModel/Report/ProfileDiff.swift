/// Two profiles matched for the viewer's diff mode: each function of NEW gets the base values
/// of the functions with the same (name, file), and each node of NEW's call tree gets the base
/// values of the nodes reached by the same path of functions (thread and process roots match
/// by name). The shape is NEW's; the change is what the views colour (as in differential flame
/// graphs). Functions found only in BASE are listed as `gone`.
public struct ProfileDiff: Sendable {
    public let normalized: Bool
    /// Base values are multiplied by `scale` before they are compared: 1, or, when normalized,
    /// newTotal / baseTotal (so the delta of a node is its change in share of the total).
    public let scale: Double
    public let baseTotal: Double
    public let newTotal: Double
    /// Base self and total weight of each function of NEW (0 when it is new), unscaled.
    public let functionBaseSelf: [Double]
    public let functionBaseTotal: [Double]
    /// Functions of BASE with weight that match no function of NEW.
    public let gone: [Int32]
    /// The base functions matched to each function of NEW (CSR: `matchStart[f]..<matchStart[f+1]`).
    public let matchStart: [Int32]
    public let matchList: [Int32]
    /// Base total weight of each node of NEW's tree (0 where the path is new), unscaled.
    public let nodeBaseTotal: [Double]
    /// Verdicts of repeated runs (`perftop diff A... --vs B...`): when set, only significant
    /// changes are coloured.
    public var verdicts: DiffVerdicts? = nil

    /// Whether the change of function `f` of NEW may be coloured: always without verdicts.
    public func colours(function f: Int32, in p: Profile) -> Bool {
        guard let verdicts, f >= 0 else { return true }
        return verdicts.verdict(name: p.frames.name(ofFunction: f), file: p.frames.file(ofFunction: f))?.isSignificant ?? false
    }

    /// Whether the change of node `n` of NEW's tree may be coloured (by its path of names).
    public func colours(node n: Int32, in p: Profile) -> Bool {
        guard let verdicts else { return true }
        if n <= 0 { return verdicts.total.isSignificant }
        var names: [String] = []
        var x = n
        while x > 0 {
            let fr = p.tree.frame[Int(x)]
            if fr >= 0 {
                let fn = p.frames.frameFunction[Int(fr)]
                names.append(fn >= 0 ? p.frames.name(ofFunction: fn) : p.frames.name(ofFrame: fr))
            } else { names.append("?") }
            x = p.tree.parent[Int(x)]
        }
        return verdicts.verdict(path: names.reversed())?.isSignificant ?? false
    }

    /// What a change is a percentage of: the base total (absolute mode, as `perftop diff`
    /// prints) or the new total (normalized: the change in percentage points of share).
    public var denominator: Double { normalized ? newTotal : baseTotal }

    /// `new` minus the scaled base value.
    public func delta(new: Double, base: Double) -> Double { new - base * scale }

    /// The change as a fraction of the denominator (0.05 = 5 %).
    public func share(_ delta: Double) -> Double { denominator != 0 ? delta / denominator : (delta == 0 ? 0 : 1) }

    /// The change from `base` to `new` as a fraction of the denominator: what the views colour.
    public func change(new: Double, base: Double) -> Double { share(delta(new: new, base: base)) }

    public init(base: Profile, baseMetric bm: Int, new: Profile, newMetric nm: Int, normalized: Bool) {
        self.normalized = normalized
        baseTotal = base.total(metric: bm)
        newTotal = new.total(metric: nm)
        scale = normalized && baseTotal != 0 ? newTotal / baseTotal : 1

        // Functions, by (name, file); loosely across formats.
        var keys = DiffKeys(loose: base.format != new.format)
        let baseFnKey = (0..<base.functions.count).map { keys.function(base.frames, Int32($0)) }
        var baseByKey = [Int32: [Int32]]()
        for (f, k) in baseFnKey.enumerated() { baseByKey[k, default: []].append(Int32(f)) }
        var bs = [Double](repeating: 0, count: new.functions.count), bt = bs
        var matched = [Bool](repeating: false, count: base.functions.count)
        var mStart = [Int32](repeating: 0, count: new.functions.count + 1), mList: [Int32] = []
        let newFnKey = (0..<new.functions.count).map { keys.function(new.frames, Int32($0)) }
        let split = ProfileDiff.splitByLine(base: base, new: new, baseByKey: baseByKey, newFnKey: newFnKey)
        for f in 0..<new.functions.count {
            let bs0 = split[Int32(f)] ?? baseByKey[newFnKey[f]] ?? []
            mList += bs0
            mStart[f + 1] = Int32(mList.count)
            for b in bs0 {
                bs[f] += base.functions.selfWeight[bm][Int(b)]
                bt[f] += base.functions.totalWeight[bm][Int(b)]
                matched[Int(b)] = true
            }
        }
        matchStart = mStart
        matchList = mList
        functionBaseSelf = bs
        functionBaseTotal = bt
        gone = (0..<base.functions.count).filter { b in
            !matched[b] && (base.functions.selfWeight[bm][b] != 0 || base.functions.totalWeight[bm][b] != 0)
        }.map { Int32($0) }

        // Tree nodes, by path: walk NEW depth first, carrying the base nodes on the same path.
        let nt = new.tree, bt2 = base.tree
        var nodeTotal = [Double](repeating: 0, count: nt.count)
        guard nt.count > 0, bt2.count > 0 else { nodeBaseTotal = nodeTotal; return }
        let baseFrameKey = (0..<base.frames.frameCount).map { keys.frame(base.frames, Int32($0)) }
        let newFrameKey = (0..<new.frames.frameCount).map { keys.frame(new.frames, Int32($0)) }
        func key(_ t: CallTree, _ n: Int32, _ table: [Int32]) -> Int32 {
            let f = t.frame[Int(n)]
            return f >= 0 && Int(f) < table.count ? table[Int(f)] : -1
        }
        // Across formats, frames one side never has are see-through: cProfile's
        // `<built-in method builtins.exec>` above `<module>`, a sampler's `<module>` wrapper.
        let transparent = keys.loose
        let inNew = transparent ? Set(newFrameKey) : [], inBase = transparent ? Set(baseFrameKey) : []
        nodeTotal[0] = bt2.totalWeight[bm][0]
        var stack: [(Int32, [Int32])] = [(0, [0])]
        var byKey = [Int32: [Int32]]()
        while let (n, matches) = stack.popLast() {
            guard nt.firstChild(n) >= 0, !matches.isEmpty else { continue }
            byKey.removeAll(keepingCapacity: true)
            var open = matches
            while let b = open.popLast() {
                for c in bt2.children(b) {
                    let k = key(bt2, c, baseFrameKey)
                    if transparent && !inNew.contains(k) { open.append(c) } else { byKey[k, default: []].append(c) }
                }
            }
            for c in nt.children(n) {
                let k = key(nt, c, newFrameKey)
                if transparent && !inBase.contains(k) { stack.append((c, matches)); continue }
                let found = byKey[k] ?? []
                for b in found {
                    nodeTotal[Int(c)] += bt2.totalWeight[bm][Int(b)]
                }
                if !found.isEmpty { stack.append((c, found)) }
            }
        }
        nodeBaseTotal = nodeTotal
    }
}

extension ProfileDiff {
    /// Whether comparing shares is the right default: the two measure in different units
    /// (py-spy's samples against cProfile's seconds), or both are sampled with different
    /// sample counts (runs of different length or rate).
    public static func normalizesByDefault(base: Profile, baseMetric bm: Int, new: Profile, newMetric nm: Int) -> Bool {
        if base.metrics[bm].unit != new.metrics[nm].unit { return true }
        let sampled = !base.estimatedTree && !new.estimatedTree && base.sampleCount != nil && new.sampleCount != nil
        return sampled && base.sampleCount != new.sampleCount
    }

    /// A key can stand for several functions of one file: pstats keeps every `<listcomp>` or
    /// `lambda` of a module apart by its definition line, and across formats a loose key joins
    /// every `__init__` of a module. Such groups are split by line instead of summed:
    /// - both sides record definition lines (pstats and pstats): the i-th by line with the i-th
    ///   when the counts agree (an edit moves lines, not order), else the nearest line;
    /// - one side records definition lines, the other executing lines (a sampler, whose function
    ///   line is the smallest line seen): each executing-side function belongs to the
    ///   definition-side function with the greatest definition line at or before it.
    /// Returns the base functions of each new function so split; new functions not in the
    /// result keep every base function of their key.
    static func splitByLine(base: Profile, new: Profile, baseByKey: [Int32: [Int32]], newFnKey: [Int32]) -> [Int32: [Int32]] {
        guard base.estimatedTree || new.estimatedTree else { return [:] }
        var newByKey = [Int32: [Int32]]()
        for (f, k) in newFnKey.enumerated() { newByKey[k, default: []].append(Int32(f)) }
        func line(_ p: Profile, _ f: Int32) -> Int { p.frames.line(ofFunction: f) ?? 0 }
        func byLine(_ fs: [Int32], _ p: Profile) -> [Int32] { fs.sorted { (line(p, $0), $0) < (line(p, $1), $1) } }
        /// The definition-side function owning an executing line.
        func owner(_ at: Int, among defs: [Int32], in p: Profile) -> Int32 {
            let sorted = byLine(defs, p)
            return sorted.last { line(p, $0) <= at } ?? sorted[0]
        }
        var out = [Int32: [Int32]]()
        for (k, ns) in newByKey {
            guard let bs = baseByKey[k], ns.count + bs.count > 2 else { continue }
            if base.estimatedTree && new.estimatedTree {
                if ns.count == bs.count {
                    for (n, b) in zip(byLine(ns, new), byLine(bs, base)) { out[n] = [b] }
                } else {
                    for n in ns {
                        if let b = bs.min(by: { (abs(line(base, $0) - line(new, n)), $0) < (abs(line(base, $1) - line(new, n)), $1) }) { out[n] = [b] }
                    }
                }
            } else if base.estimatedTree {
                for n in ns { out[n] = [owner(line(new, n), among: bs, in: base)] }
            } else {
                for n in ns { out[n] = [] }
                for b in bs { out[owner(line(base, b), among: ns, in: new), default: []].append(b) }
            }
        }
        return out
    }

    /// The base functions matched to function `f` of NEW.
    public func baseMatches(_ f: Int32) -> ArraySlice<Int32> {
        guard f >= 0, Int(f) + 1 < matchStart.count else { return [] }
        return matchList[Int(matchStart[Int(f)])..<Int(matchStart[Int(f) + 1])]
    }

    /// The base weight through the calls matching NEW's `edges` of function `f` (its callers
    /// when `callers`, else its callees): calls between the base functions matched to each end.
    public func baseWeights(of edges: [CallEdge], of f: Int32, callers: Bool, base: Profile, baseMetric m: Int) -> [Double] {
        var byBase = [Int32: Double]()
        for b in baseMatches(f) {
            for e in callers ? base.callers(of: b) : base.callees(of: b) { byBase[e.function, default: 0] += e.weight[m] }
        }
        return edges.map { e in baseMatches(e.function).reduce(0) { $0 + (byBase[$1] ?? 0) } }
    }

    /// The functions of `base` that are function `f` of `new` by the diff's rule ((name, file),
    /// loosely across formats): how the viewer carries a focus or a hidden function across.
    public static func matching(_ f: Int32, in new: Profile, base: Profile) -> [Int32] {
        var keys = DiffKeys(loose: base.format != new.format)
        let k = keys.function(new.frames, f)
        return (0..<Int32(base.functions.count)).filter { keys.function(base.frames, $0) == k }
    }
}

/// Shared ids for "the same function" across two frame tables: (name, file) for functions,
/// (kind, name) for thread and process frames. Lines are ignored, so a profile with one frame
/// per executing line matches one with a frame per function.
///
/// `loose` (profiles of different formats) compares the last part of a dotted name and the
/// file's base name: py-spy says `JSONEncoder.iterencode` in `json/encoder.py` where cProfile
/// says `iterencode` in `/usr/lib/python3.11/json/encoder.py`.
struct DiffKeys {
    let loose: Bool
    private var ids = [String: Int32]()

    init(loose: Bool = false) { self.loose = loose }

    private mutating func id(_ name: String, _ file: String?) -> Int32 {
        guard loose else { return id(name + "\u{0}" + (file ?? "")) }
        let short = name.hasPrefix("<") ? name : name.split(separator: ".").last.map(String.init) ?? name
        let base = file.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? ""
        return id(short + "\u{0}" + base)
    }

    private mutating func id(_ s: String) -> Int32 {
        if let i = ids[s] { return i }
        let i = Int32(ids.count)
        ids[s] = i
        return i
    }

    mutating func function(_ t: FrameTable, _ fn: Int32) -> Int32 {
        id(t.name(ofFunction: fn), t.file(ofFunction: fn))
    }

    mutating func frame(_ t: FrameTable, _ f: Int32) -> Int32 {
        let kind = t.frameKind[Int(f)]
        if kind.isGrouping { return id("\u{1}\(kind)\u{0}" + t.name(ofFrame: f)) }
        return id(t.name(ofFrame: f), t.file(ofFrame: f))
    }
}
