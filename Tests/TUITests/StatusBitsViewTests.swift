import Foundation
import XCTest
import ProfileModel
@testable import TUI

/// Tachyon's status-bit metrics in the viewer: `m` switches to a metric that keeps only some
/// samples, and the message and the status line say so; the tree then holds just those samples.
final class StatusBitsViewTests: XCTestCase {
    func testMetricSwitchFiltersToTheGILHoldersAndSaysSo() throws {
        let path = TUIFixtures.repoRoot.appendingPathComponent("Tests/Golden/tachyon/etl-raw.tachyon.bin").path
        let p = try FormatRegistry.load(path: path)
        XCTAssertEqual(p.metrics.map(\.name), ["samples", "on-cpu", "gil"])
        let session = Session(profile: p, fileName: "etl.tachyon.bin")
        let (_, message) = try runKeys(session, keys: "mm", width: 120, height: 8)
        let lastOf = { (s: String) in s.split(separator: "\n").last.map(String.init) ?? "" }
        XCTAssertTrue(lastOf(message).contains("metric: gil/count (only samples holding the GIL)"), message)
        let (_, screen) = try runKeys(session, keys: "mmj", width: 120, height: 8)
        let status = lastOf(screen)
        XCTAssertTrue(status.contains("only samples holding the GIL"), status)
        // The total shown is the GIL metric's, the samples whose status has HAS_GIL.
        let gil = p.total(metric: 2)
        XCTAssertTrue(status.contains("total \(ValueFormat.withUnit(gil, unit: "count"))"), status)
        let (_, plain) = try runKeys(session, keys: "j", width: 120, height: 8)
        XCTAssertFalse(lastOf(plain).contains("only samples"), plain)
    }
}
