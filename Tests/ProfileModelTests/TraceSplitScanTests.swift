import Foundation
import XCTest
@testable import ProfileModel

/// A big trace's event array is read in two halves, the second on the other core from a guessed
/// element boundary (`},{"ph":` past the middle). Whatever the guess, the result must be the
/// one-core read's to the id: nodes, frames, weights, warnings and metadata.
final class TraceSplitScanTests: XCTestCase {
    private func assertSame(_ a: ProfileBuilder, _ b: ProfileBuilder, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(a.nodeCount, 1, what, file: file, line: line)
        XCTAssertEqual(a.parent, b.parent, what, file: file, line: line)
        XCTAssertEqual(a.frame, b.frame, what, file: file, line: line)
        XCTAssertEqual(a.selfWeight, b.selfWeight, what, file: file, line: line)
        XCTAssertEqual(a.frames.frameCount, b.frames.frameCount, what, file: file, line: line)
        XCTAssertEqual((0..<a.frames.frameCount).map { a.frames.frame(Int32($0)) },
                       (0..<b.frames.frameCount).map { b.frames.frame(Int32($0)) }, what, file: file, line: line)
        XCTAssertEqual(a.frames.functionLine, b.frames.functionLine, what, file: file, line: line)
        XCTAssertEqual(a.frames.frameFunction, b.frames.frameFunction, what, file: file, line: line)
        XCTAssertEqual(a.warnings, b.warnings, what, file: file, line: line)
        XCTAssertEqual(a.metadata.map { "\($0.0)=\($0.1)" }, b.metadata.map { "\($0.0)=\($0.1)" }, what, file: file, line: line)
        XCTAssertEqual(a.sampleCount, b.sampleCount, what, file: file, line: line)
        XCTAssertEqual(a.mergedThreads, b.mergedThreads, what, file: file, line: line)
    }

    private let allOptions: [ReadOptions] = {
        var lines = ReadOptions(), threads = ReadOptions()
        lines.mergeLines = true
        threads.mergeThreads = true
        return [ReadOptions(), lines, threads]
    }()

    /// Reads `bytes` on one core and split at any size; `taken` is whether the split must be
    /// taken (true), found wrong or failed and thrown away (false).
    private func assertSplitReadsAsOne(_ bytes: [UInt8], taken: Bool, _ what: String,
                                       file: StaticString = #filePath, line: UInt = #line) throws {
        for options in allOptions {
            let one = try TraceEventReader.parsed(MemorySource(bytes), options: options, splitFrom: .max)
            XCTAssertNil(one.splitTaken, file: file, line: line)
            let two = try TraceEventReader.parsed(MemorySource(bytes), options: options, splitFrom: 0)
            XCTAssertEqual(two.splitTaken, taken, what, file: file, line: line)
            assertSame(try one.build(), try two.build(), "\(what) lines \(options.mergeLines) threads \(options.mergeThreads)",
                       file: file, line: line)
        }
    }

    private func deepTrace() throws -> String {
        try String(contentsOfFile: Fixtures.repoRoot.appendingPathComponent("Tests/Deep/deep.trace.json").path, encoding: .utf8)
    }

    func testRealTraceSplitReadsAsOne() throws {
        try assertSplitReadsAsOne(Array(try deepTrace().utf8), taken: true, "deep.trace.json")
    }

    /// Names, pids, tids, threads and frames new in the second half, some seen in the first too;
    /// metadata naming threads and processes in either half (the later name wins); a B in the
    /// first half closed by an E in the second; string pids, escaped names, `args` with a file
    /// and line (the general path), events without a time, other phases, an unmatched end.
    func testMixedEventsSplitReadAsOne() throws {
        var events: [String] = []
        let n = 4000
        events.append(#"{"ph":"M","name":"process_name","pid":7,"tid":0,"args":{"name":"early name"}}"#)
        events.append(#"{"ph":"B","name":"outer (o.py:1)","pid":"p2","tid":"t1","ts":0}"#)
        for i in 0..<n {
            let late = i >= n / 2
            let ts = i * 10
            let tid = late && i % 3 == 0 ? 99 : i % 4
            events.append(#"{"ph":"X","name":"f\#(i % (late ? 211 : 97)) (m\#(i % 5).py:\#(i % 13 + 1))","pid":1,"tid":\#(tid),"ts":\#(ts),"dur":\#(i % 7 + 1)}"#)
            events.append(#"{"ph":"X","name":"g\#(i % 31) (m.py:2)","pid":1,"tid":\#(tid),"ts":\#(ts + 1),"dur":\#(i % 3 + 1)}"#)
            if i % 17 == 0 {
                events.append(#"{"ph":"B","name":"work","pid":"p2","tid":"t1","ts":\#(ts),"args":{"filename":"w\#(i % 3).py","line":\#(i % 9 + 1)}}"#)
                events.append(#"{"ph":"E","name":"work","pid":"p2","tid":"t1","ts":\#(ts + 4)}"#)
            }
            if i % 29 == 0 { events.append(#"{"ph":"X","name":"caf\u00e9 \#(i % 11)","pid":1,"tid":2,"ts":\#(ts),"dur":2}"#) }
            if i % 101 == 0 { events.append(#"{"ph":"X","name":"no time","pid":1,"tid":2}"#) }
            if i % 131 == 0 { events.append(#"{"ph":"i","name":"mark","pid":1,"tid":2,"ts":\#(ts)}"#) }
            if i == n / 2 + 50 {
                events.append(#"{"ph":"M","name":"thread_name","pid":1,"tid":99,"args":{"name":"late thread"}}"#)
                events.append(#"{"ph":"M","name":"process_name","pid":7,"tid":0,"args":{"name":"late name"}}"#)
                events.append(#"{"ph":"M","name":"process_name","pid":"p2","tid":"t1","args":{"name":"second"}}"#)
                events.append(#"{"ph":"E","name":"nothing open","pid":1,"tid":3,"ts":\#(ts)}"#)
            }
            if i == n / 3 { events.append(#"{"ph":"X","name":"p7","pid":7,"tid":5,"ts":\#(ts),"dur":3}"#) }
        }
        events.append(#"{"ph":"E","name":"outer (o.py:1)","pid":"p2","tid":"t1","ts":\#(n * 10)}"#)
        let text = #"{"traceEvents":["# + events.joined(separator: ",") + #"],"displayTimeUnit":"ms"}"#
        try assertSplitReadsAsOne(Array(text.utf8), taken: true, "mixed events")
        // The bare-array form, with no closing bracket (a cut trace): the second half does not
        // end cleanly, so the first reads on.
        try assertSplitReadsAsOne(Array(("[" + events.joined(separator: ",")).utf8), taken: false, "cut array")
        try assertSplitReadsAsOne(Array(("[" + events.joined(separator: ",") + "]").utf8), taken: true, "array")
    }

    /// `},{"ph":` just past the middle that is not between two events of the array: inside an
    /// `args` list. The second half's read stops at that list's end; the first half never ends
    /// an element there, so the split is thrown away.
    func testWrongGuessIsThrownAway() throws {
        var text = try deepTrace()
        let quarter = text.utf8.index(text.utf8.startIndex, offsetBy: text.utf8.count / 4)
        let at = try XCTUnwrap(text.range(of: #"},{"ph":"#, range: quarter..<text.endIndex)).lowerBound
        let pad = String(repeating: "x", count: text.utf8.count + 10_000)
        let nested = #",{"ph":"X","name":"nested (n.py:1)","pid":1,"tid":1,"ts":1,"dur":1,"args":{"pad":""# + pad
            + #"","list":[{"a":1},{"ph":"X","name":"inner","pid":1,"tid":1,"ts":2,"dur":1}]}}"#
        text.insert(contentsOf: nested, at: text.index(after: at))
        let bytes = Array(text.utf8)
        // The guess is the pattern in the list.
        let mid = bytes.count / 2
        let found = try XCTUnwrap(String(decoding: bytes[mid...], as: UTF8.self).range(of: #"},{"ph":"#))
        XCTAssertTrue(String(decoding: bytes[mid...], as: UTF8.self)[found.upperBound...].hasPrefix(#""X","name":"inner""#))
        try assertSplitReadsAsOne(bytes, taken: false, "pattern inside args")
    }

    /// A second half that fails to parse is thrown away: the first half reads on into the same
    /// error the one-core read gives.
    func testBadSecondHalfGivesTheOneCoreError() throws {
        var text = try deepTrace()
        let threeQuarters = text.utf8.index(text.utf8.startIndex, offsetBy: text.utf8.count * 3 / 4)
        let at = try XCTUnwrap(text.range(of: #"},{"ph":"#, range: threeQuarters..<text.endIndex)).lowerBound
        text.insert(contentsOf: "}x", at: text.index(after: at))
        let bytes = Array(text.utf8)
        func error(splitFrom: Int) -> String {
            do {
                _ = try TraceEventReader.parsed(MemorySource(bytes), options: ReadOptions(), splitFrom: splitFrom).build()
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertNotEqual(error(splitFrom: .max), "no error")
        XCTAssertEqual(error(splitFrom: 0), error(splitFrom: .max))
    }

    /// A file past the default size, read from disk as the CLI does (mapped, its pages handed
    /// back as each half passes them): split, and as one. The real trace's events repeated one
    /// after another in time, on its threads (big ones: each next thread is ordered on the
    /// other core) and on others.
    func testBigFileSplitsByDefault() throws {
        let text = try deepTrace()
        let open = try XCTUnwrap(text.range(of: "[")).upperBound, close = try XCTUnwrap(text.range(of: "]", options: .backwards)).lowerBound
        let body = String(text[open..<close])
        func later(_ body: String, by offset: Int) -> String {
            let pieces = body.components(separatedBy: #""ts":"#)
            return pieces.dropFirst().reduce(pieces[0]) { out, piece in
                let digits = piece.prefix { $0.isNumber }
                return out + #""ts":"# + String(Int(digits)! + offset) + piece.dropFirst(digits.count)
            }
        }
        var copies: [String] = []
        var size = 0
        while size < TraceParser.splitFrom + (1 << 20) {
            var copy = later(body, by: copies.count * 1_000_000)
            if copies.count % 3 == 0 { copy = copy.replacingOccurrences(of: #""pid":1,"#, with: #""pid":\#(copies.count + 1),"#) }
            copies.append(copy)
            size += copy.utf8.count
        }
        let bytes = Array((#"{"traceEvents":["# + copies.joined(separator: ",") + "]}").utf8)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-trace-split-\(getpid()).json")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let fs = try FileSource(path: url.path)
        let (prefix, _) = try FormatRegistry.readPrefix(fs, 1 << 16)
        let two = try TraceEventReader.parsed(PrefixedSource(prefix: prefix, rest: fs), options: ReadOptions())
        XCTAssertEqual(two.splitTaken, true)
        let one = try TraceEventReader.parsed(MemorySource(bytes), options: ReadOptions(), splitFrom: .max)
        assertSame(try one.build(), try two.build(), "big file")
    }
}
