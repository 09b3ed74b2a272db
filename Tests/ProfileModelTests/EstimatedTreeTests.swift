import XCTest
@testable import ProfileModel

/// The tree estimated from a pstats call graph, against what Python's `pstats` read from the
/// same files (Tests/Reference/*.pstats.json, written by Scripts/pstats_reference.py).
final class EstimatedTreeTests: XCTestCase {
    struct RefFunction { var name: String; var tt: Double; var callers: [String] }

    /// Functions by "file:line:name" (file, line and name, as pstats keys them), with their tottime and callers' keys.
    static func reference(_ name: String) throws -> (total: Double, functions: [String: RefFunction]) {
        let ref = try Fixtures.json(Fixtures.reference(name)) as! [String: Any]
        var out: [String: RefFunction] = [:]
        for f in ref["functions"] as! [[String: Any]] {
            let n = "\(f["file"] as! String):\(f["line"] as! Int):\(f["name"] as! String)"
            out[n] = RefFunction(name: n, tt: f["tt"] as! Double,
                                 callers: (f["callers"] as! [[String: Any]]).map { "\($0["file"] as! String):\($0["line"] as! Int):\($0["name"] as! String)" })
        }
        return (ref["total_tt"] as! Double, out)
    }

    static func key(_ p: Profile, _ fn: Int32) -> String {
        "\(p.frames.file(ofFunction: fn) ?? "~"):\(p.frames.line(ofFunction: fn) ?? 0):\(p.frames.name(ofFunction: fn))"
    }

    /// Self time of the tree's nodes, summed per function.
    static func treeSelf(_ p: Profile) -> [String: Double] {
        var d: [String: Double] = [:]
        for n in 1..<p.tree.count {
            let fn = p.function(ofNode: Int32(n))
            guard fn >= 0 else { continue }
            d[key(p, fn), default: 0] += p.tree.selfWeight[0][n]
        }
        return d
    }

    func name(_ p: Profile, _ n: Int32) -> String { p.frames.name(ofFrame: p.tree.frame[Int(n)]) }

    /// Threads sharing one cProfile.Profile under CPython 3.11 (SampleProfiles/workload/
    /// shared_profiler.py): `<listcomp>`'s only recorded caller is itself and its recorded
    /// cumulative time is far beyond what its callees account for.
    func testThreadsSharingAProfilerGiveNoInventedSelfTime() throws {
        let (total, ref) = try Self.reference("threads-shared.prof.pstats.json")
        // The shape this file is here for, as pstats sees it.
        XCTAssertEqual(ref["workload/shared_profiler.py:23:<listcomp>"]?.callers, ["workload/shared_profiler.py:23:<listcomp>"])
        let p = try load(Fixtures.sample("threads-shared.prof"))
        XCTAssertTrue(p.estimatedTree)
        XCTAssertEqual(p.total(metric: 0), total, accuracy: total * 1e-9, "the function table stays the file's")
        XCTAssertEqual(p.functions.count, ref.count, "placeholders are no functions")

        // A node's self never exceeds its function's self, summed over the function's nodes.
        let placed = Self.treeSelf(p)
        for (n, f) in ref {
            XCTAssertLessThanOrEqual(placed[n] ?? 0, f.tt + total * 1e-5, n)
        }
        // The comprehension keeps its own 9.8 ms, not the 0.8 s its record claims.
        XCTAssertEqual(placed["workload/shared_profiler.py:23:<listcomp>"] ?? 0, ref["workload/shared_profiler.py:23:<listcomp>"]!.tt, accuracy: ref["workload/shared_profiler.py:23:<listcomp>"]!.tt * 1e-6)
        let listcomp = (1..<p.tree.count).map(Int32.init).filter { name(p, $0) == "<listcomp>" }
        XCTAssertEqual(listcomp.count, 1)
        // What its callees do not account for is shown as such.
        let kids = p.tree.children(listcomp[0]).map { name(p, $0) }
        XCTAssertTrue(kids.contains(CallGraphEstimate.unplacedName), "\(kids)")

        // The orphan that calls only itself is no second program: it hangs under a marked root.
        let roots = p.tree.children(0).map { name(p, $0) }
        XCTAssertFalse(roots.contains("<listcomp>"), "\(roots)")
        XCTAssertEqual(name(p, p.tree.parent[Int(listcomp[0])]), CallGraphEstimate.orphanName)

        // The hot path ends on a real function that spent time itself: the file's hottest by self.
        let path = p.hotPath(metric: 0)
        let leaf = try XCTUnwrap(path.last)
        XCTAssertGreaterThanOrEqual(p.function(ofNode: leaf), 0)
        XCTAssertGreaterThan(p.tree.selfWeight[0][Int(leaf)], 0)
        let hottest = ref.values.max { $0.tt < $1.tt }!.name
        XCTAssertEqual(Self.key(p, p.function(ofNode: leaf)), hottest, "\(path.map { name(p, $0) })")
    }

    /// On a consistent recording (one thread, `-m cProfile`): no node keeps more self than its
    /// function's share, the functions that matter add up to their tottime (the estimate drops
    /// only edges under a millionth of the total), and the tree holds no more than the total.
    func testNodesOfAFunctionAddUpToItsSelfTime() throws {
        let (total, ref) = try Self.reference("etl.prof.pstats.json")
        let p = try load(Fixtures.sample("etl.prof"))
        for n in 1..<p.tree.count {
            let fn = p.function(ofNode: Int32(n))
            guard fn >= 0, let f = ref[Self.key(p, fn)] else { continue }
            XCTAssertLessThanOrEqual(p.tree.selfWeight[0][n], f.tt + total * 1e-6, f.name)
        }
        let placed = Self.treeSelf(p)
        var checked = 0
        for (n, f) in ref where f.tt >= total * 0.01 {
            XCTAssertEqual(placed[n] ?? 0, f.tt, accuracy: f.tt * 0.01, n)
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 5)
        XCTAssertLessThanOrEqual(p.tree.totalWeight[0][0], total * 1.001)
        let leaf = try XCTUnwrap(p.hotPath(metric: 0).last)
        XCTAssertGreaterThanOrEqual(p.function(ofNode: leaf), 0)
    }
}
