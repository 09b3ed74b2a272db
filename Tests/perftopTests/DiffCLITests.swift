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
            let improvements = fns.map { ($0["name"] as! String, (($0["delta"] as! [String: Any])["self"] as! NSNumber).doubleValue) }
                .filter { $0.1 < 0 }.sorted { $0.1 < $1.1 }
            XCTAssertEqual(improvements.first?.0, "dedupe", "\(base) -> \(new): \(improvements.prefix(3))")
            // Each side's total is what its own report says.
            for (key, file) in [("base", base), ("new", new)] {
                let report = try json(runPerftop(["report", "SampleProfiles/" + file, "--json"]))
                let side = d[key] as! [String: Any]
                XCTAssertEqual((side["total"] as! NSNumber).doubleValue, (report["total"] as! NSNumber).doubleValue,
                               accuracy: 1e-9, "\(file)")
            }
            // cProfile runs compare absolute time; py-spy runs with different sample counts compare shares.
            XCTAssertEqual(d["mode"] as? String, base.hasSuffix(".prof") ? "absolute" : "normalized")
        }
        let text = try runPerftop(["diff", "SampleProfiles/etl.prof", "SampleProfiles/etl-fixed.prof", "--limit", "3"])
        XCTAssertTrue(text.out.contains("Improvements"), text.out)
        XCTAssertTrue(text.out.contains("new  <method 'add' of 'set' objects>"), "functions only in NEW are marked:\n\(text.out)")
    }

    func testBadSideIsALocatedError() throws {
        let r = try runPerftop(["diff", "SampleProfiles/etl.prof", "/nonexistent.prof"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.hasPrefix("perftop: /nonexistent.prof"), r.err)
    }
}
