import Foundation
import XCTest

/// `perftop report --summary` on real profiles of an I/O-bound, a lock-bound and a CPU-bound
/// program (SampleProfiles/workload, recorded with py-spy --idle): the dominant class comes first.
final class TriageCLITests: XCTestCase {
    func summary(_ file: String) throws -> [String: Any] {
        let r = try runPerftop(["report", "SampleProfiles/" + file, "--summary", "--json", "--source-root", "SampleProfiles/workload"])
        XCTAssertEqual(r.status, 0, r.err)
        return try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
    }

    func testDominantClassComesFirst() throws {
        for (file, kind) in [("io_bound.pyspy.txt", "idle"), ("lock_bound.pyspy.txt", "lock"), ("etl.pyspy.txt", "python")] {
            let s = try summary(file)
            let classes = s["classes"] as! [[String: Any]]
            XCTAssertEqual(classes.first?["kind"] as? String, kind, "\(file): \(classes.map { $0["kind"]! })")
            let shares = classes.map { ($0["share"] as! NSNumber).doubleValue }
            XCTAssertEqual(shares.reduce(0, +), 1, accuracy: 1e-9, file)
            XCTAssertEqual(shares, shares.sorted(by: >), file)
        }
    }

    func testLookHereNamesTheHotLineAndTheMembershipTest() throws {
        let look = (try summary("etl.pyspy.txt")["look_here"] as! [[String: Any]]).first!
        XCTAssertEqual(look["name"] as? String, "dedupe")
        XCTAssertEqual((look["source"] as? String)?.trimmingCharacters(in: .whitespaces), "if key in seen:")
        XCTAssertTrue((look["hint"] as? String ?? "").contains("membership test"), "\(look)")
        // pstats records where a function starts, not where its time went: no line share, no hint.
        let p = (try summary("etl.prof")["look_here"] as! [[String: Any]]).first!
        XCTAssertEqual(p["name"] as? String, "dedupe")
        XCTAssertEqual((p["line_share"] as? NSNumber)?.doubleValue, 0)
        XCTAssertTrue(p["hint"] is NSNull)
    }

    /// --path-map reads sources recorded on another machine (here: under /srv/app/) from the repository.
    func testPathMapFindsSourcesRecordedElsewhere() throws {
        let text = try String(contentsOf: CLITests.repoRoot.appendingPathComponent("SampleProfiles/etl.austin"), encoding: .utf8)
            .replacingOccurrences(of: "/work/main/SampleProfiles/workload/", with: "/srv/app/")
        let moved = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-moved-\(getpid()).austin")
        try text.write(to: moved, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: moved) }
        func look(_ extra: [String]) throws -> [String: Any] {
            let r = try runPerftop(["report", moved.path, "--summary", "--json"] + extra)
            XCTAssertEqual(r.status, 0, r.err)
            let j = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
            return (j["look_here"] as! [[String: Any]]).first!
        }
        XCTAssertTrue(try look([])["source"] is NSNull, "the recorded path does not exist here")
        let found = try look(["--path-map", "/srv/app/=SampleProfiles/workload/"])
        XCTAssertEqual((found["source"] as? String)?.trimmingCharacters(in: .whitespaces), "if key in seen:")
    }
}
