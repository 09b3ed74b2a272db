import Foundation
import XCTest
@testable import ProfileModel

final class FoldedReaderTests: XCTestCase {
    func parse(_ text: String, chunk: Int = 1 << 20) throws -> Profile {
        try FormatRegistry.load(source: MemorySource(Array(text.utf8), chunk: chunk), name: "t.txt")
    }

    func stacks(_ p: Profile, metric: Int = 0) -> [String: Double] {
        var d: [String: Double] = [:]
        for n in 1..<p.tree.count where p.tree.selfWeight[metric][n] != 0 {
            let names = p.tree.path(to: Int32(n)).map { p.frames.frame(p.tree.frame[Int($0)]).name }
            d[names.joined(separator: ";"), default: 0] += p.tree.selfWeight[metric][n]
        }
        return d
    }

    /// The byte-level frame splitter (the reader's) must agree with the String one (kept as
    /// the definition, and used for non-ASCII text) on every frame of every folded corpus
    /// file and the bundled samples, plus edge cases of each rule.
    func testByteFrameSplitterAgreesWithStringOne() throws {
        var texts: Set<String> = [
            "thread (0x7f01)", "tid:12", "tid:", "tid:1a", "process 12:\"python x.py\"", "process :x", "process 1a:x",
            "f (a.py:10)", "f (a.py)", "f (a.py:)", "f (a.py:1x)", "f (0x10:3)", "f (<string>:3)", "f (<>)", "f (<)",
            " (a.py:1)", "f  (a b.py:1)", "g (x) (a.py:2)", "f (a.py:99999999999999999999999)", "(a.py:1)",
            "a.py:f:12", ":f:12", "a.py::12", "a.py:f:", "C:\\app\\x.py:Thread.run:12", "<frozen x>:f:3",
            "do_syscall_64_[k]", "_[k]", "plain", "", ")", " (", "x (", "f (a.py:10)\r", "ünïcode (a.py:3)",
        ]
        let edgeCases = texts.count
        var files = [Fixtures.sample("etl.pyspy.txt")]
        if let dir = Fixtures.corpusDir {
            files += try Fixtures.expected().filter { $0.format == "folded" }.map { dir + "/" + $0.path }
        } else {
            print("SKIPPED (corpus part): ../shared/corpus is absent")
        }
        for f in files {
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: f)), as: UTF8.self)
            for line in text.split(whereSeparator: \.isNewline) {
                guard let sp = line.lastIndex(of: " ") else { continue }
                for frame in line[..<sp].split(separator: ";") { texts.insert(String(frame)) }
            }
        }
        // The files' frames came in: the bundled sample alone has 57 distinct frame texts.
        XCTAssertGreaterThan(texts.count, Fixtures.corpusDir == nil ? edgeCases + 50 : 100)
        for t in texts {
            let bytes = Array(t.utf8)
            let fast = bytes.withUnsafeBytes { FoldedParser.parseFrame($0) }
            XCTAssertEqual(fast, FoldedParser.parseFrame(t), t)
        }
    }

    func testChunkBoundariesDoNotChangeTheResult() throws {
        let path = Fixtures.sample("etl.pyspy.txt")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let whole = try FormatRegistry.load(source: MemorySource(bytes), name: path)
        XCTAssertGreaterThan(whole.tree.count, 10)
        for chunk in [1, 2, 7, 4096] {
            let p = try FormatRegistry.load(source: MemorySource(bytes, chunk: chunk), name: path)
            XCTAssertEqual(stacks(p), stacks(whole), "chunk \(chunk)")
            XCTAssertEqual(p.total(metric: 0), whole.total(metric: 0))
        }
        // Independent count: the sum of the numbers after the last space on every line.
        let text = String(decoding: bytes, as: UTF8.self)
        let expected = text.split(separator: "\n").reduce(0.0) { $0 + Double($1.split(separator: " ").last!)! }
        XCTAssertEqual(whole.total(metric: 0), expected)
    }

    func testFunctionsMergeLinesAndCountRecursionOnce() throws {
        let p = try parse("""
            main (app.py:10);work (app.py:20);work (app.py:21);leaf (app.py:30) 3
            main (app.py:10);work (app.py:22) 2
            main (app.py:11);other (lib.py:5) 5

            """)
        let work = try XCTUnwrap(p.functionIndex(name: "work"))
        XCTAssertEqual(p.functions.totalWeight[0][work], 5, "once per stack even though work appears twice")
        XCTAssertEqual(p.functions.selfWeight[0][work], 2)
        let main = try XCTUnwrap(p.functionIndex(name: "main"))
        XCTAssertEqual(p.functions.totalWeight[0][main], 10)
        XCTAssertEqual(p.frames.file(ofFunction: Int32(main)), "app.py")
        XCTAssertEqual(p.total(metric: 0), 10)
        // Caller -> callee edges carry weight; the recursive work->work edge is kept too.
        let leaf = try XCTUnwrap(p.functionIndex(name: "leaf"))
        XCTAssertEqual(p.callers(of: Int32(leaf)), [CallEdge(function: Int32(work), weight: [3], calls: nil)])
        // work calls itself once per stack (3), and leaf (3); main calls work (5) and other (5).
        XCTAssertEqual(p.callees(of: Int32(work)).map(\.function).sorted(), [Int32(work), Int32(leaf)].sorted())
        XCTAssertEqual(p.callers(of: Int32(work)).map(\.weight), [[5], [3]])
        XCTAssertEqual(p.callees(of: Int32(main)).map(\.weight), [[5], [5]])
    }

    func testThreadsAreGroupingRootsNotFunctions() throws {
        let p = try parse("""
            process 12:"python app.py";thread (0x7f01);main (app.py:1);f (app.py:5) 4
            process 12:"python app.py";thread (0x7f02);worker (app.py:9);f (app.py:5) 6

            """)
        XCTAssertNil(p.functionIndex(name: "thread (0x7f01)"))
        XCTAssertEqual(p.functions.totalWeight[0][try XCTUnwrap(p.functionIndex(name: "f"))], 10)
        let split = try parse("thread (0x1);a (x.py:1) 1\nthread (0x2);a (x.py:1) 2\n")
        XCTAssertEqual(split.tree.children(0).count, 2)
        let merged = split.mergingThreads()
        XCTAssertEqual(merged.tree.children(0).count, 1)
        XCTAssertEqual(merged.total(metric: 0), 3)
    }

    func testCommentsCRLFBOMFractionsAndDifferentialLines() throws {
        let p = try parse("\u{FEFF}# comment\r\na;b 1.5\r\na;c 2\r\n\r\n")
        XCTAssertEqual(p.total(metric: 0), 3.5)
        XCTAssertEqual(stacks(p), ["a;b": 1.5, "a;c": 2])
        let d = try parse("a;b 3 5\na;c 4 1\n")
        XCTAssertEqual(d.metrics.map(\.name), ["after", "before"])
        XCTAssertEqual(d.total(metric: d.defaultMetric), 6, "the last number is the default (after)")
        XCTAssertEqual(d.total(metric: d.metricIndex(named: "before")!), 7)
    }

    func testBadInputIsAOneLineErrorWithALineNumber() throws {
        XCTAssertThrowsError(try parse("")) { XCTAssertTrue("\($0)".contains("empty"), "\($0)") }
        XCTAssertThrowsError(try parse("# only a comment\n\n"))
        XCTAssertThrowsError(try parse("hello world\nthis is prose\n"))
        XCTAssertThrowsError(try FormatRegistry.load(path: "/")) { XCTAssertTrue("\($0)".contains("directory"), "\($0)") }
        XCTAssertThrowsError(try FormatRegistry.load(path: "/nonexistent/profile.txt"))
        // Binary garbage names what it saw.
        let junk: [UInt8] = [0x00, 0x01, 0x02, 0xFE, 0x10, 0x20]
        XCTAssertThrowsError(try FormatRegistry.load(source: MemorySource(junk), name: "junk")) {
            XCTAssertTrue("\($0)".contains("unrecognised"), "\($0)")
        }
    }

    func testGzipIsTransparentAndTruncationIsReported() throws {
        let plain = try load(Fixtures.sample("etl.pyspy.txt"))
        let gz = try load(Fixtures.sample("etl.pyspy.txt.gz"))
        XCTAssertEqual(stacks(gz), stacks(plain))
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample("etl.pyspy.txt.gz"))))
        XCTAssertThrowsError(try FormatRegistry.load(source: MemorySource(Array(bytes.dropLast(20))), name: "cut.gz")) {
            XCTAssertTrue("\($0)".contains("gzip"), "\($0)")
        }
    }

    func testFrameNamesWithControlCharactersAreEscapedForTheTerminal() {
        XCTAssertEqual("a\u{1B}[2Jb\u{07}".terminalSafe, "a\\x1b[2Jb\\x07")
        XCTAssertEqual("ünïcode".terminalSafe, "ünïcode")
    }
}

final class TransformTests: XCTestCase {
    func testMergingLinesKeepsFunctionTotalsAndJoinsNodes() throws {
        let p = try load(Fixtures.sample("threads.pyspy.txt"))
        let m = p.mergingLines()
        XCTAssertLessThan(m.tree.count, p.tree.count)
        XCTAssertEqual(m.total(metric: 0), p.total(metric: 0))
        XCTAssertEqual(m.functions.count, p.functions.count)
        for f in 0..<p.functions.count {
            XCTAssertEqual(m.functions.totalWeight[0][f], p.functions.totalWeight[0][f], p.frames.describe(function: Int32(f)))
            XCTAssertEqual(m.functions.selfWeight[0][f], p.functions.selfWeight[0][f])
        }
        // No node has two children of the same function any more.
        for n in 0..<m.tree.count {
            let fns = m.tree.children(Int32(n)).map { m.function(ofNode: $0) }.filter { $0 >= 0 }
            XCTAssertEqual(Set(fns).count, fns.count)
        }
        // Threads stay as grouping roots until merged.
        XCTAssertEqual(m.tree.children(0).count, 2)
        XCTAssertTrue(m.tree.children(0).allSatisfy { m.function(ofNode: $0) < 0 })
        let merged = m.mergingThreads()
        XCTAssertTrue(merged.tree.children(0).allSatisfy { merged.function(ofNode: $0) >= 0 })
        XCTAssertEqual(merged.total(metric: 0), p.total(metric: 0), "samples with only a thread frame stay counted")
    }

    /// `merging(threads:lines:)` rebuilds in one pass and keeps the function table it started
    /// from. Checked against the stacks themselves: every weighted node's path, mapped frame by
    /// frame (grouping frames dropped, lines joined per function), must carry the same weight
    /// in the merged tree; and the function table, summed again from the merged tree, must
    /// equal the one kept.
    func testMergedTreeMatchesStacksMappedOneByOne() throws {
        var paths = ["pool.pyspy.txt", "threads.pyspy.txt", "etl.pyspy.txt", "etl.austin", "etl.speedscope.json"].map { Fixtures.sample($0) }
        if let dir = Fixtures.corpusDir {
            paths += ["generated/py-spy/pyspy.speedscope.json", "generated/py-spy/pyspy.subprocesses.raw.txt",
                      "generated/py-spy/pyspy.threads-idle.raw.txt", "generated/py-spy/pyspy.chrometrace.json"]
                .map { dir + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
        }
        for path in paths {
            let p = try FormatRegistry.load(path: path)
            for (threads, lines) in [(true, false), (false, true), (true, true)] {
                let what = "\(path) threads \(threads) lines \(lines)"
                let m = p.merging(threads: threads, lines: lines)
                func key(_ q: Profile, _ n: Int32) -> String {
                    q.tree.path(to: n).compactMap { node -> String? in
                        let f = q.frames.frame(q.tree.frame[Int(node)])
                        if threads && f.kind.isGrouping { return nil }
                        return lines ? "\(f.name)@\(f.file ?? "")" : "\(f.name)@\(f.file ?? ""):\(f.line ?? 0)"
                    }.joined(separator: ";")
                }
                func stacks(_ q: Profile) -> [String: [Double]] {
                    var out: [String: [Double]] = [:]
                    for n in 0..<q.tree.count {
                        let w = (0..<q.metrics.count).map { q.tree.selfWeight[$0][n] }
                        guard w.contains(where: { $0 != 0 }) else { continue }
                        let k = key(q, Int32(n))
                        out[k] = zip(out[k] ?? Array(repeating: 0, count: w.count), w).map { $0 + $1 }
                    }
                    return out
                }
                let want = stacks(p), got = stacks(m)
                XCTAssertGreaterThan(want.count, 1, what)
                if path.hasSuffix("pool.pyspy.txt") {
                    // The pool's threads run the same code: merging must find what another made.
                    let firsts = p.tree.children(0).flatMap { p.tree.children($0) }.map { p.frames.frame(p.tree.frame[Int($0)]).name }
                    XCTAssertLessThan(Set(firsts).count, firsts.count, what)
                }
                XCTAssertEqual(Set(got.keys), Set(want.keys), what)
                for (k, w) in want {
                    for (a, b) in zip(w, got[k] ?? []) { XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, abs(a)), "\(what) \(k)") }
                }
                // Identical paths merged: no node has two children with the same frame.
                for n in 0..<Int32(m.tree.count) {
                    let fs = m.tree.children(n).map { m.tree.frame[Int($0)] }
                    XCTAssertEqual(Set(fs).count, fs.count, what)
                }
                let summed = FunctionTable(tree: m.tree, frames: m.frames, metricCount: m.metrics.count)
                XCTAssertEqual(summed.count, m.functions.count, what)
                for metric in 0..<m.metrics.count {
                    for f in 0..<m.functions.count {
                        let name = "\(what) \(m.frames.describe(function: Int32(f)))"
                        let (s0, s1) = (summed.selfWeight[metric][f], m.functions.selfWeight[metric][f])
                        let (t0, t1) = (summed.totalWeight[metric][f], m.functions.totalWeight[metric][f])
                        XCTAssertEqual(s0, s1, accuracy: 1e-9 * max(1, abs(s0)), name)
                        XCTAssertEqual(t0, t1, accuracy: 1e-9 * max(1, abs(t0)), name)
                    }
                }
            }
        }
    }

    /// `focused(on:)` keeps exactly the stacks that pass through the function, whole, and
    /// `hiding` drops the function's frames from every stack: checked against the stacks,
    /// weighted node by weighted node.
    func testFocusAndHideMatchTheStacksOneByOne() throws {
        for (name, fnName) in [("pool.pyspy.txt", "process"), ("etl.pyspy.txt", "parse"), ("etl.austin", "main.<locals>.<listcomp>")] {
            let p = try FormatRegistry.load(path: Fixtures.sample(name)).merging(threads: true, lines: true)
            let fn = Int32(try XCTUnwrap(p.functionIndex(name: fnName), name))
            func frames(_ q: Profile, _ n: Int32) -> [String] {
                q.tree.path(to: n).map { q.frames.describe(function: q.function(ofNode: $0)) }
            }
            func stacks(_ q: Profile, keep: ([String]) -> Bool, map: ([String]) -> [String] = { $0 }) -> [String: Double] {
                var out: [String: Double] = [:]
                for n in 1..<q.tree.count where q.tree.selfWeight[0][n] != 0 {
                    let path = frames(q, Int32(n))
                    if keep(path) { out[map(path).joined(separator: ";"), default: 0] += q.tree.selfWeight[0][n] }
                }
                return out
            }
            let target = p.frames.describe(function: fn)
            let focus = p.focused(on: fn)
            let wantFocus = stacks(p, keep: { $0.contains(target) })
            XCTAssertGreaterThan(wantFocus.count, 1, name)
            XCTAssertLessThan(wantFocus.count, stacks(p, keep: { _ in true }).count, name)
            XCTAssertEqual(stacks(focus, keep: { _ in true }), wantFocus, name)
            let hidden = p.hiding([fn])
            let wantHidden = stacks(p, keep: { $0 != [target] }, map: { $0.filter { $0 != target } })
            let gotHidden = stacks(hidden, keep: { _ in true })
            XCTAssertEqual(Set(gotHidden.keys), Set(wantHidden.keys), name)
            for (k, w) in wantHidden { XCTAssertEqual(gotHidden[k] ?? -1, w, accuracy: 1e-9, "\(name) \(k)") }
        }
    }
}


final class TransformTotalsTests: XCTestCase {
    /// Merging threads and lines, hiding and re-ordering never lose weight, including samples
    /// that stop at a thread root or carry no frame at all.
    func testTransformsKeepTheTotal() throws {
        var paths = ["etl.prof", "etl.pyspy.txt", "threads.pyspy.txt", "etl.austin", "etl.mojo", "etl.speedscope.json"]
            .map { Fixtures.sample($0) }
        if let dir = Fixtures.corpusDir {
            paths += ["austin-python/test/data/repeat.austin", "generated/austin/austin.full.austin"].map { dir + "/" + $0 }
                .filter { FileManager.default.fileExists(atPath: $0) }
        }
        for path in paths {
            let p = try load(path)
            for m in 0..<p.metrics.count {
                let t = p.total(metric: m)
                let tol = 1e-9 * max(1, abs(t))
                XCTAssertEqual(p.mergingThreads().total(metric: m), t, accuracy: tol, "\(path) threads")
                XCTAssertEqual(p.mergingThreads().mergingLines().total(metric: m), t, accuracy: tol, "\(path) lines")
                XCTAssertEqual(p.ordered(by: m).total(metric: m), t, accuracy: tol, "\(path) order")
                if !p.estimatedTree { XCTAssertEqual(p.inverted().total(metric: m), t, accuracy: tol, "\(path) inverted") }
            }
        }
    }
}

final class MergeLinesAtReadTests: XCTestCase {
    /// Merging lines while reading gives the same profile as merging them afterwards.
    func testReadTimeMergeEqualsMergingLines() throws {
        var paths = ["etl.pyspy.txt", "threads.pyspy.txt", "etl.austin"].map { Fixtures.sample($0) }
        if let dir = Fixtures.corpusDir {
            // pprof: Go with labels and inlined lines, py-spy and Node.js through Pyroscope.
            paths += ["pyroscope/pkg/pprof/testdata/go.cpu.labels.pprof", "pyroscope/pkg/og/convert/pprof/testdata/pyspy-1.pb.gz",
                      "pyroscope/pkg/og/convert/pprof/testdata/cpu-js.pb.gz", "austin-python/test/data/austin.pprof"]
                .map { dir + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
        }
        for path in paths {
            let name = path
            let after = try FormatRegistry.load(path: path).mergingLines()
            let during = try FormatRegistry.load(path: path, mergeLines: true)
            XCTAssertEqual(during.tree.count, after.tree.count, name)
            XCTAssertEqual(during.total(metric: during.defaultMetric), after.total(metric: after.defaultMetric), name)
            func byName(_ p: Profile) -> [String: Double] {
                var d: [String: Double] = [:]
                for f in 0..<p.functions.count {
                    d[p.frames.describe(function: Int32(f)), default: 0] += p.functions.totalWeight[p.defaultMetric][f]
                }
                return d
            }
            XCTAssertEqual(byName(during), byName(after), name)
            // Re-reading with lines into the same frame table keeps function ids.
            let split = try FormatRegistry.load(path: path, seedFrames: during.frames)
            for f in 0..<during.functions.count {
                XCTAssertEqual(split.frames.describe(function: Int32(f)), during.frames.describe(function: Int32(f)))
            }
            XCTAssertGreaterThan(split.tree.count, during.tree.count, name)
        }
    }

    /// Files from 16 MiB on are read as two halves on two threads and merged. The result must
    /// be the one-pass result to the node: the same node ids, frames, functions, weights, line
    /// numbers in warnings and sample count. The input is the real samples (and the corpus's
    /// folded files when present) repeated under distinct roots, with comments, blank, bad,
    /// empty-stack, CRLF and fractional lines mixed in, past 16 MiB.
    /// A big file whose second half has differential lines (`stack before after`) cannot be
    /// merged in node order (the metric appears mid-way): the split gives up, and the registry
    /// reads it in one pass. The result must be that one pass, both metrics included.
    func testBigDifferentialFileFallsBackToOnePass() throws {
        var body = ""
        var i = 0
        while body.utf8.count < FoldedReader.parallelFrom / 2 + (1 << 20) {
            body += "main (app.py:1);work\(i % 97) (app.py:\(i % 13 + 2));leaf\(i % 1009) (lib.py:9) \(i % 7 + 1)\n"
            i += 1
        }
        while body.utf8.count < FoldedReader.parallelFrom + (1 << 20) {
            body += "main (app.py:1);other\(i % 89) (app.py:50);leaf\(i % 1013) (lib.py:9) \(i % 5) \(i % 3 + 1)\n"
            i += 1
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-diff-halves-\(getpid()).txt")
        try body.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let fs = try FileSource(path: url.path)
        let (prefix, _) = try FormatRegistry.readPrefix(fs, 1 << 16)
        let file = try XCTUnwrap(PrefixedSource(prefix: prefix, rest: fs).untouchedFile)
        XCTAssertNil(try FoldedReader.readInTwoHalves(file, options: ReadOptions()))
        let viaRegistry = try FormatRegistry.read(source: FileSource(path: url.path), name: "big")
        let one = FoldedParser()
        try MemorySource(Array(body.utf8)).forEachChunk { one.feed($0) }
        let whole = try one.finish()
        XCTAssertEqual(viaRegistry.metrics.map(\.name), ["after", "before"])
        XCTAssertEqual(viaRegistry.metrics.map(\.name), whole.metrics.map(\.name))
        XCTAssertEqual(viaRegistry.parent, whole.parent)
        XCTAssertEqual(viaRegistry.frame, whole.frame)
        XCTAssertEqual(viaRegistry.selfWeight, whole.selfWeight)
        // Independent sums: the first number of a differential line is "before", the last "after".
        var after = 0.0, before = 0.0
        for line in body.split(separator: "\n") {
            let f = line.split(separator: " ")
            after += Double(f[f.count - 1])!
            if line.contains(";other") { before += Double(f[f.count - 2])! }
        }
        XCTAssertEqual(viaRegistry.selfWeight[0].reduce(0, +), after)
        XCTAssertEqual(viaRegistry.selfWeight[1].reduce(0, +), before)
    }

    func testTwoHalvesOnTwoThreadsEqualOnePass() throws {
        var parts: [String] = []
        for name in ["etl.pyspy.txt", "threads.pyspy.txt", "io_bound.pyspy.txt", "lock_bound.pyspy.txt", "etl-fixed.pyspy.txt"] {
            parts.append(try String(contentsOfFile: Fixtures.sample(name), encoding: .utf8))
        }
        var body = ""
        var copy = 0
        while body.utf8.count < FoldedReader.parallelFrom + (1 << 20) {
            for (i, text) in parts.enumerated() {
                for (k, line) in text.split(separator: "\n").enumerated() {
                    body += "run\(copy);w\(k % 3);" + line + (copy % 5 == 0 ? "\r\n" : "\n")
                }
                if (copy + i) % 7 == 0 { body += "# a comment\n\nno count here\n 3\nfrac;x (x.py:1) 0.5\n" }
                // Recursion, direct and through others, for the function table's ancestor check.
                body += "rec\(copy % 50);a (r.py:1);b (r.py:2);a (r.py:1);c (r.py:3);a (r.py:9);b (r.py:2);d\(i) (r.py:4) 2\n"
            }
            copy += 1
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-halves-\(getpid()).txt")
        try body.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        for merge in [false, true] {
            // The split path itself (it must take this file), and the registry's choice of it.
            let fs = try FileSource(path: url.path)
            let (prefix, _) = try FormatRegistry.readPrefix(fs, 1 << 16)
            let file = try XCTUnwrap(PrefixedSource(prefix: prefix, rest: fs).untouchedFile)
            var options = ReadOptions()
            options.mergeLines = merge
            let split = try XCTUnwrap(FoldedReader.readInTwoHalves(file, options: options)).finish()
            let viaRegistry = try FormatRegistry.read(source: FileSource(path: url.path), name: "big", mergeLines: merge)
            XCTAssertEqual(viaRegistry.parent, split.parent)
            let one = FoldedParser()
            one.mergeLines = merge
            try MemorySource(Array(body.utf8)).forEachChunk { one.feed($0) }
            let whole = try one.finish()
            XCTAssertGreaterThan(whole.nodeCount, 1000)
            XCTAssertEqual(split.parent, whole.parent, "merge \(merge)")
            XCTAssertEqual(split.frame, whole.frame)
            XCTAssertEqual(split.selfWeight, whole.selfWeight)
            XCTAssertEqual(split.frames.frameCount, whole.frames.frameCount)
            XCTAssertEqual((0..<whole.frames.frameCount).map { split.frames.frame(Int32($0)) },
                           (0..<whole.frames.frameCount).map { whole.frames.frame(Int32($0)) })
            XCTAssertEqual(split.frames.functionLine, whole.frames.functionLine)
            XCTAssertEqual(split.frames.frameFunction, whole.frames.frameFunction)
            XCTAssertEqual(split.warnings, whole.warnings)
            XCTAssertEqual(split.sampleCount, whole.sampleCount)
            XCTAssertFalse(whole.warnings.isEmpty, "the bad lines are counted")
            // Big enough for freeze to build the function table on another thread: check it
            // against the definition (a node counts for its function's total unless an
            // ancestor has the same function), walked here node by node.
            let p = split.freeze()
            XCTAssertGreaterThanOrEqual(p.tree.count, 200_000)
            // `split` freezes in the merged index's recycled memory (old slots, not zeros),
            // `whole` in fresh memory: the same tree and table.
            let q = whole.freeze()
            XCTAssertEqual(p.tree.childList, q.tree.childList)
            XCTAssertEqual(p.tree.childStart, q.tree.childStart)
            XCTAssertEqual(p.tree.childPosition, q.tree.childPosition)
            XCTAssertEqual(p.tree.depths(), q.tree.depths())
            XCTAssertEqual(p.functions.selfWeight, q.functions.selfWeight)
            XCTAssertEqual(p.functions.totalWeight, q.functions.totalWeight)
            XCTAssertEqual(p.functions.nodes, q.functions.nodes)
            var total = [Double](repeating: 0, count: p.functions.count), selfW = total
            for n in 1..<p.tree.count {
                let fn = p.function(ofNode: Int32(n))
                guard fn >= 0 else { continue }
                selfW[Int(fn)] += p.tree.selfWeight[0][n]
                var k = p.tree.parent[n], outer = true
                while k > 0 { if p.function(ofNode: k) == fn { outer = false; break }; k = p.tree.parent[Int(k)] }
                if outer { total[Int(fn)] += p.tree.totalWeight[0][n] }
            }
            XCTAssertEqual(p.functions.totalWeight[0], total)
            XCTAssertEqual(p.functions.selfWeight[0], selfW)
            // Each function's nodes (built on first use), against the tree node by node.
            var byFunction = [[Int32]](repeating: [], count: p.functions.count)
            for n in 1..<p.tree.count where p.function(ofNode: Int32(n)) >= 0 {
                byFunction[Int(p.function(ofNode: Int32(n)))].append(Int32(n))
            }
            XCTAssertEqual((0..<p.functions.count).map { Array(p.functions.nodes(of: Int32($0))) }, byFunction)
            let a = try XCTUnwrap(p.functionIndex(name: "a"))
            XCTAssertLessThan(total[a], byFunction[a].map { p.tree.totalWeight[0][Int($0)] }.reduce(0, +),
                              "the recursion is there, and counted once a stack")
        }
    }
}
