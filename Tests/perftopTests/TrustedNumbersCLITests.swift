import Foundation
import XCTest

/// Issue 17's command-line figures on the bundled real profiles, checked against the files
/// themselves, Python's pstats (Tests/Reference) or the pattern of the tool that reads the output.
final class TrustedNumbersCLITests: XCTestCase {
    /// flamegraph.pl's pattern for a collapsed line (`stackcollapse` output): stack, whitespace,
    /// digits with an optional fraction. A line it does not match is dropped.
    static let flamegraphLine = try! NSRegularExpression(pattern: #"^(.*)\s+?(\d+(?:\.\d*)?)$"#)

    /// 17.8: pstats seconds become integer microseconds flamegraph.pl accepts, and stderr says
    /// the unit and that the stacks are estimated.
    func testCollapsedFromPstatsIsIntegerMicrosecondsFlamegraphAccepts() throws {
        let r = try runPerftop(["convert", "SampleProfiles/etl.prof", "--to", "collapsed"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("microseconds"), r.err)
        XCTAssertTrue(r.err.contains("estimated from a call graph"), r.err)
        var sum = 0.0
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertGreaterThan(lines.count, 50)
        for l in lines {
            let m = Self.flamegraphLine.firstMatch(in: l, range: NSRange(l.startIndex..., in: l))
            XCTAssertNotNil(m, "flamegraph.pl would drop: \(l)")
            let count = try XCTUnwrap(l.split(separator: " ").last.flatMap { Int($0) }, "not an integer count: \(l)")
            sum += Double(count)
        }
        // Python's pstats total (total_tt) in µs; stacks under half a µs are left out.
        let ref = try JSONSerialization.jsonObject(with: Data(contentsOf: CLITests.repoRoot.appendingPathComponent("Tests/Reference/etl.prof.pstats.json"))) as! [String: Any]
        let totalMicros = (ref["total_tt"] as! NSNumber).doubleValue * 1e6
        XCTAssertEqual(sum, totalMicros, accuracy: totalMicros * 0.001)
    }

    /// 17.16: `perftop FILE | cat` on a file that fails to load prints its error and nothing else.
    func testViewToAPipeOfABadFilePrintsOnlyTheError() throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-trunc-\(getpid()).prof")
        defer { try? FileManager.default.removeItem(at: bad) }
        let good = try Data(contentsOf: CLITests.repoRoot.appendingPathComponent("SampleProfiles/etl.prof"))
        try good.prefix(good.count / 2).write(to: bad)
        let r = try runPerftop([bad.path])
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertTrue(r.err.hasPrefix("perftop: \(bad.path)"), r.err)
        // A file that loads still says why it prints the report.
        let ok = try runPerftop(["SampleProfiles/etl.prof"])
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertTrue(ok.err.contains("not a terminal"), ok.err)
    }
}
