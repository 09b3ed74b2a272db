import Foundation
import XCTest
@testable import ProfileModel

/// `report` makes rows only for what it prints (`Report.topRows`): the rows shown must be the
/// ones Python's pstats ranks first, and the first N of every order, whatever N is.
final class ReportTopRowsTests: XCTestCase {
    /// sort_stats("tottime"), as CPython's pstats printed it (Scripts/pstats_reference.py).
    func testTopRowsBySelfAreTheOnesPstatsPrints() throws {
        for (prof, ref) in [("etl.prof", "etl.prof.pstats.json"), ("threads-shared.prof", "threads-shared.prof.pstats.json")] {
            let want = (try Fixtures.json(Fixtures.reference(ref)) as! [String: Any])["print_stats_top"] as! [[Any]]
            let p = try FormatRegistry.load(path: Fixtures.sample(prof))
            let (rows, count) = Report.topRows(p, metric: p.defaultMetric, sort: .self, limit: want.count)
            XCTAssertEqual(rows.count, want.count, prof)
            XCTAssertGreaterThanOrEqual(count, rows.count, prof)
            for (r, w) in zip(rows, want) {
                let tt = w[3] as! Double
                XCTAssertEqual(r.selfWeight, tt, accuracy: 1e-9 * max(tt, 1e-9), "\(prof): \(w)")
                // Equal times may come in another order; a time of its own names its function.
                if want.filter({ ($0[3] as! Double) == tt }).count == 1 {
                    XCTAssertEqual(r.name, w[2] as? String, prof)
                    XCTAssertEqual(r.line ?? 0, w[1] as? Int, prof)
                }
            }
        }
    }

    /// Selecting the first N (on indices) agrees with ranking every row, for each order, on a
    /// sampled profile with many ties (zero self time) and a pstats one.
    func testEveryLimitShowsTheFirstRowsOfTheWholeOrder() throws {
        for file in ["etl.pyspy.txt", "etl.prof", "etl.austin"] {
            let p = try FormatRegistry.load(path: Fixtures.sample(file))
            for sort in SortKey.allCases {
                for descending in [true, false] {
                    let all = Report.topRows(p, metric: p.defaultMetric, sort: sort, limit: nil, descending: descending)
                    XCTAssertGreaterThan(all.count, 8, file)
                    XCTAssertEqual(all.rows.count, all.count)
                    // The whole order is a ranking: each row is not below the next by the sort key.
                    for (a, b) in zip(all.rows, all.rows.dropFirst()) where descending {
                        switch sort {
                        case .total: XCTAssertGreaterThanOrEqual(a.totalWeight, b.totalWeight)
                        case .self: XCTAssertGreaterThanOrEqual(a.selfWeight, b.selfWeight)
                        case .calls: XCTAssertGreaterThanOrEqual(a.calls ?? -1, b.calls ?? -1)
                        case .name: XCTAssertLessThanOrEqual(a.name, b.name)
                        }
                    }
                    for limit in [0, 1, 2, 5, all.count / 5, all.count] {
                        let top = Report.topRows(p, metric: p.defaultMetric, sort: sort, limit: limit, descending: descending)
                        XCTAssertEqual(top.count, all.count)
                        XCTAssertEqual(top.rows.map(\.function), all.rows.prefix(limit).map(\.function),
                                       "\(file) sort \(sort) descending \(descending) limit \(limit)")
                    }
                }
            }
        }
    }

    /// `--json` carries what the reader noted about the file: for trace events, the number of
    /// events and the count of each phase, checked against Foundation's own parse of the file.
    func testJSONReportCarriesTheReadersMetadata() throws {
        let path = Fixtures.repoRoot.appendingPathComponent("Tests/Golden/trace-event/viztracer-vdb-basic.json").path
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        let events = ((raw as? [String: Any])?["traceEvents"] ?? raw) as! [[String: Any]]
        let out = Report.json(try FormatRegistry.load(path: path))
        let doc = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        let meta = Dictionary(uniqueKeysWithValues: (doc["metadata"] as! [[String]]).map { ($0[0], $0[1]) })
        XCTAssertEqual(meta["events"], String(events.count))
        let xCount = events.filter { $0["ph"] as? String == "X" }.count
        XCTAssertGreaterThan(xCount, 0)
        XCTAssertTrue(meta["phases"]?.contains("=\(xCount)") == true, meta["phases"] ?? "no phases")
    }
}
