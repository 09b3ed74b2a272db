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

/// flamelens (a terminal flame graph viewer) ships the tree and per-frame counts it expects from
/// its own folded fixtures; ours must agree node for node.
final class FlamelensFixtureTests: XCTestCase {
    /// The frame text as the file wrote it (py-spy `name (file:line)`, or the bare name).
    func rawName(_ p: Profile, _ frame: Int32) -> String {
        let f = p.frames.frame(frame)
        guard let file = f.file else { return f.name }
        return f.line.map { "\(f.name) (\(file):\($0))" } ?? "\(f.name) (\(file))"
    }

    func testTreesAndCountsMatchFlamelens() throws {
        let dir = try Fixtures.requireCorpus() + "/flamelens/tests"
        var checked = 0
        for name in ["py-spy-simple", "recursive", "invalid-lines", "ignore-metadata-lines", "readable"] {
            let stacksPath = dir + "/fixtures/\(name)/expected_stacks.json"
            guard FileManager.default.fileExists(atPath: stacksPath) else { continue }
            let p = try load(dir + "/data/\(name).txt", format: "collapsed")
            // Their tree: path of full names -> (total, self).
            let nodes = try Fixtures.json(stacksPath) as! [[String: Any]]
            var theirs: [String: (Double, Double)] = [:]
            for n in nodes where n["parent"] is Int {
                // `full_name` is the whole stack, root first.
                theirs[n["full_name"] as! String] = ((n["total_count"] as! NSNumber).doubleValue,
                                                     (n["self_count"] as! NSNumber).doubleValue)
            }
            var ours: [String: (Double, Double)] = [:]
            for n in 1..<p.tree.count {
                let path = p.tree.path(to: Int32(n)).map { rawName(p, p.tree.frame[Int($0)]) }.joined(separator: ";")
                ours[path] = (p.tree.totalWeight[0][n], p.tree.selfWeight[0][n])
            }
            XCTAssertEqual(Set(ours.keys), Set(theirs.keys), name)
            for (k, v) in theirs {
                XCTAssertEqual(ours[k]?.0, v.0, "\(name): total of \(k)")
                XCTAssertEqual(ours[k]?.1, v.1, "\(name): self of \(k)")
            }
            // Their table: per frame text, total counted once per stack, and own.
            let counts = try Fixtures.json(dir + "/fixtures/\(name)/expected_ordered_counts.json") as! [String: Any]
            var perFrame: [String: (Double, Double)] = [:]
            for n in 1..<p.tree.count {
                let mine = p.tree.frame[n]
                let onStackAbove = p.tree.path(to: p.tree.parent[n]).contains { p.tree.frame[Int($0)] == mine }
                let key = rawName(p, mine)
                var v = perFrame[key] ?? (0, 0)
                if !onStackAbove { v.0 += p.tree.totalWeight[0][n] }
                v.1 += p.tree.selfWeight[0][n]
                perFrame[key] = v
            }
            for e in counts["entries"] as! [[String: Any]] {
                let c = e["count"] as! [String: Any]
                let key = e["name"] as! String
                XCTAssertEqual(perFrame[key]?.0, (c["total"] as! NSNumber).doubleValue, "\(name): total of \(key)")
                XCTAssertEqual(perFrame[key]?.1, (c["own"] as! NSNumber).doubleValue, "\(name): own of \(key)")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 4)
    }
}
