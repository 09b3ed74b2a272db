import Foundation
import XCTest
@testable import ProfileModel

/// Issue 18: the live state's memory is counted from its distinct stacks and frames, and at
/// the cap (`--max-memory`) the tree stops growing and what arrives after is counted, not lost
/// silently. Expected figures come from the raw lines of real recordings, not from the parser.
final class LiveMemoryTests: XCTestCase {
    /// Hands out `bytes` in chunks of `chunk` bytes, then ends: a pipe without the timing.
    final class ChunkSource: LiveSource {
        let bytes: [UInt8], chunk: Int
        var pos = 0
        init(_ bytes: [UInt8], chunk: Int) { self.bytes = bytes; self.chunk = chunk }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> LiveRead {
            guard pos < bytes.count else { return .end }
            let n = min(chunk, buffer.count, bytes.count - pos)
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + pos, byteCount: n) }
            pos += n
            return .data(n)
        }
        func cancel() {}
    }

    func sampleLines(_ name: String) throws -> [String] {
        try String(contentsOfFile: Fixtures.sample(name), encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// The estimate follows the tree and the frames: a stack seen again costs nothing, a new
    /// one its new nodes and frames. Node and frame counts come from the lines' own prefixes.
    func testLiveBytesCountDistinctStacksAndFrames() throws {
        let lines = try sampleLines("etl.pyspy.txt")
        var prefixes = Set<ArraySlice<Substring>>(), frames = Set<Substring>()
        for l in lines {
            let stack = l[..<l.lastIndex(of: " ")!].split(separator: ";")
            for k in 1...stack.count { prefixes.insert(stack[0..<k]) }
            frames.formUnion(stack)
        }
        let p = StreamParser(kind: .folded, mergeLines: false)
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        try text.withUnsafeBytes { try p.feed($0) }
        XCTAssertEqual(p.builder.nodeCount, prefixes.count + 1)
        XCTAssertEqual(p.builder.frames.frameCount, frames.count)
        let once = LiveIngest.liveBytes(p.builder)
        XCTAssertGreaterThanOrEqual(once, (prefixes.count + 1) * LiveIngest.bytesPerNode + frames.count * LiveIngest.bytesPerFrame)
        // The same recording again: the same stacks, no new memory.
        for _ in 0..<3 { try text.withUnsafeBytes { try p.feed($0) } }
        XCTAssertEqual(LiveIngest.liveBytes(p.builder), once)
    }

    /// A folded stream (py-spy's real recording) over a cap of half its live memory: the tree
    /// stops, and the profile holds exactly the lines before the cut; the lines after it are
    /// counted as dropped, and kept plus dropped is every line. Chunk sizes cut lines anywhere.
    func testFoldedStreamStopsAtTheCapAndCountsTheRest() throws {
        let lines = try sampleLines("etl.pyspy.txt")
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        let full = StreamParser(kind: .folded)
        try text.withUnsafeBytes { try full.feed($0) }
        let fullBytes = LiveIngest.liveBytes(full.builder)
        for chunk in [1, 997, 4096] {
            let ingest = LiveIngest(source: ChunkSource(text, chunk: chunk), name: "capped")
            ingest.memoryLimit = fullBytes / 2
            ingest.run()
            let (p, status) = ingest.snapshot()
            let profile = try XCTUnwrap(p)
            XCTAssertEqual(status.state, .ended)
            XCTAssertTrue(status.capped, "chunk \(chunk)")
            XCTAssertEqual(status.droppedUnit, "lines")
            XCTAssertGreaterThan(status.dropped, 0)
            // The lines kept are the first ones: their counts, summed from the text, are the total.
            let kept = lines.count - status.dropped
            XCTAssertGreaterThan(kept, 0)
            let expected = lines.prefix(kept).reduce(0.0) { $0 + Double($1.split(separator: " ").last!)! }
            XCTAssertEqual(profile.total(metric: 0), expected, "chunk \(chunk)")
            XCTAssertEqual(status.samples, Int(expected))
            XCTAssertLessThan(profile.tree.count, full.builder.nodeCount)
        }
    }

    /// Austin text (samples with µs weights, a metadata header) and MOJO over a small cap:
    /// the austin profile is the lines before the cut, MOJO counts the bytes it did not read.
    func testAustinAndMojoStreamsStopAtTheCap() throws {
        let text = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("etl.austin"))))
        let ingest = LiveIngest(source: ChunkSource(text, chunk: 1000), name: "austin")
        ingest.memoryLimit = 200 * LiveIngest.bytesPerNode
        ingest.run()
        let (p, status) = ingest.snapshot()
        XCTAssertTrue(status.capped)
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        // Lines split on "\n" include the empty piece after the last newline: not a line.
        let lineCount = lines.count - (text.last == 0x0A ? 1 : 0)
        let kept = lineCount - status.dropped
        var expected = 0.0
        for l in lines.prefix(kept) where l.hasPrefix("P") {
            expected += Double(l.split(separator: " ").last!.split(separator: ",")[0])!
        }
        XCTAssertEqual(try XCTUnwrap(p).total(metric: 0), expected, accuracy: 1e-6)
        XCTAssertLessThan(kept, lineCount)

        let mojo = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("etl.mojo"))))
        let source = ChunkSource(mojo, chunk: 1000)
        let m = LiveIngest(source: source, name: "mojo")
        m.memoryLimit = 200 * LiveIngest.bytesPerNode
        m.run()
        let (_, ms) = m.snapshot()
        XCTAssertTrue(ms.capped)
        XCTAssertEqual(ms.droppedUnit, "bytes")
        XCTAssertGreaterThan(ms.dropped, 0)
        XCTAssertEqual(ms.dropped % 1000, mojo.count % 1000, "whole chunks dropped after the cut")
    }

    /// Under the cap nothing changes: the whole recording, no note.
    func testNoCapNoNote() throws {
        let text = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("etl.pyspy.txt"))))
        let ingest = LiveIngest(source: ChunkSource(text, chunk: 997), name: "whole")
        ingest.run()
        let (p, status) = ingest.snapshot()
        XCTAssertFalse(status.capped)
        XCTAssertEqual(status.dropped, 0)
        let whole = try FormatRegistry.load(path: Fixtures.sample("etl.pyspy.txt"))
        XCTAssertEqual(try XCTUnwrap(p).total(metric: 0), whole.total(metric: 0))
    }

    /// Hands out one batch of lines per simulated second, each cut in two mid-line, moving the
    /// clock to that second first: a long stream without the wait.
    final class SecondsSource: LiveSource {
        let seconds: [[UInt8]], clock: ManualClock, start: Double
        var second = 0, half = 0
        init(_ seconds: [[UInt8]], clock: ManualClock, start: Double) { self.seconds = seconds; self.clock = clock; self.start = start }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> LiveRead {
            guard second < seconds.count else { return .end }
            let bytes = seconds[second], cut = bytes.count / 2 + 3
            let part = half == 0 ? bytes[..<cut] : bytes[cut...]
            if half == 0 { clock.set(start + Double(second)) }
            precondition(part.count <= buffer.count)
            part.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: part.count) }
            if half == 1 { second += 1 }
            half = 1 - half
            return .data(part.count)
        }
        func cancel() {}
    }

    /// Issue 18: in a time window, stacks whose samples all left it are forgotten, so a stream
    /// of ever new stacks stays bounded. 60 simulated seconds of 150 new stacks each (two new
    /// frames a stack) through a 5 s window: the tree never holds much more than twice the
    /// window's stacks, frames go with their nodes, and the window shows exactly the lines of its
    /// last 5 seconds, summed here from the text.
    func testWindowForgetsStacksThatLeftIt() throws {
        let start = 2_000_000.0, window = 5, perSecond = 150
        var text: [[String]] = []
        for s in 0..<60 {
            text.append((0..<perSecond).map { j in
                "main;dispatch;handler_\(s)_\(j) (h.py:\(j % 7 + 1));leaf_\(s)_\(j) (l.py:\(j % 3 + 1)) \((s * 7 + j) % 5 + 1)"
            })
        }
        let clock = ManualClock(start)
        let source = SecondsSource(text.map { Array(($0.joined(separator: "\n") + "\n").utf8) }, clock: clock, start: start)
        let ingest = LiveIngest(source: source, name: "window", clock: { clock.now() })
        ingest.compactionFloor = 1000
        ingest.setWindow(window)
        ingest.run()
        let (p, status) = ingest.snapshot()
        let profile = try XCTUnwrap(p)
        XCTAssertEqual(status.state, .ended)
        XCTAssertEqual(status.window, window)
        // The last second is 59: the window holds seconds 55...59.
        let inWindow = text[(60 - window)...].joined()
        func count(_ line: String) -> Double { Double(line.split(separator: " ").last!)! }
        XCTAssertEqual(profile.total(metric: 0), inWindow.reduce(0) { $0 + count($1) })
        var leaves: [String: Double] = [:]
        for l in inWindow { leaves[String(l.split(separator: ";").last!.split(separator: " ")[0]), default: 0] += count(l) }
        var shown: [String: Double] = [:]
        for n in 1..<profile.tree.count where profile.tree.selfWeight[0][n] != 0 {
            shown[profile.frames.name(ofFrame: profile.tree.frame[n]), default: 0] += profile.tree.selfWeight[0][n]
        }
        XCTAssertEqual(shown, leaves)
        // A second's new nodes: two a stack. The window's (one more second when a rebuild comes
        // mid-second) plus main and dispatch are what a rebuild keeps; the tree grows to twice
        // that before the next, overshooting by at most one chunk (half a second).
        let windowNodes = (window + 1) * 2 * perSecond + 3
        let allNodes = 60 * 2 * perSecond + 3
        XCTAssertGreaterThan(ingest.peakNodes, windowNodes, "the stream outgrew the window")
        XCTAssertLessThanOrEqual(ingest.peakNodes, 2 * windowNodes + perSecond * 2)
        XCTAssertLessThan(ingest.peakNodes, allNodes / 3)
        // Frames go with their nodes: the live table holds at most those of the nodes kept.
        XCTAssertLessThanOrEqual(profile.frames.frameCount, ingest.peakNodes)
        XCTAssertEqual(status.samples, Int(text.joined().reduce(0) { $0 + count($1) }), "samples count the whole stream")
    }

    /// The cap is lifted once a window's rebuild has freed the memory: in a 3 s window a stream
    /// of ever new stacks that reached the cap grows again (from the next whole line), instead
    /// of dropping the rest of the stream. Every line has count 1, so each line is counted
    /// exactly once, as a sample or as dropped, with lines cut across reads and the cap.
    func testWindowRebuildLiftsTheCap() throws {
        let start = 3_000_000.0, perSecond = 150, seconds = 60
        var text: [[String]] = []
        for s in 0..<seconds {
            text.append((0..<perSecond).map { j in "main;dispatch;handler_\(s)_\(j) (h.py:\(j % 7 + 1));leaf_\(s)_\(j) (l.py:3) 1" })
        }
        let clock = ManualClock(start)
        let source = SecondsSource(text.map { Array(($0.joined(separator: "\n") + "\n").utf8) }, clock: clock, start: start)
        let ingest = LiveIngest(source: source, name: "window", clock: { clock.now() })
        // No rebuild from growth: only the cap's.
        ingest.compactionFloor = 1 << 30
        // About 12 seconds of this stream's stacks.
        ingest.memoryLimit = 12 * perSecond * (2 * LiveIngest.bytesPerNode + 2 * LiveIngest.bytesPerFrame)
        ingest.setWindow(3)
        ingest.run()
        let (p, status) = ingest.snapshot()
        let profile = try XCTUnwrap(p)
        XCTAssertEqual(status.state, .ended)
        XCTAssertGreaterThan(status.dropped, 0, "the cap was reached")
        XCTAssertEqual(status.samples + status.dropped, seconds * perSecond, "every line counted once")
        XCTAssertLessThan(status.dropped, seconds * perSecond / 3, "growth resumed after the rebuilds")
        XCTAssertLessThan(ingest.peakNodes, 2 * 12 * 2 * perSecond)
        // The window shows stacks of its last seconds.
        let recent = Set(text[(seconds - 3)...].joined().map { String($0.split(separator: ";").last!.split(separator: " ")[0]) })
        var shown = Set<String>()
        for n in 1..<profile.tree.count where profile.tree.selfWeight[0][n] != 0 {
            shown.insert(profile.frames.name(ofFrame: profile.tree.frame[n]))
        }
        XCTAssertFalse(shown.isEmpty)
        XCTAssertTrue(shown.isSubset(of: recent), "\(shown.subtracting(recent).prefix(3))")
    }
}
