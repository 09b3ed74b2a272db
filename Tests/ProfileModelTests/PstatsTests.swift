import Foundation
import XCTest
@testable import ProfileModel

/// pstats dumps checked against Python's own `pstats` module: the corpus facts in
/// EXPECTED.json, and a per-function reference (`Scripts/make_reference.sh`) for the
/// bundled sample.
final class PstatsTests: XCTestCase {
    func testCorpusPstatsMatchExpectedFacts() throws {
        let dir = try Fixtures.requireCorpus()
        // cProfile, profile and yappi dumps; Tachyon's sampled pstats carry other facts.
        let entries = try Fixtures.expected().filter { $0.format == "pstats(marshal)" }
        XCTAssertGreaterThanOrEqual(entries.count, 10)
        for e in entries {
            let p = try load(dir + "/" + e.path)
            let f = e.facts
            XCTAssertEqual(p.format, "pstats", e.path)
            XCTAssertTrue(p.estimatedTree, e.path)
            let ft = p.functions
            let tt = (f["total_tt"] as! NSNumber).doubleValue
            XCTAssertEqual(p.total(metric: 0), tt, accuracy: 1e-6, "\(e.path): total_tt")
            XCTAssertEqual(ft.edgeCaller.count, f["caller_edges"] as! Int, "\(e.path): caller edges")
            let pos0 = f["sum_pos0"] as! Int, pos1 = f["sum_pos1"] as! Int
            if pos0 < 0 {
                XCTAssertNil(ft.calls, "\(e.path): pyinstrument writes -1, so calls are unknown")
            } else {
                let calls = try XCTUnwrap(ft.calls, e.path)
                let prim = try XCTUnwrap(ft.primitiveCalls, e.path)
                XCTAssertEqual(calls.filter { $0 >= 0 }.reduce(0, +), Int64(max(pos0, pos1)), "\(e.path): nc")
                XCTAssertEqual(prim.filter { $0 >= 0 }.reduce(0, +), Int64(min(pos0, pos1)), "\(e.path): cc")
                XCTAssertEqual(calls.filter { $0 >= 0 }.count, f["entries"] as! Int, "\(e.path): entries")
            }
            // `top_tottime` is `file:line(name) tt=X`.
            let top = f["top_tottime"] as! String
            let ttText = top[top.range(of: " tt=", options: .backwards)!.upperBound...]
            let best = (0..<ft.count).max { ft.selfWeight[0][$0] < ft.selfWeight[0][$1] }!
            XCTAssertEqual(ft.selfWeight[0][best], Double(ttText)!, accuracy: 1e-6, e.path)
            XCTAssertTrue(top.contains("(" + p.frames.name(ofFunction: Int32(best)) + ")"), "\(e.path): \(top)")
        }
    }

    /// Every function of the bundled cProfile sample against Python's pstats, field by field.
    func testSampleMatchesPythonPstatsPerFunction() throws {
        let ref = try Fixtures.json(Fixtures.reference("etl.prof.pstats.json")) as! [String: Any]
        try compare(load(Fixtures.sample("etl.prof")), with: ref, label: "etl.prof")
    }

    /// Every corpus dump Python can load, against what its pstats module read from it.
    func testCorpusMatchesPythonPstatsPerFunction() throws {
        let dir = try Fixtures.requireCorpus()
        let refs = try Fixtures.json(Fixtures.reference("corpus-pstats.json")) as! [String: [String: Any]]
        var compared = 0
        for (path, ref) in refs.sorted(by: { $0.key < $1.key }) {
            if ref["skipped"] != nil { continue }   // written by a Python whose marshal 3.11 cannot load
            try compare(load(dir + "/" + path), with: ref, label: path)
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 8)
    }

    func compare(_ p: Profile, with ref: [String: Any], label: String) throws {
        let ft = p.functions
        XCTAssertEqual(p.total(metric: 0), (ref["total_tt"] as! NSNumber).doubleValue, accuracy: 1e-9, label)
        let funcs = ref["functions"] as! [[String: Any]]
        func key(_ file: String, _ line: Int, _ name: String) -> String { "\(file == "~" ? "" : file):\(line):\(name)" }
        var byKey: [String: Int] = [:]
        for fn in 0..<ft.count {
            byKey[key(p.frames.file(ofFunction: Int32(fn)) ?? "", p.frames.line(ofFunction: Int32(fn)) ?? 0,
                      p.frames.name(ofFunction: Int32(fn)))] = fn
        }
        var edgeCount = 0
        for r in funcs {
            let k = label + " " + key(r["file"] as! String, r["line"] as! Int, r["name"] as! String)
            guard let fn = byKey[key(r["file"] as! String, r["line"] as! Int, r["name"] as! String)] else {
                XCTFail("missing \(k)"); continue
            }
            let cc = Int64(r["cc"] as! Int), nc = Int64(r["nc"] as! Int)
            if cc < 0 {
                XCTAssertNil(ft.calls, k)
            } else {
                // cProfile writes (cc, nc); yappi swaps them.
                XCTAssertEqual(ft.calls?[fn], max(cc, nc), k)
                XCTAssertEqual(ft.primitiveCalls?[fn], min(cc, nc), k)
            }
            XCTAssertEqual(ft.selfWeight[0][fn], (r["tt"] as! NSNumber).doubleValue, accuracy: 1e-12, k)
            XCTAssertEqual(ft.totalWeight[0][fn], (r["ct"] as! NSNumber).doubleValue, accuracy: 1e-12, k)
            let callers = r["callers"] as! [[String: Any]]
            edgeCount += callers.count
            let mine = ft.callers(of: Int32(fn)).map { Int($0) }
            XCTAssertEqual(mine.count, callers.count, "\(k): callers")
            for c in callers {
                let ck = key(c["file"] as! String, c["line"] as! Int, c["name"] as! String)
                guard let cfn = byKey[ck], let e = mine.first(where: { ft.edgeCaller[$0] == Int32(cfn) }) else {
                    XCTFail("\(k): no edge from \(ck)"); continue
                }
                if let calls = c["calls"] as? Int {          // pure `profile`: a call count only
                    XCTAssertEqual(ft.edgeCalls?[e], Int64(calls), "\(ck) -> \(k)")
                } else {
                    XCTAssertEqual(ft.edgeWeight[0][e], (c["ct"] as! NSNumber).doubleValue, accuracy: 1e-12, "\(ck) -> \(k)")
                    let a = Int64(c["nc"] as! Int), b = Int64(c["cc"] as! Int)
                    if a >= 0 { XCTAssertEqual(ft.edgeCalls?[e], max(a, b), "\(ck) -> \(k)") }
                }
            }
        }
        XCTAssertEqual(ft.edgeCaller.count, edgeCount, label)
        XCTAssertEqual(ft.count, funcs.count, "\(label): functions")
    }

    func testEstimatedTreeOpensOnTheRealEntryPoint() throws {
        let dir = try Fixtures.requireCorpus()
        let p = try load(dir + "/generated/cprofile/cprofile-py312.pstats")
        let hot = p.tree.hotPath(metric: 0).map { p.frames.frame(p.tree.frame[Int($0)]).name }
        XCTAssertEqual(Array(hot.prefix(2)), ["<built-in method builtins.exec>", "<module>"])
        // Recursion does not make `fib` a second root.
        let roots = p.tree.children(0).map { p.frames.frame(p.tree.frame[Int($0)]).name }
        XCTAssertFalse(roots.contains("fib"), "\(roots)")
        // The tree never holds more than the function table says the roots took.
        XCTAssertLessThanOrEqual(p.tree.totalWeight[0][0], p.total(metric: 0) * 1.001)
    }

    func testProfileModuleCodeObjectsAndOldLayouts() throws {
        let dir = try Fixtures.requireCorpus()
        for name in ["profile-py38.pstats", "profile-py312.pstats"] {
            let p = try load(dir + "/generated/cprofile/" + name)
            XCTAssertNotNil(p.functionIndex(name: "fib", fileSuffix: "workload.py"), name)
            XCTAssertTrue((0..<p.functions.count).contains {
                p.frames.name(ofFunction: Int32($0)).hasPrefix("<code object <module>, file \"workload.py\"")
            }, name)
        }
    }

    func testTruncatedAndCorruptDumpsFailWithAnOffset() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("etl.prof"))))
        for cut in [1, 2, 10, bytes.count / 3, bytes.count / 2, bytes.count - 1] {
            XCTAssertThrowsError(try FormatRegistry.load(source: MemorySource(Array(bytes[0..<cut])), name: "t.prof")) { e in
                let pe = e as? ProfileError
                XCTAssertNotNil(pe, "cut at \(cut): \(e)")
                XCTAssertTrue(pe?.offset != nil || pe?.line != nil || cut < 3, "cut at \(cut): \(e)")
            }
        }
        // A string that claims 2 GB must not allocate it.
        var huge: [UInt8] = [0x7B, 0x29, 0x03, 0x75, 0xFF, 0xFF, 0xFF, 0x7F]
        huge += [UInt8](repeating: 0x41, count: 16)
        XCTAssertThrowsError(try FormatRegistry.load(source: MemorySource(huge), name: "huge.prof"))
        // Deep nesting is refused, not a stack overflow.
        let deep: [UInt8] = [0x7B] + [UInt8](repeating: 0x28, count: 100_000) + [0, 0, 0, 0]
        XCTAssertThrowsError(try FormatRegistry.load(source: MemorySource(deep), name: "deep.prof"))
    }
}
