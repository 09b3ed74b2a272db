import Foundation
import XCTest
@testable import ProfileModel

/// Each transform checked against the same change made on the raw stacks of a real recording,
/// parsed here with plain string code (not the folded reader): `Tests/Recursive/walk.pyspy.txt`
/// is py-spy raw output (thread roots, full file names, executing lines) of `walk.py`, a tree
/// walk recursing directly and an even/odd mutual recursion over json and copy.deepcopy.
final class TransformStepTests: XCTestCase {
    static let walk = Fixtures.repoRoot.appendingPathComponent("Tests/Recursive/walk.pyspy.txt").path

    /// The raw stacks: frames as written, and the count.
    static func rawStacks(_ path: String) throws -> [(frames: [String], count: Double)] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard let sp = line.lastIndex(of: " "), let n = Double(line[line.index(after: sp)...]) else { return nil }
            return (line[..<sp].split(separator: ";").map(String.init), n)
        }
    }

    /// A frame's function, as text: `name (file)` without the executing line; thread roots as written.
    static func functionKey(_ raw: String) -> String {
        if raw.hasPrefix("thread (") { return raw }
        guard raw.hasSuffix(")"), let colon = raw.lastIndex(of: ":"),
              raw[raw.index(after: colon)..<raw.index(before: raw.endIndex)].allSatisfy(\.isNumber) else { return raw }
        return String(raw[..<colon]) + ")"
    }

    /// Stacks of function keys, added up.
    static func tally(_ stacks: [([String], Double)]) -> [String: Double] {
        var out: [String: Double] = [:]
        for (s, n) in stacks where !s.isEmpty { out[s.joined(separator: ";"), default: 0] += n }
        return out
    }

    /// The profile's stacks of function keys (from its tree, node by node).
    static func stacks(of p: Profile, metric m: Int = 0) -> [String: Double] {
        let t = p.tree
        var text = [String](repeating: "", count: t.count)
        var out: [String: Double] = [:]
        for n in 1..<t.count {
            let f = t.frame[n]
            let fr = p.frames.frame(f)
            let key = fr.kind.isGrouping ? fr.name : fr.file.map { "\(fr.name) (\($0))" } ?? fr.name
            let parent = Int(t.parent[n])
            text[n] = parent == 0 ? key : text[parent] + ";" + key
            if t.selfWeight[m][n] != 0 { out[text[n], default: 0] += t.selfWeight[m][n] }
        }
        return out
    }

    func load(_ path: String = walk, mergeLines: Bool = false) throws -> Profile {
        try FormatRegistry.load(path: path, mergeLines: mergeLines)
    }

    func assertSame(_ a: [String: Double], _ b: [String: Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "distinct stacks", file: file, line: line)
        for (k, v) in b where a[k] != v {
            XCTFail("stack \(k.suffix(200)): \(a[k].map { "\($0)" } ?? "missing") != \(v)", file: file, line: line)
            return
        }
    }

    func assertThreadRoots(_ p: Profile, file: StaticString = #filePath, line: UInt = #line) {
        for c in p.tree.children(0) {
            XCTAssertTrue(p.frames.frameKind[Int(p.tree.frame[Int(c)])].isGrouping,
                          "root \(p.frames.name(ofFrame: p.tree.frame[Int(c)])) is not a thread", file: file, line: line)
        }
    }

    func fn(_ p: Profile, _ name: String) throws -> Int32 {
        Int32(try XCTUnwrap(p.functionIndex(name: name), "no function \(name)"))
    }

    func testTheRecordingIsDeepAndRecursive() throws {
        let raw = try Self.rawStacks(Self.walk)
        XCTAssertGreaterThan(raw.map(\.frames.count).max() ?? 0, 50)
        XCTAssertTrue(raw.contains { $0.frames.filter { $0.hasPrefix("walk (") }.count > 10 })
        // py-spy names a thread on most of its samples, not all: count the thread ids.
        XCTAssertEqual(Set(raw.map { $0.frames[0].prefix { $0 != ")" } }).count, 4, "four threads")
    }

    func testCollapseDirectRecursionRemovesConsecutiveDuplicateFunctions() throws {
        let raw = try Self.rawStacks(Self.walk)
        let expected = Self.tally(raw.map { r in
            var out: [String] = []
            for k in r.frames.map(Self.functionKey) where out.last != k { out.append(k) }
            return (out, r.count)
        })
        for merge in [false, true] {
            let p = try load(mergeLines: merge)
            let c = try p.applying(.collapseDirectRecursion(nil))
            assertSame(Self.stacks(of: c), expected)
            XCTAssertEqual(c.total(metric: 0), raw.map(\.count).reduce(0, +))
            XCTAssertLessThan(c.maxDepth, p.maxDepth)
            assertThreadRoots(c)
            // A function's figures don't change when its direct recursion is joined.
            let walk = try fn(c, "walk")
            XCTAssertEqual(c.functions.totalWeight[0][Int(walk)], p.functions.totalWeight[0][Int(walk)])
        }
    }

    func testCollapseDirectRecursionOfOneFunctionLeavesTheOthers() throws {
        let raw = try Self.rawStacks(Self.walk)
        let recordedKey = raw.lazy.flatMap(\.frames).map(Self.functionKey).first { $0.hasPrefix("walk (") }!
        let expected = Self.tally(raw.map { r in
            var out: [String] = []
            for k in r.frames.map(Self.functionKey) where !(k == recordedKey && out.last == k) { out.append(k) }
            return (out, r.count)
        })
        let p = try load()
        let c = try p.applying(.collapseDirectRecursion(try fn(p, "walk")))
        assertSame(Self.stacks(of: c), expected)
    }

    func testCollapseRecursionCutsBackToTheOuterCall() throws {
        let raw = try Self.rawStacks(Self.walk)
        // even -> odd -> even: the inner even goes back to the outer one, odd leaves that stack.
        let expected = Self.tally(raw.map { r in
            var out: [String] = []
            for k in r.frames.map(Self.functionKey) {
                if let at = out.firstIndex(of: k) { out.removeSubrange((at + 1)...) } else { out.append(k) }
            }
            return (out, r.count)
        })
        let p = try load()
        let c = try p.applying(.collapseRecursion(nil))
        assertSame(Self.stacks(of: c), expected)
        XCTAssertEqual(c.total(metric: 0), p.total(metric: 0))
        assertThreadRoots(c)
        // No function is left under itself.
        for n in 1..<c.tree.count {
            var a = c.tree.parent[n]
            while a > 0 {
                let f = c.function(ofNode: Int32(n))
                XCTAssertFalse(f >= 0 && c.function(ofNode: a) == f)
                a = c.tree.parent[Int(a)]
            }
        }
        // No node is left without weight at or below it (`odd` of `even -> odd -> even` when
        // all its time went back to `even`), summed here from the self weights: with distinct
        // paths and the stacks above, the tree is exactly the cut-back stacks' prefixes.
        var below = c.tree.selfWeight[0]
        for n in stride(from: c.tree.count - 1, to: 0, by: -1) { below[Int(c.tree.parent[n])] += below[n] }
        XCTAssertFalse(below.dropFirst().contains(0), "a node with no weight")
        assertDistinctPaths(c)
        // The deep even/odd chains are gone: the tree is as deep as the longest cut-back stack.
        XCTAssertEqual(c.maxDepth, expected.keys.map { $0.split(separator: ";").count }.max())
        XCTAssertLessThan(c.maxDepth, p.maxDepth / 3)
    }

    /// No two nodes with the same parent and frame: a rebuild that leaves one path as two
    /// nodes still tallies the right stacks, so `assertSame` alone would not see it.
    func assertDistinctPaths(_ p: Profile, file: StaticString = #filePath, line: UInt = #line) {
        var seen = Set<Int64>()
        for n in 1..<p.tree.count {
            let key = Int64(p.tree.parent[n]) << 32 | Int64(UInt32(bitPattern: p.tree.frame[n]))
            if !seen.insert(key).inserted { XCTFail("node \(n): a second node for its path", file: file, line: line); return }
        }
    }

    /// Merging threads joins the four threads' `Thread._bootstrap` prefixes, and merging lines
    /// a function's line frames: the paths each makes alike are one node, and the stacks are
    /// the raw stacks with the change made (so too for merging `walk`).
    func testMergesJoinThePathsTheyMakeAlike() throws {
        let raw = try Self.rawStacks(Self.walk)
        let p = try load()
        let key = raw.lazy.flatMap(\.frames).map(Self.functionKey).first { $0.hasPrefix("walk (") }!
        let walk = try fn(p, "walk")
        let m = try p.applying(.merge(walk))
        assertSame(Self.stacks(of: m), Self.tally(raw.map { ($0.frames.map(Self.functionKey).filter { $0 != key }, $0.count) }))
        assertDistinctPaths(m)
        let threads = p.mergingThreads()
        assertSame(Self.stacks(of: threads),
                   Self.tally(raw.map { ($0.frames.filter { !$0.hasPrefix("thread (") }.map(Self.functionKey), $0.count) }))
        assertDistinctPaths(threads)
        let threadNodes = p.tree.children(0).count
        XCTAssertLessThan(threads.tree.count, p.tree.count - threadNodes, "paths below the threads joined")
        let lines = p.mergingLines()
        assertSame(Self.stacks(of: lines), Self.tally(raw.map { ($0.frames.map(Self.functionKey), $0.count) }))
        assertDistinctPaths(lines)
        XCTAssertLessThan(lines.tree.count, p.tree.count, "line frames joined")
        for step in [TransformStep.collapseRecursion(nil), .collapseDirectRecursion(nil), .collapseFrames(.stdlib), .drop(walk)] {
            assertDistinctPaths(try p.applying(step))
        }
    }

    /// Merging a function leaves each other function's total as the raw stacks give it (a stack
    /// counted once per function on it, recursion or not), the merged one none, and self time
    /// with the callers: the table against the raw stacks with that function taken out.
    func testMergedFunctionTableMatchesTheRawStacks() throws {
        let raw = try Self.rawStacks(Self.walk)
        let p = try load()
        for name in ["walk", "deepcopy", "even"] {
            let key = raw.lazy.flatMap(\.frames).map(Self.functionKey).first { $0.hasPrefix("\(name) (") }!
            let m = try p.applying(.merge(try fn(p, name)))
            var total: [String: Double] = [:], selfW: [String: Double] = [:]
            for r in raw {
                let s = r.frames.map(Self.functionKey).filter { $0 != key }
                for k in Set(s) { total[k, default: 0] += r.count }
                if let leaf = s.last { selfW[leaf, default: 0] += r.count }
            }
            var checked = 0
            for f in 0..<Int32(m.functions.count) {
                let fname = m.frames.name(ofFunction: f)
                let k = m.frames.file(ofFunction: f).map { "\(fname) (\($0))" } ?? fname
                guard !k.hasPrefix("thread (") else { continue }
                XCTAssertEqual(m.functions.totalWeight[0][Int(f)], total[k] ?? 0, "\(name) merged: total of \(k)")
                XCTAssertEqual(m.functions.selfWeight[0][Int(f)], selfW[k] ?? 0, "\(name) merged: self of \(k)")
                checked += 1
            }
            XCTAssertEqual(checked, total.keys.filter { !$0.hasPrefix("thread (") }.count + 1, "every function, the merged one too")
        }
    }

    func testDropRemovesEverySampleThroughTheFunction() throws {
        let raw = try Self.rawStacks(Self.walk)
        let expected = Self.tally(raw.filter { !$0.frames.contains { $0.hasPrefix("deepcopy (") } }
            .map { ($0.frames.map(Self.functionKey), $0.count) })
        let p = try load()
        let d = try p.applying(.drop(try fn(p, "deepcopy")))
        assertSame(Self.stacks(of: d), expected)
        XCTAssertEqual(d.total(metric: 0), expected.values.reduce(0, +))
        XCTAssertLessThan(d.total(metric: 0), p.total(metric: 0))
        XCTAssertEqual(d.sampleCount, Int(expected.values.reduce(0, +)))
    }

    /// After a drop, a function has nodes exactly when some kept raw stack has it, as
    /// `hasNodes(ofFunction:)` says without the function's node lists (the viewer keeps its
    /// selected function only if it does).
    func testHasNodesAfterADropFollowsTheKeptRawStacks() throws {
        let raw = try Self.rawStacks(Self.walk)
        let kept = Set(raw.filter { !$0.frames.contains { $0.hasPrefix("deepcopy (") } }
            .flatMap { $0.frames.map(Self.functionKey) })
        let p = try load()
        let d = try p.applying(.drop(try fn(p, "deepcopy")))
        var present = 0, absent = 0
        for f in 0..<Int32(d.frames.functionCount) {
            let key = d.frames.file(ofFunction: f).map { "\(d.frames.name(ofFunction: f)) (\($0))" } ?? d.frames.name(ofFunction: f)
            XCTAssertEqual(d.hasNodes(ofFunction: f), kept.contains(key), key)
            if kept.contains(key) { present += 1 } else { absent += 1 }
        }
        XCTAssertGreaterThan(present, 3)
        XCTAssertGreaterThan(absent, 0, "deepcopy and what only it called")
        XCTAssertFalse(d.hasNodes(ofFunction: -1))
        XCTAssertFalse(d.hasNodes(ofFunction: Int32(d.frames.functionCount)))
    }

    /// A collapse of recursion cuts empty nodes and hands the totals it summed to decide to the
    /// freeze: every node's total must still be the weight of the cut-back raw stacks through
    /// its path, and every function's total the weight of the stacks that have it (once each).
    func testCollapseRecursionTotalsMatchTheCutBackRawStacks() throws {
        let raw = try Self.rawStacks(Self.walk)
        let cut: [([String], Double)] = raw.map { r in
            var out: [String] = []
            for k in r.frames.map(Self.functionKey) {
                if let at = out.firstIndex(of: k) { out.removeSubrange((at + 1)...) } else { out.append(k) }
            }
            return (out, r.count)
        }
        var throughPath: [String: Double] = [:], byFunction: [String: Double] = [:]
        for (s, n) in cut {
            for k in 1...max(s.count, 1) where k <= s.count { throughPath[s[..<k].joined(separator: ";"), default: 0] += n }
            for f in Set(s) { byFunction[f, default: 0] += n }
        }
        let c = try load().applying(.collapseRecursion(nil))
        let t = c.tree
        // By path of function keys: line frames of one function are sibling nodes of one path.
        var text = [String](repeating: "", count: t.count)
        var treeThroughPath: [String: Double] = [:]
        func key(_ fr: Frame) -> String { fr.kind.isGrouping ? fr.name : fr.file.map { "\(fr.name) (\($0))" } ?? fr.name }
        for n in 1..<t.count {
            let k = key(c.frames.frame(t.frame[n]))
            text[n] = t.parent[n] == 0 ? k : text[Int(t.parent[n])] + ";" + k
            treeThroughPath[text[n], default: 0] += t.totalWeight[0][n]
        }
        assertSame(treeThroughPath, throughPath)
        XCTAssertEqual(t.totalWeight[0][0], cut.map(\.1).reduce(0, +))
        for f in 0..<c.frames.functionCount {
            let k = c.frames.file(ofFunction: Int32(f)).map { "\(c.frames.name(ofFunction: Int32(f))) (\($0))" } ?? c.frames.name(ofFunction: Int32(f))
            XCTAssertEqual(c.functions.totalWeight[0][f], byFunction[k] ?? 0, k)
        }
    }

    func testFocusSubtreeKeepsOnlyThatNodesStacksUnderItsThread() throws {
        let raw = try Self.rawStacks(Self.walk)
        let p = try load()
        // The walker thread's first `walk` call, by its frames.
        let walk = try fn(p, "walk")
        let node = try XCTUnwrap((1..<p.tree.count).first { n in
            p.function(ofNode: Int32(n)) == walk && p.function(ofNode: p.tree.parent[n]) != walk
                && p.frames.name(ofFrame: p.tree.frame[Int(p.tree.path(to: Int32(n))[0])]).hasSuffix("walker")
        })
        let path = p.tree.framePath(to: Int32(node))
        let prefix = path.map { Exporter.frameText(p, $0) }
        let expected = Self.tally(raw.filter { Array($0.frames.prefix(prefix.count)) == prefix }.map { r in
            ([Self.functionKey(r.frames[0])] + r.frames[(prefix.count - 1)...].map(Self.functionKey), r.count)
        })
        XCTAssertFalse(expected.isEmpty)
        let s = try p.applying(.focusSubtree(path: path))
        assertSame(Self.stacks(of: s), expected)
        assertThreadRoots(s)
        XCTAssertThrowsError(try p.applying(.focusSubtree(path: [path[0], path[0], path[0]])))
    }

    func testCollapseStdlibJoinsEachRunOfOneModule() throws {
        let raw = try Self.rawStacks(Self.walk)
        let lib = "/lib/python3.11/"
        func moduleKey(_ k: String) -> String {
            guard let r = k.range(of: lib), !k.contains("site-packages") else { return k }
            let rel = k[r.upperBound...]
            let top = rel.prefix { $0 != "/" && $0 != "." }
            return "<stdlib \(top)>"
        }
        let expected = Self.tally(raw.map { r in
            var out: [String] = []
            for k in r.frames.map(Self.functionKey).map(moduleKey) where !(k.hasPrefix("<stdlib") && out.last == k) {
                out.append(k)
            }
            return (out, r.count)
        })
        XCTAssertTrue(expected.keys.contains { $0.contains("<stdlib copy>") && $0.contains("<stdlib json>") == false })
        let p = try load()
        let c = try p.applying(.collapseFrames(.stdlib))
        assertSame(Self.stacks(of: c), expected)
        XCTAssertEqual(c.total(metric: 0), p.total(metric: 0))
        assertThreadRoots(c)
        // The joined frame is a function with the run's self time.
        let copySelf = raw.filter { $0.frames.last.map { $0.contains(lib + "copy.py") } ?? false }.map(\.count).reduce(0, +)
        XCTAssertEqual(c.functions.selfWeight[0][Int(try fn(c, "<stdlib copy>"))], copySelf)
    }

    func testCollapseByRegexAndPresets() throws {
        let p = try load()
        let c = try p.applying(.collapseFrames(.regex("^_deepcopy|^deepcopy$")))
        XCTAssertEqual(c.total(metric: 0), p.total(metric: 0))
        let joined = try fn(c, "<^_deepcopy|^deepcopy$>")
        XCTAssertEqual(c.functionIndex(name: "_deepcopy_list").map { c.functions.totalWeight[0][$0] } ?? 0, 0)
        // Its total is every sample through deepcopy, counted from the raw stacks.
        let raw = try Self.rawStacks(Self.walk)
        XCTAssertEqual(c.functions.totalWeight[0][Int(joined)],
                       raw.filter { $0.frames.contains { $0.hasPrefix("deepcopy (") } }.map(\.count).reduce(0, +))
        XCTAssertThrowsError(try p.applying(.collapseFrames(.regex("(")))) { XCTAssertTrue($0 is ProfileError) }
        XCTAssertEqual(CollapseRule.parse("stdlib"), .stdlib)
        XCTAssertEqual(CollapseRule.parse("site-packages"), .sitePackages)
        XCTAssertEqual(CollapseRule.parse("importlib"), .frozenImportlib)
        XCTAssertEqual(CollapseRule.parse("foo.*"), .regex("foo.*"))
    }

    func testFrozenImportlibOnTheEtlSample() throws {
        let path = Fixtures.sample("etl.pyspy.txt")
        let raw = try Self.rawStacks(path)
        let expected = Self.tally(raw.map { r in
            var out: [String] = []
            for k in r.frames.map(Self.functionKey) {
                let j = k.contains("(<frozen importlib") ? "<frozen importlib>" : k
                if !(j == "<frozen importlib>" && out.last == j) { out.append(j) }
            }
            return (out, r.count)
        })
        XCTAssertTrue(expected.keys.contains { $0.contains("<frozen importlib>") })
        let c = try load(path).applying(.collapseFrames(.frozenImportlib))
        assertSame(Self.stacks(of: c), expected)
    }

    func testStepsReplayInOrderAndFocusAndMergeAreTodays() throws {
        let p = try load()
        let run = try fn(p, "walk")
        XCTAssertEqual(Self.stacks(of: try p.applying(.focusFunction(run))), Self.stacks(of: p.focused(on: run)))
        let dc = try fn(p, "deepcopy")
        XCTAssertEqual(Self.stacks(of: try p.applying(.merge(dc))), Self.stacks(of: p.hiding([dc])))
        // Ids are the previous step's: the second step names a function of the first's result.
        let a = try p.applying(.collapseFrames(.stdlib))
        let b = try a.applying(.drop(try fn(a, "<stdlib copy>")))
        let c = try p.applying([.collapseFrames(.stdlib), .drop(try fn(a, "<stdlib copy>"))])
        XCTAssertEqual(Self.stacks(of: b), Self.stacks(of: c))
        XCTAssertThrowsError(try p.applying(.drop(Int32(p.frames.functionCount))))
        XCTAssertEqual(TransformStep.collapseRecursion(nil).label(in: p), "collapse recursion")
        XCTAssertEqual(TransformStep.focusFunction(run).label(in: p), "focus: walk")
        XCTAssertEqual(TransformStep.merge(dc).label(in: p), "merge: deepcopy")
    }

    /// cProfile's call graph (an estimated tree): every transform keeps the total of every
    /// metric but drop, and drop leaves the estimate's flag and a tree that adds up.
    func testEstimatedPstatsTree() throws {
        let p = try load(Fixtures.sample("calls.prof"))
        XCTAssertTrue(p.estimatedTree)
        let walk = try fn(p, "walk")
        for step: TransformStep in [.collapseDirectRecursion(nil), .collapseRecursion(nil), .collapseRecursion(walk),
                                    .collapseFrames(.regex("leaf"))] {
            let q = try p.applying(step)
            XCTAssertTrue(q.estimatedTree)
            for m in 0..<p.metrics.count {
                XCTAssertEqual(q.tree.totalWeight[m][0], p.tree.totalWeight[m][0], accuracy: 1e-9, "\(step) \(p.metrics[m])")
                XCTAssertEqual(q.total(metric: m), p.total(metric: m), accuracy: 1e-9, "\(step) \(p.metrics[m])")
            }
        }
        let d = try p.applying(.drop(try fn(p, "leaf")))
        XCTAssertLessThan(d.tree.totalWeight[0][0], p.tree.totalWeight[0][0])
        XCTAssertNil(d.functionIndex(name: "leaf").flatMap { d.functions.selfWeight[0][$0] > 0 ? $0 : nil })
    }

    /// A step on an estimated tree takes its total from the tree, as its function table does:
    /// a focus keeps the time the call graph could not place under a function ("(callees not
    /// recorded)"), which no function's self holds. So no function passes 100% of the focused
    /// total, and the focused function is all of it.
    func testFocusOnAnEstimatedTreeKeepsSharesWithinTheWhole() throws {
        for sample in ["recursive.prof", "etl.prof", "threads-shared.prof", "calls.prof"] {
            let p = try load(Fixtures.sample(sample))
            let m = p.defaultMetric
            let top = (0..<p.functions.count).sorted { p.functions.totalWeight[m][$0] > p.functions.totalWeight[m][$1] }.prefix(12)
            for f in top {
                let q = try p.applying(.focusFunction(Int32(f)))
                let total = q.total(metric: m)
                guard total > 0 else { continue }
                let name = p.frames.name(ofFunction: Int32(f))
                for g in 0..<q.functions.count {
                    XCTAssertLessThanOrEqual(q.functions.totalWeight[m][g], total * (1 + 1e-9), "\(sample) focus \(name): \(q.frames.name(ofFunction: Int32(g)))")
                }
                // A focus keeps the frame table, so the function's id is the same.
                XCTAssertEqual(q.functions.totalWeight[m][f], total, accuracy: total * 1e-9, "\(sample) focus \(name)")
            }
            // The file's own table still gives the total pstats gives: the sum of its self times.
            XCTAssertEqual(p.total(metric: m), p.functions.selfWeight[m].reduce(0, +))
        }
    }
}
