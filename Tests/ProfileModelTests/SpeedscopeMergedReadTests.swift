import Foundation
import XCTest
@testable import ProfileModel

/// The speedscope reader builds the tree the caller asked for (lines and/or threads merged)
/// while reading, finding `shared.frames` ahead of the samples when a file writes it last (py-spy
/// does). It must give what merging the plain read gives, and fall back to that read when its
/// guess about the file is wrong.
final class SpeedscopeMergedReadTests: XCTestCase {
    static func files() -> [String] {
        var paths = [Fixtures.sample("etl.speedscope.json"), Fixtures.sample("recursive.speedscope.json")]
        let deep = Fixtures.repoRoot.appendingPathComponent("Tests/Deep").path
        paths += ["deep.sampled.json", "deep.evented.json"].map { deep + "/" + $0 }
        let golden = Fixtures.repoRoot.appendingPathComponent("Tests/Golden/speedscope").path
        paths += ["memray-etl.json", "pyinstrument-evented.json", "pyspy-sampled.json"].map { golden + "/" + $0 }
        return paths
    }

    static func load(_ bytes: [UInt8], lines: Bool, threads: Bool) throws -> Profile {
        try FormatRegistry.load(source: MemorySource(bytes), name: "test.json", mergeLines: lines, mergeThreads: threads)
    }

    /// Everything a report shows of a profile: stacks by function (with each function's label
    /// line), function self and total per metric, metrics, samples. Node and frame ids left out.
    static func summary(_ p: Profile) -> [String] {
        var out = ["metrics \(p.metrics) default \(p.defaultMetric) samples \(String(describing: p.sampleCount))"]
        for m in p.metrics.indices {
            let stacks = p.stacks(metric: m) { f in
                let fn = p.frames.frameFunction[Int(f)]
                return fn >= 0 ? p.frames.describe(function: fn) : p.frames.name(ofFrame: f)
            }
            out += stacks.sorted { $0.key < $1.key }.map { "m\(m) \($0.key) \($0.value)" }
            var rows: [String] = []
            for fn in 0..<p.functions.count where p.functions.totalWeight[m][fn] != 0 || p.functions.selfWeight[m][fn] != 0 {
                rows.append("fn m\(m) \(p.frames.describe(function: Int32(fn))) \(p.functions.selfWeight[m][fn]) \(p.functions.totalWeight[m][fn])")
            }
            out += rows.sorted()
        }
        return out
    }

    /// Float sums in another order may differ in the last bits: equal to 1e-9 relative.
    static func assertSame(_ a: [String], _ b: [String], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        func split(_ s: String) -> (String, [Double]) {
            var words = s.split(separator: " ", omittingEmptySubsequences: false)
            var nums: [Double] = []
            while let last = words.last, let v = Double(last) { nums.insert(v, at: 0); words.removeLast() }
            return (words.joined(separator: " "), nums)
        }
        XCTAssertEqual(a.count, b.count, "\(what): line count", file: file, line: line)
        for (x, y) in zip(a, b) {
            let (tx, nx) = split(x), (ty, ny) = split(y)
            guard tx == ty, nx.count == ny.count,
                  zip(nx, ny).allSatisfy({ abs($0 - $1) <= 1e-9 * max(abs($0), abs($1)) }) else {
                XCTFail("\(what):\n  merged while reading: \(x)\n  merged afterwards:    \(y)", file: file, line: line)
                return
            }
        }
    }

    func testMergedReadGivesWhatMergingThePlainReadGives() throws {
        for path in Self.files() {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let plain = try Self.load(bytes, lines: false, threads: false)
            XCTAssertEqual(plain.format, "speedscope", path)
            for (lines, threads) in [(true, true), (true, false), (false, true)] {
                let direct = try Self.load(bytes, lines: lines, threads: threads)
                let after = plain.merging(threads: threads, lines: lines)
                Self.assertSame(Self.summary(direct.merging(threads: threads, lines: lines)), Self.summary(after),
                                "\(path) lines \(lines) threads \(threads)")
                // Built as asked while reading: nothing left for the caller to merge.
                if lines {
                    let kept = (0..<direct.frames.frameCount).filter { f in
                        direct.frames.frameFunction[f] >= 0 && !direct.frames.isMerged(Int32(f))
                    }
                    XCTAssertEqual(kept.count, 0, "\(path): line-level frames in a read that merged lines")
                }
                if threads && !path.hasSuffix("memray-etl.json") {
                    XCTAssertFalse(direct.hasThreads, "\(path): grouping frames in a read that merged threads")
                }
            }
        }
    }

    /// The deep shape, independently: the generator's folded input with thread frames dropped
    /// and each frame's line dropped, against the stacks of functions the merged read gives.
    func testDeepSpeedscopeMergedWhileReadingGivesTheFunctionStacks() throws {
        let dir = Fixtures.repoRoot.appendingPathComponent("Tests/Deep").path
        let want = Fixtures.withoutLines(try DeepShapeTests.expected())
        for file in ["deep.sampled.json", "deep.evented.json"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file)))
            let p = try Self.load(bytes, lines: true, threads: true)
            XCTAssertFalse(p.hasThreads, file)
            let got = p.stacks(metric: p.defaultMetric, name: p.functionName(ofFrame:))
            XCTAssertGreaterThan(want.count, 50)
            if let diff = GoldenTests.difference(got, want) { XCTFail("\(file):\n\(diff)") }
            // One node per function path: no two siblings of one function.
            for n in 0..<p.tree.count {
                let fns = p.tree.children(Int32(n)).map { p.frames.frameFunction[Int(p.tree.frame[Int($0)])] }
                XCTAssertEqual(Set(fns).count, fns.count, "\(file): siblings of one function under node \(n)")
            }
        }
    }

    static let head = #"{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":["#
        + #"{"type":"sampled","name":"thread (1): main","unit":"none","startValue":0,"endValue":4,"#
        + #""samples":[[0,1,2],[0,1,3],[0,1,2],[0,4]],"weights":[1,8,2,4]}]"#
    static let shared = #""shared":{"frames":[{"name":"thread (1): main","file":""},{"name":"main","file":"m.py","line":3},"#
        + #"{"name":"work","file":"m.py","line":10},{"name":"work","file":"m.py","line":12},{"name":"idle","file":"m.py","line":20}]}"#

    /// What `head`/`shared` hold, by function: main;work 11 (lines 10: 3, 12: 8), idle 4.
    func checkSmallTree(_ p: Profile, _ what: String) {
        let m = p.defaultMetric
        XCTAssertEqual(p.total(metric: m), 15, what)
        var byName: [String: Double] = [:]
        for fn in 0..<p.functions.count { byName[p.frames.name(ofFunction: Int32(fn))] = p.functions.totalWeight[m][fn] }
        XCTAssertEqual(byName["work"], 11, what)
        XCTAssertEqual(byName["idle"], 4, what)
        XCTAssertEqual(byName["main"], 11, what)
        XCTAssertNil(byName["bogus"], "\(what): a frame from a nested 'shared'")
        // work's label is its hottest line, 12, not its first.
        if let fn = (0..<p.functions.count).first(where: { p.frames.name(ofFunction: Int32($0)) == "work" }) {
            XCTAssertEqual(p.frames.line(ofFunction: Int32(fn)), 12, "\(what): work's label")
        }
    }

    func testSharedFoundAheadOrNotAllReadTheSame() throws {
        let variants: [(String, String)] = [
            ("shared last", Self.head + "," + Self.shared + "}"),
            ("shared first", "{" + Self.shared + "," + Self.head.dropFirst() + "}"),
            ("spaces around the key", Self.head + " ,\n  " + Self.shared.replacingOccurrences(of: #""shared":"#, with: "\"shared\" :\n ") + " }"),
            // The last `"shared"` key in the file is a nested one: the guess is wrong, the
            // top-level key is met elsewhere, and the file is read again as written.
            ("a nested shared after it", Self.head + "," + Self.shared
                + #","x":{"shared":{"frames":[{"name":"bogus"},{"name":"bogus"},{"name":"bogus"},{"name":"bogus"},{"name":"bogus"}]}}}"#),
            ("a string that looks like the key", Self.head + "," + Self.shared + #","name":"a\",\"shared\":{\"frames\":[]}"}"#),
        ]
        for (what, text) in variants {
            let bytes = Array(text.utf8)
            for (lines, threads) in [(true, true), (false, false), (true, false)] {
                let p = try Self.load(bytes, lines: lines, threads: threads).merging(threads: true, lines: true)
                checkSmallTree(p, "\(what), lines \(lines) threads \(threads)")
            }
        }
    }

    /// A second top-level `shared` after the profiles extends the first (indices count on):
    /// the merged read, which took the first as all frames, reads again as written.
    func testSecondSharedAndIndexPastSharedFallBackToThePlainRead() throws {
        let first = #"{"shared":{"frames":[{"name":"main","file":"m.py","line":1}]},"profiles":["#
            + #"{"type":"sampled","name":"t","unit":"none","samples":[[0,1],[0]],"weights":[2,3]}],"#
            + #""shared":{"frames":[{"name":"leaf","file":"m.py","line":9}]}}"#
        let bytes = Array(first.utf8)
        let plain = try Self.load(bytes, lines: false, threads: false).merging(threads: true, lines: true)
        let merged = try Self.load(bytes, lines: true, threads: true)
        Self.assertSame(Self.summary(merged.merging(threads: true, lines: true)), Self.summary(plain), "second shared")
        XCTAssertEqual(merged.total(metric: merged.defaultMetric), 5)
        // An index past `shared.frames`: the same located error either way.
        let bad = Array(#"{"shared":{"frames":[{"name":"a"}]},"profiles":[{"type":"sampled","unit":"none","samples":[[0,7]],"weights":[1]}]}"#.utf8)
        for (lines, threads) in [(false, false), (true, true)] {
            XCTAssertThrowsError(try Self.load(bad, lines: lines, threads: threads)) { e in
                XCTAssertTrue("\(e)".contains("frame index 7 out of range"), "\(e)")
            }
        }
    }
}
