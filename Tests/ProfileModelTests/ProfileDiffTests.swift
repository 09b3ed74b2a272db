import Foundation
import XCTest
@testable import ProfileModel

/// The viewer's diff matching (`ProfileDiff`) on the real before/after pair in SampleProfiles.
final class ProfileDiffTests: XCTestCase {
    func load(_ name: String) throws -> Profile {
        try FormatRegistry.load(path: Fixtures.sample(name)).mergingThreads().mergingLines()
    }

    /// Base values per function are Python's own: tottime and cumtime of the same function
    /// in etl.prof, as `pstats` printed them (Tests/Reference/etl.prof.pstats.json). The fix
    /// moved no line, so (name, file, line) names a function on both sides; the three
    /// `<listcomp>`s of etl.py stay apart instead of each getting their sum.
    func testFunctionBaseValuesArePythonsNumbersForTheBase() throws {
        let base = try load("etl.prof"), new = try load("etl-fixed.prof")
        let d = ProfileDiff(base: base, baseMetric: 0, new: new, newMetric: 0, normalized: false)
        let ref = try Fixtures.json(Fixtures.reference("etl.prof.pstats.json")) as! [String: Any]
        var tt = [String: Double](), ct = [String: Double]()
        for f in ref["functions"] as! [[String: Any]] {
            let file = f["file"] as! String
            guard file != "~" else { continue }     // built-ins: perftop names them as pstats prints them
            let key = (f["name"] as! String) + "\t" + file + "\t" + String(f["line"] as! Int)
            tt[key, default: 0] += f["tt"] as! Double
            ct[key, default: 0] += f["ct"] as! Double
        }
        var checked = 0
        for f in 0..<new.functions.count {
            guard let file = new.frames.file(ofFunction: Int32(f)), file != "~" else { continue }
            let key = new.frames.name(ofFunction: Int32(f)) + "\t" + file + "\t" + String(new.frames.line(ofFunction: Int32(f)) ?? 0)
            let (b, bt) = (tt[key] ?? 0, ct[key] ?? 0)
            XCTAssertEqual(d.functionBaseSelf[f], b, accuracy: 1e-9, key)
            XCTAssertEqual(d.functionBaseTotal[f], bt, accuracy: 1e-9, key)
            if tt[key] != nil { checked += 1 }
        }
        XCTAssertGreaterThan(checked, 50)
        XCTAssertEqual(d.baseTotal, ref["total_tt"] as! Double, accuracy: 1e-9)
        // The hot function is gone from NEW's hot list: its change is the largest improvement.
        let dedupe = try XCTUnwrap((0..<new.functions.count).first { new.frames.name(ofFunction: Int32($0)) == "dedupe" })
        let deltas = (0..<new.functions.count).map { d.delta(new: new.functions.selfWeight[0][$0], base: d.functionBaseSelf[$0]) }
        XCTAssertEqual(deltas.indices.min { deltas[$0] < deltas[$1] }, dedupe)
    }

    /// Each node's base value is the sum over the base nodes reached by the same path of
    /// (name, file), computed here by brute force from the root.
    func testNodesMatchByFunctionPath() throws {
        for (b, n) in [("etl.pyspy.txt", "etl-fixed.pyspy.txt"), ("etl.prof", "etl-fixed.prof")] {
            let base = try load(b), new = try load(n)
            let d = ProfileDiff(base: base, baseMetric: 0, new: new, newMetric: 0, normalized: false)
            func key(_ p: Profile, _ node: Int32) -> String {
                let f = p.tree.frame[Int(node)]
                return p.frames.name(ofFrame: f) + "\t" + (p.frames.file(ofFrame: f) ?? "")
            }
            var matchedSome = 0
            for node in 1..<Int32(new.tree.count) {
                let path = new.tree.path(to: node).filter { $0 != 0 }.map { key(new, $0) }
                var level: [Int32] = [0]
                for k in path { level = level.flatMap { base.tree.children($0).filter { key(base, $0) == k } } }
                let expect = level.reduce(0.0) { $0 + base.tree.totalWeight[0][Int($1)] }
                XCTAssertEqual(d.nodeBaseTotal[Int(node)], expect, accuracy: 1e-9, "\(n) node \(path.joined(separator: ";"))")
                if expect > 0 { matchedSome += 1 }
            }
            XCTAssertGreaterThan(matchedSome, 5, "\(b) → \(n)")
            XCTAssertEqual(d.nodeBaseTotal[0], base.tree.totalWeight[0][0])
        }
    }

    /// Across formats (py-spy before, cProfile after) functions match by short name and file
    /// name, and cProfile's `<built-in method builtins.exec>` root is see-through: the
    /// cProfile tree's main → dedupe gets py-spy's main → dedupe samples as its base.
    func testAcrossFormatsTheSameCodeMatches() throws {
        let base = try load("etl.pyspy.txt"), new = try load("etl.prof")
        let d = ProfileDiff(base: base, baseMetric: 0, new: new, newMetric: 0, normalized: true)
        func node(_ p: Profile, _ names: [String]) -> Int32? {
            // The heaviest node whose path ends with `names` (any frames above).
            var best: Int32? = nil
            for n in 1..<Int32(p.tree.count) {
                let path = p.tree.path(to: n).filter { $0 != 0 }.map { p.frames.name(ofFrame: p.tree.frame[Int($0)]) }
                guard path.count >= names.count, Array(path.suffix(names.count)) == names else { continue }
                if best == nil || p.tree.totalWeight[0][Int(n)] > p.tree.totalWeight[0][Int(best!)] { best = n }
            }
            return best
        }
        let newNode = try XCTUnwrap(node(new, ["<module>", "main", "dedupe"]))
        let baseNode = try XCTUnwrap(node(base, ["<module>", "main", "dedupe"]))
        XCTAssertEqual(d.nodeBaseTotal[Int(newNode)], base.tree.totalWeight[0][Int(baseNode)])
        let fn = try XCTUnwrap((0..<new.functions.count).first { new.frames.name(ofFunction: Int32($0)) == "iterencode" })
        let baseFn = try XCTUnwrap((0..<base.functions.count).first { base.frames.name(ofFunction: Int32($0)) == "JSONEncoder.iterencode" })
        XCTAssertEqual(d.functionBaseSelf[fn], base.functions.selfWeight[0][baseFn])
        XCTAssertFalse(d.gone.contains { base.frames.name(ofFunction: $0) == "dedupe" })
        // cProfile names every comprehension `<listcomp>`; py-spy qualifies them. Each of
        // cProfile's (by definition line) gets the py-spy one whose lines start at or after it.
        for (line, pyspyName) in [(34, "parse.<locals>.<listcomp>"), (79, "main.<locals>.<listcomp>")] {
            let n = try XCTUnwrap((0..<new.functions.count).first {
                new.frames.name(ofFunction: Int32($0)) == "<listcomp>" && new.frames.line(ofFunction: Int32($0)) == line
                    && new.frames.file(ofFunction: Int32($0))?.hasSuffix("etl.py") == true })
            let b = try XCTUnwrap((0..<base.functions.count).first { base.frames.name(ofFunction: Int32($0)) == pyspyName })
            XCTAssertEqual(d.functionBaseTotal[n], base.functions.totalWeight[0][b], "line \(line)")
            XCTAssertEqual(Array(d.baseMatches(Int32(n))), [Int32(b)])
        }
    }

    func testAProfileAgainstItselfHasNoChange() throws {
        let p = try load("etl.pyspy.txt")
        let d = ProfileDiff(base: p, baseMetric: 0, new: p, newMetric: 0, normalized: true)
        XCTAssertTrue(d.gone.isEmpty)
        for n in 0..<p.tree.count { XCTAssertEqual(d.delta(new: p.tree.totalWeight[0][n], base: d.nodeBaseTotal[n]), 0, accuracy: 1e-9) }
        for f in 0..<p.functions.count { XCTAssertEqual(d.functionBaseSelf[f], p.functions.selfWeight[0][f]) }
    }

    /// Normalized, a node's delta is its change in share of the total: the root's is zero and
    /// the shares are the ones each profile's own report prints.
    func testNormalizedDeltasAreChangesInShare() throws {
        let base = try load("etl.pyspy.txt"), new = try load("etl-fixed.pyspy.txt")
        let d = ProfileDiff(base: base, baseMetric: 0, new: new, newMetric: 0, normalized: true)
        XCTAssertNotEqual(base.sampleCount, new.sampleCount)
        XCTAssertEqual(d.share(d.delta(new: new.tree.totalWeight[0][0], base: d.nodeBaseTotal[0])), 0, accuracy: 1e-12)
        XCTAssertEqual(d.baseTotal, base.total(metric: 0))
        XCTAssertEqual(d.newTotal, new.total(metric: 0))
        let dedupe = try XCTUnwrap(d.gone.first { base.frames.name(ofFunction: $0) == "dedupe" }.map { Int($0) })
        let share = d.share(d.delta(new: 0, base: base.functions.selfWeight[0][dedupe]))
        XCTAssertEqual(share, -base.functions.selfWeight[0][dedupe] / base.total(metric: 0), accuracy: 1e-12)
    }
}
