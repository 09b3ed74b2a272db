import Foundation
import XCTest
@testable import ProfileModel

/// Issue 18: a live stream's snapshots are made incrementally (only what arrived since the
/// last one is new), so every snapshot along the way is checked against a computation over
/// the raw lines received so far, done here on strings: the total, each function's self
/// weight, and each function's label line (the leaf line with most weight, ties to the
/// smaller line; a function never at a leaf shows its smallest line).
final class LiveLabelTests: XCTestCase {
    /// Real recordings (py-spy folded, with lines) interleaved with a high-cardinality part:
    /// functions sampled at several lines whose hottest line changes as the stream goes on,
    /// and new functions all along.
    func streamLines() throws -> [String] {
        var real: [String] = []
        for name in ["etl.pyspy.txt", "pool.pyspy.txt", "recursive.pyspy.txt", "threads.pyspy.txt"] {
            let text = try String(contentsOfFile: Fixtures.sample(name), encoding: .utf8)
            real += text.split(separator: "\n").map(String.init)
        }
        var rng: UInt64 = 42
        func next(_ n: Int) -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int(rng >> 33) % n }
        var out: [String] = []
        for i in 0..<6000 {
            if i % 7 == 0 { out.append(real[i / 7 % real.count]); continue }
            let worker = next(40)
            // Early on line 10 of each worker leads, later line 30 catches up and passes it.
            let line = i < 3000 ? [10, 10, 20, 30][next(4)] : [30, 30, 30, 20][next(4)]
            var stack = "main (app.py:1);dispatch (app.py:\(10 + next(3)));worker_\(worker) (work.py:\(line))"
            // A new leaf function now and then; some deeper, under a worker's line.
            if next(3) == 0 { stack += ";leaf_\(i) (leaf.py:\(i % 50 + 1))" }
            out.append("\(stack) \(1 + next(5))")
        }
        return out
    }

    struct Expected {
        var total = 0.0
        var selfWeight: [String: Double] = [:]      // "name|file"
        var leafVotes: [String: [Int: Double]] = [:]
        var minLine: [String: Int] = [:]

        mutating func add(_ line: String) {
            let cut = line.lastIndex(of: " ")!
            let count = Double(line[line.index(after: cut)...])!
            // An empty stack is counted apart (not in the tree); py-spy's thread frames group
            // samples and name no function.
            let frames = line[..<cut].split(separator: ";")
            guard !frames.isEmpty else { return }
            total += count
            for (k, f) in frames.enumerated() {
                if f.hasPrefix("thread (") || (f.hasPrefix("process ") && f.dropFirst(8).first?.isNumber == true) { continue }
                let (fn, l) = Self.parse(f)
                if l > 0 { minLine[fn] = min(minLine[fn] ?? l, l) }
                if k == frames.count - 1 {
                    selfWeight[fn, default: 0] += count
                    if l > 0 { leafVotes[fn, default: [:]][l, default: 0] += count }
                }
            }
        }

        /// "name (file:line)" → ("name|file", line); 0 when the frame names no line.
        static func parse(_ f: Substring) -> (String, Int) {
            guard f.hasSuffix(")"), let open = f.range(of: " (", options: .backwards) else { return (String(f) + "|", 0) }
            let inner = f[open.upperBound..<f.index(before: f.endIndex)]
            guard let colon = inner.lastIndex(of: ":"), let l = Int(inner[inner.index(after: colon)...]) else {
                return (f[..<open.lowerBound] + "|" + inner, 0)
            }
            return (f[..<open.lowerBound] + "|" + inner[..<colon], l)
        }

        func label(_ fn: String) -> Int? {
            if let votes = leafVotes[fn], let best = votes.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) {
                return best.key
            }
            return minLine[fn]
        }
    }

    func check(_ p: Profile, _ e: Expected, _ at: String) {
        XCTAssertEqual(p.total(metric: 0), e.total, at)
        var selfWeight: [String: Double] = [:]
        var wrongLabels: [String] = []
        for f in 0..<p.functions.count {
            let fn = Int32(f)
            let key = p.frames.name(ofFunction: fn) + "|" + (p.frames.file(ofFunction: fn) ?? "")
            let w = p.functions.selfWeight[0][f]
            if w != 0 { selfWeight[key, default: 0] += w }
            if e.minLine[key] != nil, p.frames.line(ofFunction: fn) != e.label(key) {
                wrongLabels.append("\(key): \(p.frames.line(ofFunction: fn) ?? 0), expected \(e.label(key) ?? 0)")
            }
        }
        let want = e.selfWeight.filter { $0.value != 0 }
        let differ = Set(want.keys).union(selfWeight.keys).filter { selfWeight[$0] != want[$0] }.sorted()
        XCTAssertEqual(differ.map { "\($0): \(selfWeight[$0] ?? 0)" }, differ.map { "\($0): \(want[$0] ?? 0)" }, at)
        XCTAssertEqual(wrongLabels, [], at)
        // A merged function's frames in the tree show its label too.
        for n in 1..<min(p.tree.count, 2000) {
            let f = p.tree.frame[n], fn = p.frames.frameFunction[Int(f)]
            if fn >= 0 { XCTAssertEqual(p.frames.line(ofFrame: f), p.frames.line(ofFunction: fn), at) }
        }
    }

    /// Fed in uneven chunks with a snapshot after each (some eighty), as a stream's publisher
    /// makes them; each snapshot matches the lines before it.
    func testEverySnapshotMatchesTheLinesSoFar() throws {
        let lines = try streamLines()
        let parser = StreamParser(kind: .folded)
        var expected = Expected()
        var pos = 0, snapshots = 0, midwayLabel: Int? = nil
        var rng: UInt64 = 9
        while pos < lines.count {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            let end = min(lines.count, pos + 1 + Int(rng >> 33) % 150)
            let text = Array((lines[pos..<end].joined(separator: "\n") + "\n").utf8)
            try text.withUnsafeBytes { try parser.feed($0) }
            for l in lines[pos..<end] { expected.add(l) }
            pos = end
            check(parser.snapshot(source: "live"), expected, "after line \(pos)")
            snapshots += 1
            if midwayLabel == nil && pos >= lines.count / 2 { midwayLabel = expected.label("worker_0|work.py") }
        }
        XCTAssertGreaterThan(snapshots, 50)
        // A label moved while the stream went on: line 10 led the workers, line 30 won.
        XCTAssertEqual(midwayLabel, 10)
        XCTAssertEqual(expected.label("worker_0|work.py"), 30)
    }

    /// The same through `LiveIngest` with a time window on (`w`) and the rebuild after it
    /// (`compact`): the final snapshot's labels match the lines' (the window covers them all).
    func testLabelsSurviveTheWindowRebuild() throws {
        let lines = try streamLines()
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        let ingest = LiveIngest(source: LiveMemoryTests.ChunkSource(text, chunk: 4093), name: "window")
        ingest.compactionFloor = 500
        ingest.setWindow(3600)
        ingest.run()
        let (p, status) = ingest.snapshot()
        XCTAssertEqual(status.state, .ended)
        var expected = Expected()
        for l in lines { expected.add(l) }
        check(try XCTUnwrap(p), expected, "windowed")
    }
}
