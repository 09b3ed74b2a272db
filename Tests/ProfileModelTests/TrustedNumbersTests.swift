import Foundation
import XCTest
@testable import ProfileModel

/// Issue 17 ("numbers you can trust") and 18.3 on real recordings: each figure is checked
/// against the raw file or Python's own pstats, not against perftop's other code paths.
final class TrustedNumbersTests: XCTestCase {

    /// The signed value after the last space of each austin sample line.
    static func austinValues(_ path: String) throws -> [Double] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("P") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
    }

    // MARK: 17.9 austin memory mode: allocations and frees, no share over 100%

    func testAustinMemoryModeSplitsAllocationsAndFrees() throws {
        let dir = try Fixtures.requireCorpus()
        let path = dir + "/generated/austin/austin.memory.austin"
        let values = try Self.austinValues(path)
        XCTAssertTrue(values.contains { $0 < 0 }, "the recording has frees")
        let p = try load(path)
        let alloc = try XCTUnwrap(p.metricIndex(named: "allocated"))
        let freed = try XCTUnwrap(p.metricIndex(named: "freed"))
        XCTAssertEqual(p.defaultMetric, alloc)
        XCTAssertEqual(p.tree.totalWeight[alloc][0], values.filter { $0 > 0 }.reduce(0, +))
        XCTAssertEqual(p.tree.totalWeight[freed][0], -values.filter { $0 < 0 }.reduce(0, +))
        for m in [alloc, freed] {
            let root = p.tree.totalWeight[m][0]
            for n in 0..<p.tree.count {
                XCTAssertGreaterThanOrEqual(p.tree.selfWeight[m][n], 0)
                XCTAssertLessThanOrEqual(p.tree.totalWeight[m][n], root, "node \(n) over 100%")
            }
        }
    }

    // MARK: 18.3 negative weights in the summary

    func testTriageOfNegativeWeightsStaysWithinZeroAndHundredPercent() throws {
        let dir = try Fixtures.requireCorpus()
        let path = dir + "/hostile/negative-metric.austin"
        let values = try Self.austinValues(path)
        let p = try load(path)
        let t = Triage(p, metric: p.defaultMetric)
        XCTAssertEqual(t.total, values.filter { $0 > 0 }.reduce(0, +))
        XCTAssertEqual(t.negative, -values.filter { $0 < 0 }.reduce(0, +))
        XCTAssertGreaterThan(t.negative, 0)
        for c in t.classes {
            XCTAssertGreaterThan(c.weight, 0, c.kind)
            XCTAssertLessThanOrEqual(c.weight, t.total, c.kind)
        }
        let text = t.text(p, metric: p.defaultMetric, look: [], ascii: true)
        XCTAssertTrue(text.contains("negative weights"), text)
        XCTAssertFalse(text.contains("-"), "no negative share or bar: \(text)")
    }

    // MARK: 17.15 a cut yappi callgrind file

    func testCutYappiCallgrindNamesTheRealProblem() throws {
        let dir = try Fixtures.requireCorpus()
        let lines = try String(contentsOfFile: dir + "/generated/yappi/yappi.callgrind.out", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        let firstCost = try XCTUnwrap(lines.firstIndex { $0.first?.isNumber == true })
        // Cut after the names yappi lists up front, before the first cost line; and before any `fn=`.
        for keep in [firstCost - 2, 120] {
            let cut = lines.prefix(keep).joined(separator: "\n") + "\n"
            let fnLines = lines.prefix(keep).filter { $0.hasPrefix("fn=") }.count
            XCTAssertThrowsError(try FormatRegistry.load(source: MemorySource(Array(cut.utf8)), name: "cut.out")) { e in
                let pe = e as? ProfileError
                XCTAssertEqual(pe?.line, keep, "\(e)")
                if fnLines > 0 {
                    XCTAssertTrue(pe?.message.contains("after \(fnLines) 'fn=' lines but before any cost line") == true, "\(e)")
                } else {
                    XCTAssertTrue(pe?.message.contains("no functions ('fn=' lines) before the end") == true, "\(e)")
                }
            }
        }
    }
}
