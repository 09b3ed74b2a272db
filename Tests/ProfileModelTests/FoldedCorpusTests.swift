import Foundation
import XCTest
@testable import ProfileModel

/// Every folded file in the corpus must reproduce the facts an independent parser computed
/// (EXPECTED.json): total, distinct stacks and frames, depth, skipped lines and the top leaf.
final class FoldedCorpusTests: XCTestCase {
    func testEveryFoldedFileMatchesExpectedFacts() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "folded" }
        XCTAssertGreaterThan(entries.count, 50)
        var checked = 0
        for e in entries {
            let path = dir + "/" + e.path
            let f = e.facts
            let unique = f["unique_stacks"] as! Int
            if unique == 0 {
                XCTAssertThrowsError(try load(path), "\(e.path): a file with no stacks must be an error")
                continue
            }
            let p: Profile
            do { p = try load(path, format: "collapsed") } catch {
                XCTFail("\(e.path): \(error)"); continue
            }
            let m = p.defaultMetric
            let expectedTotal = (f["total"] as! NSNumber).doubleValue
            XCTAssertEqual(p.total(metric: m), expectedTotal, accuracy: 1e-6 * max(1, abs(expectedTotal)), e.path)
            // A distinct stack string ends at a distinct node (count-0 stacks still create it).
            let leaves = (0..<p.tree.count).filter { n in
                n > 0 && (p.tree.childCount(Int32(n)) == 0 || p.metrics.indices.contains { p.tree.selfWeight[$0][n] != 0 })
            }
            XCTAssertEqual(leaves.count, unique, "\(e.path): unique stacks")
            let frames = Set((1..<p.tree.count).map { p.tree.frame[$0] })
            XCTAssertEqual(frames.count, f["distinct_frames"] as! Int, "\(e.path): distinct frames")
            XCTAssertEqual(p.maxDepth, f["max_depth"] as! Int, "\(e.path): max depth")
            let skipped = f["skipped_lines"] as! Int
            let skipWarning = p.warnings.first { $0.contains("without a count skipped") }
            if skipped == 0 { XCTAssertNil(skipWarning, e.path) }
            else { XCTAssertTrue(skipWarning?.hasPrefix("\(skipped) line") ?? false, "\(e.path): \(p.warnings)") }
            if let top = f["top_self"] as? String { checkTopSelf(p, metric: m, expected: top, path: e.path) }
            checked += 1
        }
        print("folded corpus: \(checked) files checked against EXPECTED.json")
    }

    /// `top_self` is `FRAME (VALUE)`: the leaf frame text with the largest summed count.
    func checkTopSelf(_ p: Profile, metric: Int, expected: String, path: String) {
        guard let open = expected.range(of: " (", options: .backwards) else { return XCTFail(path) }
        let label = String(expected[..<open.lowerBound])
        let value = Double(expected[open.upperBound...].dropLast())!
        let byFrame = p.selfByFrame(metric: metric)
        let best = byFrame.values.max() ?? 0
        XCTAssertEqual(best, value, accuracy: 1e-6 * max(1, value), "\(path): top self value")
        let winners = byFrame.filter { abs($0.value - best) <= 1e-6 * max(1, best) }.map { p.frames.frame($0.key) }
        XCTAssertTrue(winners.contains { label.hasPrefix($0.name) }, "\(path): top self \(label) not in \(winners.map(\.name))")
    }

    /// FlameGraph's and inferno's expected collapsed outputs are folded files too: reading them
    /// must give back exactly the stacks and counts they list.
    func testFoldedRoundTripsStacksExactly() throws {
        let dir = try Fixtures.requireCorpus()
        let path = dir + "/inferno/tests/data/collapse-perf/results/go-stacks-collapsed.txt"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("SKIPPED: \(path) absent") }
        let p = try load(path)
        var expected: [String: Double] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let sp = line.lastIndex(of: " ")!
            expected[String(line[..<sp]), default: 0] += Double(line[line.index(after: sp)...])!
        }
        var got: [String: Double] = [:]
        for n in 1..<p.tree.count where p.tree.selfWeight[0][n] != 0 {
            let names = p.tree.path(to: Int32(n)).map { p.frames.frame(p.tree.frame[Int($0)]).name }
            got[names.joined(separator: ";"), default: 0] += p.tree.selfWeight[0][n]
        }
        XCTAssertEqual(got, expected)
    }
}
