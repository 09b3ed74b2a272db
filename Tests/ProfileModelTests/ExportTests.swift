import Foundation
import XCTest
@testable import ProfileModel

final class ExportTests: XCTestCase {
    func stacks(_ text: String) -> [String: Double] {
        var d: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.isEmpty {
            let sp = line.lastIndex(of: " ")!
            d[String(line[..<sp]), default: 0] += Double(line[line.index(after: sp)...])!
        }
        return d
    }

    /// collapsed -> perftop -> collapsed keeps every stack and count; a sorted file comes back
    /// byte for byte.
    func testCollapsedRoundTrip() throws {
        var files = [Fixtures.sample("etl.pyspy.txt"), Fixtures.sample("threads.pyspy.txt")]
        if let dir = Fixtures.corpusDir {
            files += ["flamelens/tests/data/recursive.txt", "FlameGraph/test/results/perf-vertx-stacks-01-collapsed-all.txt"]
                .map { dir + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
        }
        for path in files {
            let original = try String(contentsOfFile: path, encoding: .utf8)
            let out = Exporter.collapsed(try load(path), metric: 0)
            XCTAssertEqual(stacks(out), stacks(original), path)
            let again = Exporter.collapsed(try FormatRegistry.load(source: MemorySource(Array(out.utf8)), name: "x"), metric: 0)
            XCTAssertEqual(again, out, "\(path): a canonical file is a fixed point")
        }
    }

    /// Lines come out in string order, byte-wise for ASCII names and by String comparison
    /// otherwise; frame text never carries a ';' or newline into a line. The expected order is
    /// Swift's own sort of the lines, not the exporter's.
    /// Output far bigger than the tree (a deep stack's lines repeat its path) is written in
    /// pieces: joined, they are the input's lines sorted, byte for byte.
    func testCollapsedOutputInPiecesIsTheSortedInput() throws {
        var rng = SeededRNG(seed: 34)
        let chain = (0..<3_000).map { "fn_\($0)" }
        var counts: [String: UInt64] = [:]
        while counts.count < 300 {
            let depth = 1 + Int(rng.next() % 3_000)
            counts[chain[0..<depth].joined(separator: ";") + (rng.next() % 2 == 0 ? ";leaf" : ""), default: 0] += 1 + rng.next() % 1000
        }
        let want = counts.map { "\($0.key) \($0.value)" }.sorted().joined(separator: "\n") + "\n"
        let p = try FormatRegistry.load(source: MemorySource(Array(want.utf8), chunk: 1 << 20), name: "deep")
        var pieces = 0
        var got: [UInt8] = []
        Exporter.writeCollapsed(p, metric: 0) { got.append(contentsOf: $0); pieces += 1 }
        XCTAssertGreaterThan(pieces, 1, "\(got.count) bytes")
        XCTAssertEqual(String(decoding: got, as: UTF8.self), want)
    }

    func testCollapsedLinesAreSortedAsStrings() throws {
        let folded = "main;f2 3\nmain;f 5\nmain;f;g 1\nmain;f!x 2\nz\u{e9}ta;caf\u{e9} 4\nzeta;cafe\u{301} 6\nmain 7\n"
        for text in [folded, folded.replacingOccurrences(of: "\u{e9}", with: "e").replacingOccurrences(of: "\u{301}", with: "")] {
            let out = Exporter.collapsed(try FormatRegistry.load(source: MemorySource(Array(text.utf8)), name: "x.folded"), metric: 0)
            let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(lines.last, "", "every line ends with a newline")
            XCTAssertEqual(Array(lines.dropLast()), lines.dropLast().sorted())
            XCTAssertEqual(stacks(out), stacks(text))
        }
    }

    /// speedscope -> perftop -> speedscope keeps the totals (and every function's total).
    func testSpeedscopeRoundTripKeepsTotals() throws {
        var files = [Fixtures.sample("etl.speedscope.json")]
        if let dir = Fixtures.corpusDir { files.append(dir + "/generated/py-spy/pyspy.speedscope.json") }
        for path in files {
            let p = try load(path).mergingThreads()
            let m = p.defaultMetric
            let text = Exporter.speedscope(p, metric: m)
            let q = try FormatRegistry.load(source: MemorySource(Array(text.utf8)), name: "rt.json").mergingThreads()
            XCTAssertEqual(q.format, "speedscope")
            XCTAssertEqual(q.total(metric: q.defaultMetric), p.total(metric: m), accuracy: 1e-9 * max(1, p.total(metric: m)), path)
            var a: [String: Double] = [:], b: [String: Double] = [:]
            for f in 0..<p.functions.count { a[p.frames.describe(function: Int32(f)), default: 0] += p.functions.totalWeight[m][f] }
            for f in 0..<q.functions.count { b[q.frames.describe(function: Int32(f)), default: 0] += q.functions.totalWeight[q.defaultMetric][f] }
            for (k, v) in a where v != 0 { XCTAssertEqual(b[k] ?? -1, v, accuracy: 1e-9 * max(1, v), "\(path): \(k)") }
        }
    }

    /// pprof out and back in: every metric's total survives (seconds become nanoseconds).
    func testPprofRoundTripKeepsEveryMetric() throws {
        for name in ["etl.austin", "etl.pyspy.txt"] {
            let p = try load(Fixtures.sample(name))
            let q = try FormatRegistry.load(source: MemorySource(try Exporter.pprof(p)), name: "rt.pb")
            XCTAssertEqual(q.format, "pprof")
            XCTAssertEqual(q.metrics.count, p.metrics.count)
            for m in 0..<p.metrics.count {
                let scale: Double = ["seconds": 1e9, "milliseconds": 1e6, "microseconds": 1e3][p.metrics[m].unit] ?? 1
                XCTAssertEqual(q.total(metric: m), p.total(metric: m) * scale, accuracy: Double(p.tree.count), "\(name) \(p.metrics[m])")
            }
            XCTAssertEqual(q.metrics[q.defaultMetric].name, p.metrics[p.defaultMetric].name)
        }
    }

    func testFocusAndHideByRegex() throws {
        let p = try load(Fixtures.sample("etl.pyspy.txt")).mergingLines()
        let parse = try p.functions(matching: "^parse$")
        XCTAssertEqual(parse.count, 1)
        let focused = p.focused(onAny: parse)
        XCTAssertEqual(focused.total(metric: 0), p.functions.totalWeight[0][Int(parse.first!)])
        let hidden = p.hiding(try p.functions(matching: "^(main|dedupe)$"))
        XCTAssertEqual(hidden.total(metric: 0), p.total(metric: 0))
        XCTAssertTrue(try hidden.functions(matching: "^dedupe$").allSatisfy { hidden.functions.nodes(of: $0).isEmpty })
        XCTAssertThrowsError(try p.functions(matching: "(unclosed"))
    }
}
