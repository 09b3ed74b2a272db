import Foundation
import XCTest
@testable import ProfileModel

/// Issue 18: inputs built to break the readers (cut gzip'd JSON, endless devices, lines without
/// a newline, sizes beyond memory, very deep stacks) end as a profile or a located error.
final class HostileInputTests: XCTestCase {
    static var regressionDir: String { Fixtures.repoRoot.appendingPathComponent("Tests/Regression").path }

    /// Every regression input (crashers found by hand or by Scripts/fuzz_readers.py) loads to
    /// a profile or a located `ProfileError`; a crash would end the test process.
    func testRegressionInputsLoadOrFailLocated() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.regressionDir).filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 4)
        for f in files {
            do {
                let p = try load(Self.regressionDir + "/" + f)
                XCTAssertGreaterThan(p.tree.count, 0, f)
            } catch let e as ProfileError {
                XCTAssertNotNil(e.line ?? e.offset, "\(f): \(e) has no location")
                XCTAssertEqual(e.file, Self.regressionDir + "/" + f)
            }
        }
    }

    /// The gzip'd JSON files cut after their first 64 KiB of inflated data: the double free in
    /// `JSONInput.init`. The gzip error is what must come back, located in the compressed data.
    func testCutGzipJSONIsATruncatedGzipError() throws {
        for f in ["gecko-gz-cut.json", "trace-event-gz-cut.json", "speedscope-gz-cut.json.gz", "pyisession-gz-cut.pyisession"] {
            XCTAssertThrowsError(try load(Self.regressionDir + "/" + f), f) { e in
                let pe = e as? ProfileError
                XCTAssertTrue(pe?.message.contains("gzip") ?? false, "\(f): \(e)")
                XCTAssertNotNil(pe?.offset, f)
            }
        }
    }

    /// A source whose size hint is wrong (a file growing while it is read) and one whose read
    /// fails halfway: `JSONInput` grows past the hint, and its error path frees once (under
    /// AddressSanitizer a second free is a report, not luck).
    final class Lying: ByteSource {
        let bytes: [UInt8], hint: Int, failAt: Int?
        var pos = 0
        init(_ bytes: [UInt8], hint: Int, failAt: Int? = nil) { self.bytes = bytes; self.hint = hint; self.failAt = failAt }
        var sizeHint: Int? { hint }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            if let failAt, pos >= failAt { throw ProfileError("read failed: input/output error", offset: pos) }
            let n = min(buffer.count, bytes.count - pos, 4096)
            if n <= 0 { return 0 }
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + pos, byteCount: n) }
            pos += n
            return n
        }
    }

    func testJSONInputGrowsPastItsHintAndFailsCleanly() throws {
        let text = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("etl.speedscope.json"))))
        let input = try JSONInput(Lying(text, hint: 100))
        XCTAssertEqual(input.count, text.count)
        XCTAssertTrue(input.buffer.elementsEqual(text))
        XCTAssertThrowsError(try JSONInput(Lying(text, hint: 100, failAt: 8192))) { e in
            XCTAssertGreaterThanOrEqual((e as? ProfileError)?.offset ?? 0, 8192, "\(e)")
        }
        XCTAssertThrowsError(try withBudget(6000) { try JSONInput(Lying(text, hint: 0)) }) { e in
            XCTAssertTrue("\(e)".contains("more than the limit"), "\(e)")
        }
    }

    /// `/dev/zero` never ends: refused after the first bytes, with or without `--format`.
    func testEndlessDevicesAreRefused() throws {
        for (path, format) in [("/dev/zero", nil), ("/dev/zero", "speedscope"), ("/dev/zero", "collapsed"),
                               ("/dev/urandom", nil), ("/dev/zero", "pprof"), ("/dev/zero", "pstats")] as [(String, String?)] {
            guard FileManager.default.fileExists(atPath: path) else { continue }
            XCTAssertThrowsError(try load(path, format: format), "\(path) \(format ?? "")") { e in
                XCTAssertTrue("\(e)".contains("never ends"), "\(e)")
            }
        }
    }

    // MARK: line length

    func withMaxLine<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        let saved = LineSplitter.defaultMaxLength
        LineSplitter.defaultMaxLength = n
        defer { LineSplitter.defaultMaxLength = saved }
        return try body()
    }

    /// A line over the cap in a file is an error at its line, for every line-based reader.
    func testOverlongLineInAFileIsALocatedError() throws {
        let long = String(repeating: "x", count: 5000)
        let inputs: [(String, String)] = [
            ("collapsed", "main;a 1\nmain;b 2\nmain;\(long) 3\nmain;c 4\n"),
            ("austin", "# austin: 3.7\nP1;T1;a.py:main:1 5\nP1;T1;a.py:\(long):2 5\n"),
            ("perf-script", "app 1 1.0: cycles:\n\t1 main (/bin/app)\n\t2 \(long) (/bin/app)\n\n"),
            ("callgrind", "# callgrind format\nevents: Ir\nfn=\(long)\n1 5\n"),
        ]
        try withMaxLine(1000) {
            for (format, text) in inputs {
                // In chunks of 7 bytes too: the cap must hold for a line carried over chunks.
                for chunk in [1 << 20, 7] {
                    XCTAssertThrowsError(try FormatRegistry.read(source: MemorySource(Array(text.utf8), chunk: chunk), name: "t", format: format), format) { e in
                        let pe = e as? ProfileError
                        XCTAssertEqual(pe?.line, 3, "\(format) \(chunk): \(e)")
                        XCTAssertTrue(pe?.message.contains("--max-line") ?? false, "\(e)")
                    }
                }
                // Under a cap above it the file reads.
                let longest = text.split(separator: "\n").map(\.utf8.count).max()!
                try withMaxLine(longest + 1) {
                    XCTAssertNoThrow(try FormatRegistry.read(source: MemorySource(Array(text.utf8), chunk: 7), name: "t", format: format), format)
                }
            }
        }
    }

    /// The readers added with Tachyon, importtime and memray: on their real files, a cap just
    /// under the longest line makes that line a located error (it once reached the parser as a
    /// negative length), and the cap at its length reads the file.
    func testOverlongLineInTheNewTextReaders() throws {
        let golden = Fixtures.repoRoot.appendingPathComponent("Tests/Golden").path
        for (format, file) in [("importtime", "importtime/stdlib-mix.py3.12.1.txt"), ("memray-csv", "memray-csv/etl.memray.csv"),
                               ("tachyon-jsonl", "tachyon-jsonl/etl.tachyon.jsonl")] {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: golden + "/" + file)))
            let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            let longest = lines.map(\.count).max()!
            let at = lines.firstIndex { $0.count == longest }! + 1
            for chunk in [1 << 20, 7] {
                try withMaxLine(longest - 1) {
                    XCTAssertThrowsError(try FormatRegistry.read(source: MemorySource(bytes, chunk: chunk), name: file, format: format), file) { e in
                        XCTAssertEqual((e as? ProfileError)?.line, at, "\(file) \(chunk): \(e)")
                        XCTAssertTrue((e as? ProfileError)?.message.contains("--max-line") ?? false, "\(e)")
                    }
                }
                try withMaxLine(longest) {
                    XCTAssertNoThrow(try FormatRegistry.read(source: MemorySource(bytes, chunk: chunk), name: file, format: format), file)
                }
            }
        }
    }

    /// A live stream counts an overlong line as a bad line and goes on; memory stays bounded
    /// (the splitter never holds more than the cap) on a stream without any newline.
    func testOverlongLineInAStreamIsABadLine() throws {
        try withMaxLine(1000) {
            let p = StreamParser(kind: .folded)
            try p.feed(bytes("main;a 1\n"))
            let junk = [UInt8](repeating: 0x61, count: 4096)
            for _ in 0..<100 { try junk.withUnsafeBytes { try p.feed($0) } }      // 400 KB, no newline
            try p.feed(bytes("\nmain;b 2\n"))
            try p.finish()
            XCTAssertEqual(p.samples, 3)
            XCTAssertEqual(p.garbage, 1)
        }
    }

    /// A NUL in the first 64 KiB of a stream is one bad line, not the end of the stream.
    func testNULInAStreamPrefixIsABadLine() throws {
        var text = ""
        for i in 0..<200 { text += "main;f\(i % 7) 1\n" }
        let prefix = Array(text.utf8) + [0, 0x0A] + Array("main;g 5\n".utf8)
        XCTAssertEqual(StreamParser.sniff(prefix, complete: false).0, .folded)
        let p = StreamParser(kind: .folded)
        try prefix.withUnsafeBytes { try p.feed($0) }
        try p.finish()
        XCTAssertEqual(p.samples, 205)
        XCTAssertEqual(p.garbage, 1)
        // Binary data is still not folded text.
        var rng = SeededRNG(seed: 7)
        let noise = (0..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        XCTAssertNotEqual(StreamParser.sniff(noise, complete: true).0, .folded)
    }

    /// A NUL inside a folded line (in a frame name, not a line of its own) makes the line a bad
    /// line, in a file and in a live stream: no frame name carries the NUL, and the rest of the
    /// real py-spy recording reads as before. The expected totals are summed from the raw lines.
    func testNULInsideAFoldedLineIsABadLine() throws {
        let original = Array(try String(contentsOfFile: Fixtures.sample("etl.pyspy.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init))
        XCTAssertGreaterThan(original.count, 20)
        func count(_ l: String) -> Double { Double(l.split(separator: " ").last!)! }
        // Damage three lines: a NUL in the middle of a frame, one ending a frame, one in the leaf.
        var damaged: [[UInt8]] = original.map { Array($0.utf8) }
        var lost = 0.0
        for (i, at) in [(3, 0.5), (10, 0.25), (17, 0.9)] {
            var b = damaged[i]
            let stackEnd = b.lastIndex(of: 0x20)!
            b[Int(Double(stackEnd) * at)] = 0
            damaged[i] = b
            lost += count(original[i])
        }
        let text: [UInt8] = damaged.reduce(into: []) { $0 += $1; $0.append(0x0A) }
        let whole = original.reduce(0) { $0 + count($1) }
        for chunk in [1, 7, 1 << 20] {
            let p = try FormatRegistry.load(source: MemorySource(text, chunk: chunk), name: "nul", format: "collapsed")
            XCTAssertEqual(p.tree.totalWeight[0][0], whole - lost, "chunk \(chunk)")
            XCTAssertTrue(p.warnings.contains { $0.hasPrefix("3 line(s)") && $0.contains("first at line 4") }, "\(p.warnings)")
            XCTAssertFalse((0..<p.frames.frameCount).contains { p.frames.name(ofFrame: Int32($0)).utf8.contains(0) })
        }
        let live = StreamParser(kind: .folded)
        try text.withUnsafeBytes { try live.feed($0) }
        try live.finish()
        XCTAssertEqual(Double(live.samples), whole - lost)
        XCTAssertEqual(live.garbage, 3)
    }

    /// A folded file whose first line is over 64 KiB is recognised without `--format`.
    func testFoldedFileWithALongFirstLineSniffs() throws {
        let frames = (0..<20000).map { "function_\($0)" }
        let first = frames.joined(separator: ";") + " 7\n"
        XCTAssertGreaterThan(first.utf8.count, 1 << 16)
        let text = first + "main;x 3\n"
        let p = try FormatRegistry.load(source: MemorySource(Array(text.utf8), chunk: 1000), name: "long")
        XCTAssertEqual(p.format, "collapsed")
        XCTAssertEqual(p.tree.totalWeight[0][0], 10)
    }

    // MARK: memory budget

    func withBudget<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        let saved = MemoryBudget.limit
        MemoryBudget.limit = n
        defer { MemoryBudget.limit = saved }
        return try body()
    }

    func assertOverBudget(_ body: @autoclosure () throws -> Any, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), what, file: file, line: line) { e in
            let pe = e as? ProfileError
            XCTAssertTrue(pe?.message.hasPrefix("needs ") ?? false, "\(what): \(e)", file: file, line: line)
            XCTAssertTrue(pe?.message.contains("more than the limit (--max-memory") ?? false, "\(what): \(e)", file: file, line: line)
            XCTAssertNotNil(pe?.offset, what, file: file, line: line)
        }
    }

    /// Inputs read whole (JSON, pprof, pstats) are refused when they outgrow the budget, from
    /// a file's size up front or while a stream (a gzip bomb) inflates.
    func testWholeInputReadersRespectTheBudget() throws {
        let budget = 200_000
        try withBudget(budget) {
            // Regular files: the size is known up front.
            for f in ["etl.speedscope.json", "etl.prof"] {
                let size = try XCTUnwrap(FileSource.sizeOf(path: Fixtures.sample(f)))
                XCTAssertLessThan(size, budget, "the file itself fits")
                XCTAssertNoThrow(try load(Fixtures.sample(f)), f)
            }
            // A stream of JSON, and a gzip bomb of a pstats and a pprof-looking input.
            let json = Array("{\"$schema\": \"https://www.speedscope.app/file-format-schema.json\", \"x\": \"".utf8)
                + [UInt8](repeating: 0x61, count: 300_000) + Array("\"}".utf8)
            assertOverBudget(try FormatRegistry.read(source: MemorySource(json), name: "s", format: "speedscope"), "speedscope stream")
            let pstats = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("etl.prof"))))
            let padded = pstats + [UInt8](repeating: 0, count: 300_000)
            assertOverBudget(try FormatRegistry.read(source: MemorySource(padded), name: "p", format: "pstats"), "pstats stream")
            assertOverBudget(try FormatRegistry.read(source: MemorySource([0x0A, 0x00] + [UInt8](repeating: 0, count: 300_000)), name: "p", format: "pprof"), "pprof stream")
        }
    }

    /// pprof sample types are capped as callgrind's events are, and samples × types is checked
    /// against the budget before the tree is built.
    func testPprofSampleTypesAreCapped() throws {
        var pb = Perftools_Profiles_Profile()
        pb.stringTable = [Data(), Data("t".utf8), Data("u".utf8)]
        pb.sampleType = (0..<(PprofReader.maxSampleTypes + 1)).map { _ in
            var v = Perftools_Profiles_ValueType(); v.type = 1; v.unit = 2; return v
        }
        XCTAssertThrowsError(try PprofReader.checkSize(pb)) { e in
            XCTAssertTrue("\(e)".contains("sample types (at most \(PprofReader.maxSampleTypes)"), "\(e)")
        }
        pb.sampleType = Array(pb.sampleType.prefix(64))
        pb.sample = (0..<1000).map { _ in Perftools_Profiles_Sample() }
        XCTAssertNoThrow(try PprofReader.checkSize(pb))
        try withBudget(100_000) {
            assertOverBudget(try PprofReader.checkSize(pb), "64 types × 1000 samples is 512 KB")
        }
    }

    func testBudgetSizesParseAndPrint() {
        XCTAssertEqual(MemoryBudget.parse("4G"), 4 << 30)
        XCTAssertEqual(MemoryBudget.parse("512m"), 512 << 20)
        XCTAssertEqual(MemoryBudget.parse("1.5GiB"), 3 << 29)
        XCTAssertEqual(MemoryBudget.parse("123"), 123)
        XCTAssertNil(MemoryBudget.parse("-1G"))
        XCTAssertNil(MemoryBudget.parse("lots"))
        XCTAssertEqual(MemoryBudget.describe(7_200_000_000), "7.2 GB")
        XCTAssertEqual(MemoryBudget.describe(3_000_000), "3 MB")
    }

    // MARK: deep stacks

    /// Function totals on very deep stacks (where the Bloom filter is full and the exact walk
    /// takes over) equal a once-per-stack count over the raw stacks.
    func testDeepStackTotalsMatchRawStacks() throws {
        var rng = SeededRNG(seed: 18)
        var lines: [[String]] = []
        let chain = (0..<6000).map { "f\($0)" }
        lines.append(chain)
        lines.append(Array(chain.prefix(3000)) + ["f10", "f11", "g"])                 // recursion deep down
        lines.append(Array(chain.prefix(4000)) + chain.prefix(4000))                  // the whole path twice
        for _ in 0..<30 {
            let depth = 2000 + Int(rng.next() % 3000)
            lines.append((0..<depth).map { _ in "f\(rng.next() % 2500)" })          // random recursion
        }
        var text = ""
        var reference: [String: Double] = [:]
        for (i, l) in lines.enumerated() {
            let w = Double(i + 1)
            text += l.joined(separator: ";") + " \(Int(w))\n"
            for f in Set(l) { reference[f, default: 0] += w }
        }
        let p = try FormatRegistry.load(source: MemorySource(Array(text.utf8)), name: "deep", format: "collapsed")
        var ours: [String: Double] = [:]
        for f in 0..<p.functions.count { ours[p.frames.name(ofFunction: Int32(f)), default: 0] += p.functions.totalWeight[0][f] }
        XCTAssertEqual(ours.count, reference.count)
        for (f, w) in reference where ours[f] != w { XCTFail("\(f): \(ours[f] ?? -1) != \(w)"); break }
    }

    /// A 1e5-deep stack of distinct functions (11 s before the function table's walk became
    /// linear; its speed is measured in RELIABILITY.md, not here): every function on it counts once.
    func testDeepStackOfDistinctFunctions() throws {
        let depth = 100_000
        let text = (0..<depth).map { "fn\($0)" }.joined(separator: ";") + " 1\n"
        let p = try FormatRegistry.load(source: MemorySource(Array(text.utf8)), name: "deep", format: "collapsed")
        XCTAssertEqual(p.functions.count, depth)
        XCTAssertEqual(p.functions.totalWeight[0].reduce(0, +), Double(depth))
    }

    private func bytes(_ s: String) -> UnsafeRawBufferPointer {
        let a = Array(s.utf8)
        let p = UnsafeMutableRawBufferPointer.allocate(byteCount: a.count, alignment: 1)
        p.copyBytes(from: a)
        return UnsafeRawBufferPointer(p)      // leaked: a few bytes per test
    }
}

/// Inputs the fuzzing of stop 34 found: numbers at the ends of their types, negative weights, and
/// stacks deep enough to make a per-node walk up the stack quadratic.
final class ExtremeInputTests: XCTestCase {
    /// `a;b;c N` lines into stacks of frame texts (independent of the reader).
    static func foldedStacks(_ text: String) -> [([String], Double)] {
        text.split(separator: "\n").compactMap { line in
            guard let sp = line.lastIndex(of: " "), let w = Double(line[line.index(after: sp)...]) else { return nil }
            return (line[..<sp].split(separator: ";").map(String.init), w)
        }
    }

    /// Collapse recursion worked out on raw stacks: a frame whose function (its text without
    /// the line) is already on the new stack cuts the stack back to that outer frame.
    static func collapsedByHand(_ stacks: [([String], Double)]) -> [String: Double] {
        func function(_ frame: String) -> String {
            guard frame.hasSuffix(")"), let colon = frame.lastIndex(of: ":"), let open = frame.lastIndex(of: "("), colon > open else { return frame }
            return String(frame[..<colon]) + ")"
        }
        var out: [String: Double] = [:]
        for (frames, w) in stacks {
            var path: [String] = [], fns: [String] = [], at: [String: Int] = [:]
            for f in frames {
                let fn = function(f)
                if let i = at[fn] {
                    for gone in fns[(i + 1)...] { at[gone] = nil }
                    path.removeSubrange((i + 1)...); fns.removeSubrange((i + 1)...)
                } else {
                    at[fn] = path.count
                    path.append(f); fns.append(fn)
                }
            }
            out[path.joined(separator: ";"), default: 0] += w
        }
        return out
    }

    func testCollapseRecursionMatchesTheRawStacksOnDeepInputs() throws {
        // Real recursive shapes (deep, with lines), and a chain of 30,000 distinct functions
        // with recursion at its end (a walk up the path per node took minutes on it).
        var inputs: [(String, String)] = []
        for f in ["Tests/Deep/deep.folded", "Tests/Recursive/walk.pyspy.txt"] {
            inputs.append((f, try String(contentsOfFile: Fixtures.repoRoot.appendingPathComponent(f).path, encoding: .utf8)))
        }
        // A function placed deeper in one branch (d under the cut-back b) and found again at
        // its first depth in the next (d under d), in either order of the visit.
        inputs.append(("restore", "a;b;c;d;b;d 5\na;b;c;d;d 1\n"))
        inputs.append(("restore, other order", "a;b;c;d;b;d 1\na;b;c;d;d 5\n"))
        let chain = (0..<30_000).map { "f\($0)" }
        inputs.append(("chain", (chain + ["f5", "g", "f29999", "h"]).joined(separator: ";") + " 3\n" + chain.joined(separator: ";") + ";f7 2\n"))
        for (label, text) in inputs {
            let p = try FormatRegistry.load(source: MemorySource(Array(text.utf8), chunk: 1 << 20), name: label)
            let want = Self.collapsedByHand(Self.foldedStacks(text))
            // Both passes (the one in id order walks up the chain: quadratic, left out there).
            for depthFirst in label == "chain" ? [true] : [false, true] {
                let got = p.collapsingRecursion(nil, depthFirst: depthFirst).stacks(metric: 0) { Exporter.frameText(p, $0) }
                XCTAssertEqual(got.count, want.count, "\(label) depth first \(depthFirst)")
                XCTAssertNil(GoldenTests.difference(got, want), "\(label) depth first \(depthFirst)")
            }
        }
    }

    func testExtremeNumbersAreRefusedOrShownNotTrapped() throws {
        // pprof export: a weight past Int64 is a located refusal.
        let huge = try FormatRegistry.load(source: MemorySource(Array("a 10000000000000000000\n".utf8), chunk: 1 << 20), name: "x")
        XCTAssertThrowsError(try Exporter.pprof(huge)) { e in
            XCTAssertTrue("\(e)".contains("does not fit"), "\(e)")
        }
        // pprof's durations and times at the ends of Int64 still print.
        for ns in [Int64.max, Int64.min, 0, -1] {
            XCTAssertFalse(PprofReader.formatNanos(ns).isEmpty)
            XCTAssertFalse(PprofReader.formatTime(ns).isEmpty)
        }
        XCTAssertEqual(PprofReader.formatNanos(1_500_000_000), "1.500 s")
        XCTAssertEqual(PprofReader.formatTime(0), "1970-01-01T00:00:00Z")
    }

    /// A function with only negative weight (austin's memory mode frees) still gets its row,
    /// named, in a diff.
    func testDiffOfNegativeWeights() throws {
        let text = "P1;T1;a.py:f:1;a.py:g:2 -8\nP1;T1;a.py:f:1 3\n"
        let p = try FormatRegistry.load(source: MemorySource(Array(text.utf8), chunk: 1 << 20), name: "neg.austin")
        let d = try RunsDiff(base: [p], baseFiles: ["a"], new: [p], newFiles: ["b"])
        XCTAssertTrue(d.rows.contains { $0.name == "g" }, "\(d.rows.map(\.name))")
    }

    /// The diff's tree lists every node with its whole path: a stack 3,000 frames deep would
    /// hold ~4.5M names; whole depth levels past the limit are left out, with a note.
    func testDiffTreeOfAVeryDeepStackIsBounded() throws {
        let deep = (0..<3_000).map { "f\($0)" }.joined(separator: ";") + " 10\n"
        let a = try FormatRegistry.load(source: MemorySource(Array(deep.utf8), chunk: 1 << 20), name: "a")
        let b = try FormatRegistry.load(source: MemorySource(Array("x;y 10\n".utf8), chunk: 1 << 20), name: "b")
        let d = try RunsDiff(base: [a], baseFiles: ["a"], new: [b], newFiles: ["b"])
        let names = d.nodes.reduce(0) { $0 + $1.path.count }
        XCTAssertLessThanOrEqual(names, RunsDiff.maxTreeNames)
        XCTAssertGreaterThan(names, RunsDiff.maxTreeNames / 2)
        let deepest = d.nodes.map(\.path.count).max() ?? 0
        XCTAssertTrue(d.notes.contains { $0.contains("deeper than \(deepest) frames left out") }, "\(d.notes)")
        // Every level up to there is whole: the chain's node at each depth is in the tree.
        XCTAssertEqual(Set(d.nodes.filter { $0.path.first == "f0" }.map(\.path.count)).count, deepest)
    }
}
