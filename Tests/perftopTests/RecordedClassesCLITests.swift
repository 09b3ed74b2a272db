import Foundation
import XCTest

/// `report --summary` on profiles that record what kind each sample is: the classes come from
/// the recording (Scalene's per-line native and system percent, read here with Foundation's
/// JSON parser), and the header and the JSON say so.
final class RecordedClassesCLITests: XCTestCase {
    func testScaleneSummaryTakesNativeAndSystemFromTheFile() throws {
        let path = "Tests/Golden/scalene/native_mix.scalene.json"
        let d = try JSONSerialization.jsonObject(with: Data(contentsOf: CLITests.repoRoot.appendingPathComponent(path))) as! [String: Any]
        var native = 0.0, system = 0.0, all = 0.0
        for (_, f) in d["files"] as! [String: Any] {
            for l in (f as! [String: Any])["lines"] as! [[String: Any]] {
                let c = (l["n_cpu_percent_c"] as! NSNumber).doubleValue, s = (l["n_sys_percent"] as! NSNumber).doubleValue
                native += c; system += s
                all += c + s + (l["n_cpu_percent_python"] as! NSNumber).doubleValue
            }
        }
        let r = try runPerftop(["report", path, "--summary", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let j = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        XCTAssertEqual(j["recorded_classes"] as? Bool, true)
        let classes = j["classes"] as! [[String: Any]]
        func weight(_ kind: String) -> Double { (classes.first { $0["kind"] as? String == kind }?["weight"] as? Double) ?? 0 }
        XCTAssertEqual(weight("native"), native, accuracy: 1e-6)
        XCTAssertEqual(weight("system"), system, accuracy: 1e-6)
        XCTAssertEqual(j["total"] as! Double, all, accuracy: 1e-6)
        let text = try runPerftop(["report", path, "--summary"])
        XCTAssertTrue(text.out.hasPrefix("Summary: where the time went, by kind (Scalene's native and system time first"), text.out)
        XCTAssertTrue(text.out.contains("native code and extensions"), text.out)

        // A profile without recorded classes keeps the frame rules and says nothing of bits.
        let plain = try runPerftop(["report", "SampleProfiles/etl.pyspy.txt", "--summary", "--json"])
        let pj = try JSONSerialization.jsonObject(with: Data(plain.out.utf8)) as! [String: Any]
        XCTAssertEqual(pj["recorded_classes"] as? Bool, false)
    }

    func testTachyonSummaryHeaderNamesTheStatusBits() throws {
        let r = try runPerftop(["report", "Tests/Golden/tachyon/etl-raw.tachyon.bin", "--summary"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("Summary: where the time went, by kind (each sample's CPU/GIL status bits first"), r.out)
    }
}
