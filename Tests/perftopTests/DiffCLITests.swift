import Foundation
import XCTest

/// A real before/after pair: the sample workload, then the same file with its hot spot fixed
/// (the list turned into a set), profiled with cProfile and with py-spy.
final class DiffCLITests: XCTestCase {
    func json(_ r: CLITests.Run) throws -> [String: Any] {
        XCTAssertEqual(r.status, 0, r.err)
        return try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
    }

    func testTheFixIsTheTopImprovementAndTotalsMatchEachReport() throws {
        for (base, new) in [("etl.prof", "etl-fixed.prof"), ("etl.pyspy.txt", "etl-fixed.pyspy.txt")] {
            let d = try json(runPerftop(["diff", "SampleProfiles/" + base, "SampleProfiles/" + new, "--json"]))
            let fns = d["functions"] as! [[String: Any]]
            let improvements = fns.map { ($0["name"] as! String, ($0["delta"] as! NSNumber).doubleValue) }
                .filter { $0.1 < 0 }.sorted { $0.1 < $1.1 }
            XCTAssertEqual(improvements.first?.0, "dedupe", "\(base) -> \(new): \(improvements.prefix(3))")
            // Each side's total is what its own report says.
            for (key, file) in [("base", base), ("new", new)] {
                let report = try json(runPerftop(["report", "SampleProfiles/" + file, "--json"]))
                let side = d[key] as! [String: Any]
                XCTAssertEqual((side["totals"] as! [NSNumber]).map(\.doubleValue), [(report["total"] as! NSNumber).doubleValue], "\(file)")
            }
            // cProfile runs compare absolute time; py-spy runs with different sample counts compare shares.
            XCTAssertEqual(d["mode"] as? String, base.hasSuffix(".prof") ? "absolute" : "normalized")
        }
        let text = try runPerftop(["diff", "SampleProfiles/etl.prof", "SampleProfiles/etl-fixed.prof", "--limit", "12"])
        XCTAssertTrue(text.out.contains("measured once"), text.out)
        XCTAssertTrue(text.out.contains("new  <method 'add' of 'set' objects>"), "functions only in NEW are marked:\n\(text.out)")
    }

    /// The viewer in diff mode, headless: the table opens on the fix (dedupe, gone from
    /// py-spy's samples, the one significant change), with the share it had in the base's own report.
    func testViewerDiffTableOpensOnTheFix() throws {
        let r = try runPerftop(["diff", "SampleProfiles/etl.pyspy.txt", "SampleProfiles/etl-fixed.pyspy.txt",
                                "--batch", "--keys", "1", "--ascii"])
        XCTAssertEqual(r.status, 0, r.err)
        let report = try json(runPerftop(["report", "SampleProfiles/etl.pyspy.txt", "--json"]))
        let total = (report["total"] as! NSNumber).doubleValue
        let dedupe = (report["functions"] as! [[String: Any]]).first { $0["name"] as? String == "dedupe" }!
        let share = String(format: "%.1f%%", (dedupe["self"] as! NSNumber).doubleValue / total * 100)
        let row = try XCTUnwrap(r.out.split(separator: "\n").first { $0.hasPrefix(">") }, r.out)
        XCTAssertTrue(row.contains("gone dedupe") && row.contains(share), "\(share) expected in: \(row)\n\(r.out)")
        XCTAssertTrue(r.out.contains("diff of shares  base 316 -> 55"), r.out)
        // --text keeps printing the table, as a pipe does.
        let text = try runPerftop(["diff", "SampleProfiles/etl.pyspy.txt", "SampleProfiles/etl-fixed.pyspy.txt", "--text"])
        XCTAssertTrue(text.out.hasPrefix("Base: "), text.out)
    }

    /// `e` without a terminal says what it would run; without the source, why not.
    func testEditorCommandAndMissingSource() throws {
        let found = try runPerftop(["SampleProfiles/etl.pyspy.txt", "--batch", "--keys", "1/^dedupe<Enter>e",
                                    "--source-root", "SampleProfiles/workload"])
        XCTAssertTrue(found.out.contains("would run: +62 SampleProfiles/workload/etl.py"), found.out)
        let missing = try runPerftop(["SampleProfiles/etl.pyspy.txt", "--batch", "--keys", "1/^dedupe<Enter>e"])
        XCTAssertTrue(missing.out.contains("source not found: etl.py"), missing.out)
    }

    /// py-spy before, cProfile after: samples against seconds compare only as shares (the
    /// default then), and the fix still tops the improvements.
    func testAcrossFormatsSharesAreTheDefault() throws {
        let d = try json(runPerftop(["diff", "SampleProfiles/etl.pyspy.txt", "SampleProfiles/etl-fixed.prof", "--json"]))
        XCTAssertEqual(d["mode"] as? String, "normalized")
        XCTAssertEqual((d["base"] as! [String: Any])["units"] as? [String], ["count"])
        XCTAssertEqual((d["new"] as! [String: Any])["units"] as? [String], ["seconds"])
        XCTAssertEqual(d["unit"] as? String, "%")
        let fns = d["functions"] as! [[String: Any]]
        // Units that cannot be converted compare only as shares, so nothing is called faster or slower.
        XCTAssertFalse(fns.contains { ["faster", "slower"].contains($0["verdict"] as! String) })
        let worst = fns.min { ($0["delta"] as! NSNumber).doubleValue < ($1["delta"] as! NSNumber).doubleValue }
        XCTAssertEqual(worst?["name"] as? String, "dedupe")
        let text = try runPerftop(["diff", "SampleProfiles/etl.pyspy.txt", "SampleProfiles/etl-fixed.prof"])
        XCTAssertTrue(text.out.contains("only shares compare"), text.out)
    }

    /// cProfile keeps etl.py's three comprehensions apart (all `<listcomp>`); so does the
    /// diff, one row each, with the base values Python's pstats gives for each line.
    func testSameNamedFunctionsStayApart() throws {
        let d = try json(runPerftop(["diff", "SampleProfiles/etl.prof", "SampleProfiles/etl-fixed.prof", "--json"]))
        let rows = (d["functions"] as! [[String: Any]]).filter { $0["name"] as? String == "<listcomp>" && ($0["file"] as? String)?.hasSuffix("workload/etl.py") == true }
        let ref = try JSONSerialization.jsonObject(with: Data(contentsOf: CLITests.repoRoot.appendingPathComponent("Tests/Reference/etl.prof.pstats.json"))) as! [String: Any]
        let python = (ref["functions"] as! [[String: Any]]).filter { $0["name"] as? String == "<listcomp>" && ($0["file"] as? String)?.hasSuffix("workload/etl.py") == true }
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(Set(rows.map { $0["line"] as! Int }), Set(python.map { $0["line"] as! Int }))
        for p in python {
            let row = try XCTUnwrap(rows.first { $0["line"] as? Int == p["line"] as? Int })
            XCTAssertEqual((row["base"] as! [NSNumber])[0].doubleValue, p["tt"] as! Double, accuracy: 1e-12)
            XCTAssertEqual(((row["total"] as! [String: Any])["base"] as! [NSNumber])[0].doubleValue, p["ct"] as! Double, accuracy: 1e-12)
        }
    }

    func testBadSideIsALocatedError() throws {
        let r = try runPerftop(["diff", "SampleProfiles/etl.prof", "/nonexistent.prof"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.hasPrefix("perftop: /nonexistent.prof"), r.err)
    }
}
