import Foundation
import XCTest
@testable import ProfileModel

/// austin text, MOJO, perf script and callgrind readers against the corpus facts (EXPECTED.json,
/// SOURCES.md), upstream expected collapsed outputs, chunked feeding and damaged inputs.
final class AustinPerfCallgrindTests: XCTestCase {

    // MARK: helpers

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The profile as folded stacks: frame names root first → self weight of `metric`.
    static func folded(_ p: Profile, metric: Int = 0, skipGrouping: Bool = false) -> [String: Double] {
        var out: [String: Double] = [:]
        for n in 1..<max(p.tree.count, 1) where p.tree.selfWeight[metric][n] != 0 {
            var names: [String] = []
            for a in p.tree.path(to: Int32(n)) {
                let f = p.tree.frame[Int(a)]
                if skipGrouping && p.frames.frameKind[Int(f)].isGrouping { continue }
                names.append(p.frames.name(ofFrame: f))
            }
            out[names.joined(separator: ";"), default: 0] += p.tree.selfWeight[metric][n]
        }
        return out
    }

    /// A perf profile as collapsed stacks with the root inferno-collapse-perf writes: `comm`
    /// (its default), `comm-PID` (`--pid`) or `comm-PID/TID` (`--tid`), PID `?` when perf printed
    /// only the tid. Built from perftop's process frame (the comm) and thread frame
    /// (`tid T` or `pid P tid T`).
    enum PerfRoot { case comm, pid, tid }
    static func perfFolded(_ p: Profile, root: PerfRoot) -> [String: Double] {
        var out: [String: Double] = [:]
        for n in 1..<max(p.tree.count, 1) where p.tree.selfWeight[0][n] != 0 {
            var names: [String] = []
            for a in p.tree.path(to: Int32(n)) {
                let f = p.tree.frame[Int(a)]
                let name = p.frames.name(ofFrame: f)
                guard p.frames.frameKind[Int(f)] == .thread else { names.append(name); continue }
                let words = name.split(separator: " ").map(String.init)
                let (pid, tid) = words.count == 4 ? (words[1], words[3]) : ("?", words.last ?? "?")
                switch root {
                case .comm: break
                case .pid: names[names.count - 1] += "-" + pid
                case .tid: names[names.count - 1] += "-" + pid + "/" + tid
                }
            }
            out[names.joined(separator: ";"), default: 0] += p.tree.selfWeight[0][n]
        }
        return out
    }

    /// Everything a reader decides, for comparing two reads of the same input.
    static func signature(_ b: ProfileBuilder) -> String {
        let p = b.freeze(source: "x")
        var s = "metrics=\(p.metrics) samples=\(String(describing: p.sampleCount)) warnings=\(p.warnings)\n"
        s += "metadata=\(p.metadata.map { "\($0.0)=\($0.1)" })\n"
        for m in 0..<p.metrics.count {
            for (k, v) in folded(p, metric: m).sorted(by: { $0.key < $1.key }) { s += "\(m) \(k) \(v)\n" }
        }
        return s
    }

    static func parseAustin(_ data: [UInt8], chunk: Int) throws -> ProfileBuilder {
        let parser = AustinParser()
        feed(data, chunk) { parser.feed($0) }
        return try parser.finish()
    }

    static func parseMojo(_ data: [UInt8], chunk: Int) throws -> (ProfileBuilder, MojoParser) {
        let parser = MojoParser()
        var error: Error? = nil
        feed(data, chunk) { b in
            guard error == nil else { return }
            do { try parser.feed(b) } catch let e { error = e }
        }
        if let error { throw error }
        return (try parser.finish(), parser)
    }

    static func parsePerf(_ data: [UInt8], chunk: Int) throws -> ProfileBuilder {
        let parser = PerfScriptParser()
        feed(data, chunk) { parser.feed($0) }
        return try parser.finish()
    }

    static func feed(_ data: [UInt8], _ chunk: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        data.withUnsafeBytes { all in
            var i = 0
            while i < all.count {
                let j = min(all.count, i + chunk)
                body(UnsafeRawBufferPointer(rebasing: all[i..<j]))
                i = j
            }
        }
    }

    /// Expected-output files per input, from SOURCES.md's "expected output file" column.
    static func expectedOutputs(_ dir: String) throws -> [String: String] {
        let text = try String(contentsOfFile: dir + "/SOURCES.md", encoding: .utf8)
        var origin = ""
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if let r = line.range(of: "(under corpus/") {
                origin = String(line[r.upperBound...].prefix { $0 != ")" })
                continue
            }
            let cols = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cols.count >= 6, cols[1].hasPrefix("`"), !cols[5].isEmpty else { continue }
            let input = origin + cols[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            var expected = cols[5].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            if let sp = expected.range(of: " (") { expected = String(expected[..<sp.lowerBound]) }
            expected = expected.trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            out[input] = expected
        }
        return out
    }

    /// A collapsed file as stack → count (the count after the last space).
    static func readCollapsed(_ path: String, stripAnnotations: Bool) throws -> [String: Double] {
        var out: [String: Double] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            guard let sp = line.lastIndex(of: " "), let v = Double(line[line.index(after: sp)...]) else { continue }
            var stack = String(line[..<sp])
            if stripAnnotations {
                stack = stack.split(separator: ";", omittingEmptySubsequences: false).map { f -> String in
                    (f.hasSuffix("_[k]") || f.hasSuffix("_[j]")) ? String(f.dropLast(4)) : String(f)
                }.joined(separator: ";")
            }
            out[stack, default: 0] += v
        }
        return out
    }

    static func number(_ any: Any?) -> Double? { (any as? NSNumber)?.doubleValue }

    /// The offset just after the last blank line (`\n` followed by a line of blanks and `\n`).
    static func lastBlankLine(_ d: [UInt8]) -> Int? {
        var i = d.count - 1
        while i > 0 && d[i] == 0x0A { i -= 1 }            // a final newline ends a line, not a record
        while i > 0 {
            if d[i] == 0x0A {
                var j = i - 1
                while j >= 0 && (d[j] == 0x20 || d[j] == 0x09 || d[j] == 0x0D) { j -= 1 }
                if j >= 0 && d[j] == 0x0A { return i + 1 }
            }
            i -= 1
        }
        return nil
    }

    /// `LABEL (VALUE)` → (LABEL, VALUE).
    static func labelled(_ s: String) -> (String, Double)? {
        guard let open = s.range(of: " (", options: .backwards), s.hasSuffix(")"),
              let v = Double(s[open.upperBound...].dropLast()) else { return nil }
        return (String(s[..<open.lowerBound]), v)
    }

    // MARK: austin text

    func testAustinTextCorpusFacts() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "austin-text" }
        XCTAssertGreaterThanOrEqual(entries.count, 10)
        for e in entries {
            let path = dir + "/" + e.path
            let p: Profile
            do { p = try load(path) } catch { XCTFail("\(e.path): \(error)"); continue }
            XCTAssertEqual(p.format, "austin", e.path)
            let f = e.facts
            let samples = try XCTUnwrap(p.metricIndex(named: "samples"), e.path)
            XCTAssertEqual(p.sampleCount, f["data_lines"] as? Int, "\(e.path): samples")
            // Memory mode books growth and shrinkage apart: their difference is the file's net sum.
            let memoryMode = p.metrics[0].name == "allocated"
            let net = p.tree.totalWeight[0][0] - (memoryMode ? p.tree.totalWeight[p.metricIndex(named: "freed")!][0] : 0)
            XCTAssertEqual(net, Self.number(f["total"]) ?? -1, "\(e.path): total")
            // A distinct line (with its P;T prefix) ends at a distinct node.
            let stacks = (0..<p.tree.count).filter { p.tree.selfWeight[samples][$0] != 0 }
            XCTAssertEqual(stacks.count, f["unique_stacks"] as? Int, "\(e.path): unique stacks")
            var frames = Set<Int32>()
            var maxDepth = 0
            for n in 1..<p.tree.count {
                let fr = p.tree.frame[n]
                guard !p.frames.frameKind[Int(fr)].isGrouping else { continue }
                frames.insert(fr)
                let depth = p.tree.path(to: Int32(n)).filter { !p.frames.frameKind[Int(p.tree.frame[Int($0)])].isGrouping }.count
                maxDepth = max(maxDepth, depth)
            }
            XCTAssertEqual(frames.count, f["distinct_frames"] as? Int, "\(e.path): distinct frames")
            XCTAssertEqual(maxDepth, f["max_depth"] as? Int, "\(e.path): max depth")
            XCTAssertTrue(p.warnings.isEmpty, "\(e.path): \(p.warnings)")
            // top_self: the leaf frame text `file:function:line` with the largest summed metric.
            if let top = f["top_self"] as? String, let (label, value) = Self.labelled(top) {
                let byFrame = p.selfByFrame(metric: 0).filter { !p.frames.frameKind[Int($0.key)].isGrouping }
                let best = try XCTUnwrap(byFrame.max { $0.value < $1.value }, e.path)
                XCTAssertEqual(best.value, value, "\(e.path): top self value")
                let fr = p.frames.frame(best.key)
                let text = fr.kind == .special ? ":\(fr.name):" : "\(fr.file ?? ""):\(fr.name):\(fr.line.map(String.init) ?? "")"
                XCTAssertEqual(text, label, "\(e.path): top self frame")
            }
            if let meta = f["metadata"] as? [String: String] {
                for (k, v) in meta {
                    XCTAssertTrue(p.metadata.contains { $0.0 == k && $0.1 == v }, "\(e.path): metadata \(k)=\(v) in \(p.metadata)")
                }
            }
        }
    }

    func testAustinModesBecomeMetrics() throws {
        let dir = try Fixtures.requireCorpus()
        let full = try load(dir + "/generated/austin/austin.full.austin")
        XCTAssertEqual(full.metrics.map(\.description),
                       ["time/microseconds", "idle/microseconds", "allocated/bytes", "freed/bytes", "samples/count"])
        XCTAssertEqual(full.defaultMetric, 0)
        // Full mode: `time,idle,memory` per line; memory deltas are signed; idle books the time.
        var sums = [0.0, 0.0, 0.0, 0.0]
        for line in try String(contentsOfFile: dir + "/generated/austin/austin.full.austin", encoding: .utf8).split(separator: "\n")
        where line.hasPrefix("P") {
            let v = line.split(separator: " ").last!.split(separator: ",").map { Double($0)! }
            sums[0] += v[0]; sums[1] += v[1] != 0 ? v[0] : 0; sums[2] += max(v[2], 0); sums[3] += max(-v[2], 0)
        }
        XCTAssertTrue(sums[2] != 0)
        XCTAssertEqual((0..<4).map { full.tree.totalWeight[$0][0] }, sums)
        let mem = try load(dir + "/generated/austin/austin.memory.austin")
        XCTAssertEqual(mem.metrics.map(\.description), ["allocated/bytes", "freed/bytes", "samples/count"])
        let wall = try load(dir + "/generated/austin/austin.wall.austin")
        XCTAssertEqual(wall.metrics.map(\.description), ["time/microseconds", "samples/count"])
        // Process and thread are grouping roots; INVALID is a special frame.
        let top = wall.tree.children(0).map { wall.frames.frame(wall.tree.frame[Int($0)]) }
        XCTAssertEqual(top.map(\.kind), [.process])
        XCTAssertEqual(top.first?.name, "process 8293")
        let threads = wall.tree.children(wall.tree.children(0)[0]).map { wall.frames.frame(wall.tree.frame[Int($0)]) }
        XCTAssertTrue(threads.allSatisfy { $0.kind == .thread && $0.name.hasPrefix("thread 0:") }, "\(threads)")
        XCTAssertTrue((0..<wall.frames.frameCount).contains {
            wall.frames.frameKind[$0] == .special && wall.frames.name(ofFrame: Int32($0)) == "INVALID"
        })
        // austin 3.0 thread ids without a sub-interpreter id.
        let old = try load(dir + "/austin-python/test/data/austin.out")
        let oldThreads = old.tree.children(old.tree.children(0)[0]).map { old.frames.name(ofFrame: old.tree.frame[Int($0)]) }
        XCTAssertEqual(Set(oldThreads), ["thread 82848", "thread 82858"])
    }

    func testAustinFrameSyntax() {
        XCTAssertEqual(AustinParser.parseFrame("<frozen importlib._bootstrap>:_find_and_load:1176"),
                       Frame(name: "_find_and_load", file: "<frozen importlib._bootstrap>", line: 1176, kind: .function))
        XCTAssertEqual(AustinParser.parseFrame("C:\\app\\x.py:Thread.run:12"),
                       Frame(name: "Thread.run", file: "C:\\app\\x.py", line: 12, kind: .function))
        XCTAssertEqual(AustinParser.parseFrame(":INVALID:"), Frame(name: "INVALID", file: nil, line: nil, kind: .special))
        XCTAssertEqual(AustinParser.parseFrame(":GC:"), Frame(name: "GC", file: nil, line: nil, kind: .special))
        XCTAssertEqual(AustinParser.parseFrame("P8303").kind, .process)
        XCTAssertEqual(AustinParser.parseFrame("T0:8303"), Frame(name: "thread 0:8303", file: nil, line: nil, kind: .thread))
        XCTAssertEqual(AustinParser.parseFrame("T82848").name, "thread 82848")
        XCTAssertEqual(AustinParser.parseFrame("decorators.py:wrapper:4)").kind, .function)  // diff_a.austin
    }

    func testAustinGCFramesAndEmptyStacks() throws {
        let text = """
        # austin: 3.7.0
        # mode: wall

        P1;T0:1;a.py:main:3;a.py:work:7 100
        P1;T0:1;a.py:main:3;a.py:work:7;:GC: 50
        P1;T0:1 25
        P1;T0:1;a.py:main:3;a.py:work:7 100

        # duration: 300
        """
        let b = try Self.parseAustin(Array(text.utf8), chunk: 5)
        let p = b.freeze()
        XCTAssertEqual(Self.folded(p), ["process 1;thread 0:1;main;work": 200, "process 1;thread 0:1;main;work;GC": 50,
                                        "process 1;thread 0:1": 25])
        XCTAssertEqual(p.sampleCount, 4)
        XCTAssertEqual(p.metadata.map { $0.0 }, ["austin", "mode", "duration"])
    }

    // MARK: MOJO

    func testMojoCorpusFacts() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "austin-mojo" }
        XCTAssertGreaterThanOrEqual(entries.count, 7)
        var versions = Set<Int>()
        for e in entries {
            let path = dir + "/" + e.path
            let f = e.facts
            let (b, parser) = try Self.parseMojo(try Self.bytes(path), chunk: 1 << 20)
            let p = b.freeze(source: path)
            XCTAssertEqual(try load(path).format, "mojo", e.path)
            XCTAssertEqual(parser.version, f["mojo_version"] as? Int, "\(e.path): version")
            versions.insert(parser.version)
            XCTAssertEqual(p.sampleCount, f["samples"] as? Int, "\(e.path): samples")
            if let counts = f["event_counts"] as? [String: Int] {
                for id in 0..<parser.eventCounts.count {
                    XCTAssertEqual(parser.eventCounts[id], counts[String(id)] ?? 0, "\(e.path): events of id \(id)")
                }
            }
            // Threads: distinct (process, thread) nodes.
            let threads = (1..<p.tree.count).filter { p.frames.frameKind[Int(p.tree.frame[$0])] == .thread }
            XCTAssertEqual(threads.count, f["threads"] as? Int, "\(e.path): threads")
            if let sums = f["metric_sums"] as? [String: Any] {
                for (name, v) in sums {
                    let m = try XCTUnwrap(p.metricIndex(named: name), "\(e.path): metric \(name)")
                    XCTAssertEqual(p.tree.totalWeight[m][0], Self.number(v) ?? -1, "\(e.path): \(name) sum")
                }
            }
            if let top = f["top_leaf_by_samples"] as? String, let (label, value) = Self.labelled(top) {
                let s = try XCTUnwrap(p.metricIndex(named: "samples"))
                var byName: [String: Double] = [:]
                for n in 1..<p.tree.count where p.tree.selfWeight[s][n] != 0 {
                    byName[p.frames.name(ofFrame: p.tree.frame[n]), default: 0] += p.tree.selfWeight[s][n]
                }
                let best = byName.max { $0.value < $1.value }
                XCTAssertEqual(best?.key, label, e.path)
                XCTAssertEqual(best?.value, value, e.path)
            }
            if let meta = f["metadata"] as? [String: String] {
                for (k, v) in meta {
                    XCTAssertTrue(p.metadata.contains { $0.0 == k && $0.1 == v }, "\(e.path): metadata \(k)=\(v)")
                }
            }
        }
        XCTAssertEqual(versions, [1, 2, 3, 4])
    }

    /// The same austin run as text and as MOJO gives the same profile (austin-python's test data
    /// has both for three runs; MOJO 4 `repeat.mojo` exercises STACK_REPEAT).
    func testMojoMatchesItsTextTwin() throws {
        let dir = try Fixtures.requireCorpus() + "/austin-python/test/data/"
        for name in ["test", "mp", "repeat"] {
            let text = try load(dir + name + ".austin")
            let mojo = try load(dir + name + ".mojo")
            XCTAssertEqual(Self.folded(mojo), Self.folded(text), name)
            XCTAssertEqual(mojo.sampleCount, text.sampleCount, name)
        }
    }

    /// etl.austin and etl.mojo are two runs of the same workload: the same functions lead.
    func testSampleEtlAustinAndMojoRankTheSameFunctionsFirst() throws {
        let text = try load(Fixtures.sample("etl.austin"))
        let mojo = try load(Fixtures.sample("etl.mojo"))
        func ranking(_ p: Profile) -> [(String, Double)] {
            let total = p.total(metric: 0)
            return (0..<p.functions.count).map { (p.frames.name(ofFunction: Int32($0)), p.functions.selfWeight[0][$0] / total) }
                .sorted { $0.1 > $1.1 }
        }
        let a = ranking(text), b = ranking(mojo)
        XCTAssertEqual(a.first?.0, "dedupe")
        XCTAssertEqual(b.first?.0, "dedupe")
        XCTAssertGreaterThan(a[0].1, 0.5)
        XCTAssertGreaterThan(b[0].1, 0.5)
        XCTAssertEqual(a[0].1, b[0].1, accuracy: 0.1)
        XCTAssertEqual(text.metrics, mojo.metrics)
    }

    // MARK: perf script

    func testPerfScriptMatchesUpstreamCollapsedOutputs() throws {
        let dir = try Fixtures.requireCorpus()
        let outputs = try Self.expectedOutputs(dir)
        let entries = try Fixtures.expected().filter { $0.format == "perf-script" || $0.format == "perf-script(gzip)" }
        XCTAssertGreaterThanOrEqual(entries.count, 30)
        var compared = 0
        for e in entries {
            let path = dir + "/" + e.path
            guard let expectedFile = outputs[e.path], expectedFile.hasSuffix(".txt") else { continue }
            let expectedPath = dir + "/" + expectedFile
            guard let facts = try Fixtures.expected().first(where: { $0.path == expectedFile })?.facts else {
                XCTFail("\(expectedFile) has no facts"); continue
            }
            let p: Profile
            do { p = try load(path) } catch { XCTFail("\(e.path): \(error)"); continue }
            XCTAssertEqual(p.format, "perf-script", e.path)
            var got = Self.perfFolded(p, root: .comm)
            var total = p.total(metric: 0)
            if expectedFile.hasPrefix("FlameGraph/") {
                // stackcollapse-perf.pl (which wrote FlameGraph's results) differs from inferno in two
                // ways: it never emits a last record that no blank line ends, and it strips quotes
                // from names. Both show here; everything else must match exactly.
                var data = try Self.bytes(path)
                if !data.suffix(2).elementsEqual([0x0A, 0x0A]), let cut = Self.lastBlankLine(data) {
                    let full = p.sampleCount ?? 0
                    data = Array(data[0..<cut])
                    let b = try FormatRegistry.read(source: MemorySource(data), name: path)
                    XCTAssertEqual(b.sampleCount, full - 1, "\(e.path): the unterminated last record")
                    let q = b.freeze(source: path)
                    got = Self.perfFolded(q, root: .comm)
                    total = q.total(metric: 0)
                }
                if !expectedFile.hasSuffix("perf-rust-Yamakaky-dcpu-collapsed-all.txt") {
                    var unquoted: [String: Double] = [:]
                    for (k, v) in got { unquoted[k.filter { $0 != "\"" && $0 != "'" }, default: 0] += v }
                    got = unquoted
                }
            }
            XCTAssertEqual(total, Self.number(facts["total"]) ?? -1, "\(e.path): total vs \(expectedFile)")
            XCTAssertEqual(got.count, facts["unique_stacks"] as? Int, "\(e.path): unique stacks vs \(expectedFile)")
            // Stack by stack, annotations (`_[k]`, `_[j]`, options we do not apply) removed. FlameGraph's
            // Rust result predates the demangling fix inferno applies by default: inferno's result instead.
            if expectedFile.hasSuffix("perf-rust-Yamakaky-dcpu-collapsed-all.txt") && expectedFile.hasPrefix("FlameGraph") {
                let inferno = dir + "/inferno/tests/data/collapse-perf/results/perf-rust-Yamakaky-dcpu-collapsed-jit.txt"
                let want = try Self.readCollapsed(inferno, stripAnnotations: true)
                XCTAssertEqual(got, want, "\(e.path) vs inferno: "
                               + "missing \(Set(want.keys).subtracting(got.keys).sorted().prefix(3)) "
                               + "extra \(Set(got.keys).subtracting(want.keys).sorted().prefix(3))")
            } else {
                let want = try Self.readCollapsed(expectedPath, stripAnnotations: true)
                XCTAssertEqual(got, want, "\(e.path) vs \(expectedFile): "
                               + "missing \(Set(want.keys).subtracting(got.keys).sorted().prefix(3)) "
                               + "extra \(Set(got.keys).subtracting(want.keys).sorted().prefix(3))")
            }
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 20)
        print("perf script: \(compared) files compared with upstream collapsed outputs")
    }

    /// inferno's `--pid` and `--tid` results: perftop's process and thread roots carry the same
    /// split, so `--threads split` shows what those options show.
    func testPerfScriptPidAndTidRootsMatchInferno() throws {
        let dir = try Fixtures.requireCorpus()
        let p = try load(dir + "/FlameGraph/test/perf-rust-Yamakaky-dcpu.txt")
        let results = dir + "/inferno/tests/data/collapse-perf/results/perf-rust-Yamakaky-dcpu-collapsed-"
        for (root, suffix) in [(PerfRoot.pid, "pid.txt"), (.tid, "tid.txt")] {
            let want = try Self.readCollapsed(results + suffix, stripAnnotations: true)
            let got = Self.perfFolded(p, root: root)
            XCTAssertFalse(want.isEmpty, suffix)
            XCTAssertEqual(got, want, "\(suffix): missing \(Set(want.keys).subtracting(got.keys).sorted().prefix(3)) "
                           + "extra \(Set(got.keys).subtracting(want.keys).sorted().prefix(3))")
        }
    }

    /// A two-thread C program recorded with `perf record -g` (Tests/Golden/perf-script/two-threads.txt):
    /// the comm, then each `pid/tid`, are the roots, weighing what the records of that thread
    /// weigh; merged threads hide them; every frame's file is the DSO perf printed for its symbol.
    /// The reference is read from the text here, not through the reader.
    func testPerfScriptCommThreadRootsAndDSOsOnATwoThreadRecording() throws {
        let path = Fixtures.repoRoot.appendingPathComponent("Tests/Golden/perf-script/two-threads.txt").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var perThread: [String: Double] = [:]   // "pid P tid T" → summed period
        var dsoOf: [String: Set<String>] = [:]  // symbol → DSOs
        var current = ""
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if !line.hasPrefix("\t") && !line.hasPrefix(" ") {
                let w = line.split(separator: " ")
                let ids = w[1].split(separator: "/")
                current = "pid \(ids[0]) tid \(ids[1])"
                perThread[current, default: 0] += Double(w[3])!
                XCTAssertEqual(w[0], "two-threads")
            } else {
                let parts = line.split(separator: " ")
                let dso = String(parts.last!.dropFirst().dropLast())
                dsoOf[String(parts[1]), default: []].insert(dso)
            }
        }
        XCTAssertEqual(perThread.count, 2)
        let p = try load(path)
        XCTAssertEqual(p.format, "perf-script")
        let roots = p.tree.children(0)
        XCTAssertEqual(roots.map { p.frames.name(ofFrame: p.tree.frame[Int($0)]) }, ["two-threads"])
        XCTAssertEqual(p.frames.frameKind[Int(p.tree.frame[Int(roots[0])])], .process)
        var got: [String: Double] = [:]
        for t in p.tree.children(roots[0]) {
            XCTAssertEqual(p.frames.frameKind[Int(p.tree.frame[Int(t)])], .thread)
            got[p.frames.name(ofFrame: p.tree.frame[Int(t)]), default: 0] += p.tree.totalWeight[0][Int(t)]
        }
        XCTAssertEqual(got, perThread)
        let merged = p.mergingThreads()
        XCTAssertFalse(merged.tree.children(0).contains { merged.frames.frameKind[Int(merged.tree.frame[Int($0)])].isGrouping })
        XCTAssertEqual(merged.total(metric: 0), perThread.values.reduce(0, +))
        var checked = 0
        for fn in 0..<Int32(p.functions.count) {
            let name = p.frames.name(ofFunction: fn)
            guard let dsos = dsoOf[name] else { continue }
            XCTAssertEqual(dsos.count, 1, name)
            XCTAssertEqual(p.frames.file(ofFunction: fn), dsos.first, name)
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 4)     // spin, worker_a, worker_b, start_thread, kernel frames
        let report = Report.text(merged, options: ReportOptions(metric: 0))
        XCTAssertTrue(report.contains("spin  /tmp/j-rec/two-threads"), report)
    }

    func testPerfScriptCorpusLoadsOrFailsWithALine() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "perf-script" || $0.format == "perf-script(gzip)" }
        for e in entries {
            let path = dir + "/" + e.path
            let types = e.facts["event_types"] as? [String: Int] ?? [:]
            do {
                let p = try load(path, format: "perf-script")
                XCTAssertGreaterThan(p.sampleCount ?? 0, 0, e.path)
                if types.count > 1 {
                    let skipped = types.values.reduce(0, +) - (types[p.metadata.first { $0.0 == "event" }?.1 ?? ""] ?? 0)
                    XCTAssertTrue(p.warnings.contains { $0.hasPrefix("\(skipped) record(s) of other event types") },
                                  "\(e.path): \(p.warnings)")
                }
            } catch let error as ProfileError {
                // Only the deliberately broken inferno fixture has no readable record.
                XCTAssertTrue(e.path.contains("invalid-perf"), "\(e.path): \(error)")
                XCTAssertNotNil(error.line, "\(e.path): \(error)")
            }
        }
    }

    func testPerfScriptDetails() throws {
        let dir = try Fixtures.requireCorpus()
        // The first event type wins; the others are counted in a warning.
        let ci = try load(dir + "/FlameGraph/test/perf-cycles-instructions-01.txt")
        XCTAssertEqual(ci.metadata.first { $0.0 == "event" }?.1, "instructions")
        XCTAssertEqual(ci.sampleCount, 333)
        // Periods weigh records: go-stacks has 5 records of 250000.
        let go = try load(dir + "/inferno/tests/data/collapse-perf/go-stacks.txt")
        XCTAssertEqual(go.metrics[0], ValueType("cpu-clock", "nanoseconds"))
        XCTAssertEqual(go.sampleCount, 5)
        // Command names with spaces (speedscope's system-wide capture) become one root frame each.
        let sw = try load(dir + "/speedscope/sample/profiles/linux-perf/system-wide.linux-perf.txt")
        let roots = sw.tree.children(0).map { sw.frames.name(ofFrame: sw.tree.frame[Int($0)]) }
        XCTAssertFalse(roots.contains { $0.contains(" ") })
        XCTAssertTrue(sw.tree.children(0).allSatisfy { sw.frames.frameKind[Int(sw.tree.frame[Int($0)])] == .process })
        // Names.
        XCTAssertEqual(PerfScriptParser.frameNames(symbol: "[unknown]", module: "/usr/lib/libc-2.28.so", java: false),
                       ["[libc-2.28.so]"])
        XCTAssertEqual(PerfScriptParser.frameNames(symbol: "[unknown]", module: "[unknown]", java: false), ["[unknown]"])
        XCTAssertEqual(PerfScriptParser.frameNames(symbol: "Lorg/a/B;::c->Lorg/a/D;::e", module: "/tmp/perf-1.map", java: true),
                       ["org/a/B:::c", "org/a/D:::e_[i]"])
        XCTAssertEqual(PerfScriptParser.tidyGeneric("go/build.(*importReader).readByte"), "go/build.(*importReader).readByte")
        XCTAssertEqual(PerfScriptParser.tidyGeneric("std::function<void (int, int)>::operator(int, int)"),
                       "std::function<void (int, int)>::operator")
        XCTAssertEqual(PerfScriptParser.tidyGeneric("(anonymous namespace)::myBar()"), "(anonymous namespace)::myBar")
        XCTAssertEqual(PerfScriptParser.fixPartiallyDemangledRust(
            "_$LT$std..fs..ReadDir$u20$as$u20$core..iter..traits..iterator..Iterator$GT$::next::hc14f1750ca79129b"),
            "<std::fs::ReadDir as core::iter::traits::iterator::Iterator>::next")
        // Offsets are stripped, a leaf-first stack is reversed.
        let text = """
        my app 12/13 [001] 1.000001:     10 cycles:u:
        \t  4005d4 leaf+0x1f (/bin/app)
        \t  400600 main+0x20 (/bin/app)

        my app 12/13 [001] 1.000002:     5 cycles:u:
        \t  4005d5 leaf+0x20 (/bin/app)
        \t  400600 main+0x20 (/bin/app)
        """
        let p = try Self.parsePerf(Array(text.utf8), chunk: 3).freeze()
        XCTAssertEqual(Self.perfFolded(p, root: .comm), ["my_app;main;leaf": 15])
        XCTAssertEqual(Self.perfFolded(p, root: .tid), ["my_app-12/13;main;leaf": 15])
        let leaf = (0..<Int32(p.frames.functionCount)).first { p.frames.name(ofFunction: $0) == "leaf" }
        XCTAssertEqual(leaf.flatMap { p.frames.file(ofFunction: $0) }, "/bin/app")
    }

    // MARK: callgrind

    func testCallgrindCorpusFacts() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "callgrind" }
        XCTAssertGreaterThanOrEqual(entries.count, 6)
        for e in entries {
            let path = dir + "/" + e.path
            let f = e.facts
            let parser = CallgrindParser()
            let data = try Self.bytes(path)
            try data.withUnsafeBytes { try parser.feed($0) }
            let p = try parser.finish().freeze(source: path)
            XCTAssertEqual(try load(path).format, "callgrind", e.path)
            XCTAssertTrue(p.estimatedTree)
            XCTAssertEqual(p.metrics.map(\.name), f["events"] as? [String], e.path)
            XCTAssertEqual(parser.callRecords, f["call_records"] as? Int, "\(e.path): call records")
            // Functions with costs or calls: distinct (name, file) pairs.
            XCTAssertEqual(parser.functionCount, f["functions"] as? Int, "\(e.path): functions")
            XCTAssertLessThanOrEqual(p.functions.count, f["functions"] as? Int ?? 0, e.path)
            var expectedTotal = Self.number(f["total_self_first_event"]) ?? -1
            var expectedTop = f["top_self"] as? String ?? ""
            if e.path.hasSuffix("callgrind.subposition-compression.log") {
                // The fixture is callgrind.example.log with relative positions *and* costs, which is how
                // speedscope (whose fixture it is) reads it. The reference fact (-280) read the cost
                // "-300" as a literal and "+400" as 0; read as speedscope does, it is the example profile.
                XCTAssertEqual(expectedTotal, -280)
                expectedTotal = 820
                expectedTop = "func2 (700)"
            }
            let selfSum = p.functions.selfWeight[0].reduce(0, +)
            XCTAssertEqual(selfSum, expectedTotal, "\(e.path): self total")
            XCTAssertEqual(p.total(metric: 0), expectedTotal, "\(e.path): profile total")
            // The estimated tree carries the same self weight as the exact table.
            XCTAssertEqual(p.tree.totalWeight[0][0], selfSum, accuracy: 1e-6 * max(1, abs(selfSum)), e.path)
            if let (label, value) = Self.labelled(expectedTop) {
                let best = try XCTUnwrap((0..<p.functions.count).max { p.functions.selfWeight[0][$0] < p.functions.selfWeight[0][$1] })
                XCTAssertEqual(p.functions.selfWeight[0][best], value, "\(e.path): top self")
                let fn = Int32(best)
                let name = p.frames.name(ofFunction: fn)
                let yappiStyle = "\(name) \(p.frames.file(ofFunction: fn) ?? ""):\(p.frames.line(ofFunction: fn).map(String.init) ?? "")"
                XCTAssertTrue(label == name || label == yappiStyle, "\(e.path): top self \(label) vs \(yappiStyle)")
            }
        }
    }

    func testCallgrindSemantics() throws {
        let dir = try Fixtures.requireCorpus() + "/speedscope/sample/profiles/callgrind/"
        // Name compression and plain names give the same profile; so do several event types.
        let plain = try load(dir + "callgrind.example.log")
        let compressed = try load(dir + "callgrind.name-compression.log")
        XCTAssertEqual(Self.folded(plain), Self.folded(compressed))
        let multi = try load(dir + "callgrind.multiple-event-types.log")
        XCTAssertEqual(Self.folded(multi, metric: 0), Self.folded(plain))
        XCTAssertEqual(multi.metrics.count, 2)
        XCTAssertEqual(multi.functions.selfWeight[1].reduce(0, +), 15000 + 15000 + 8000)
        // The exact table: func2 is called 3 + 2 times; main's total is self plus its calls.
        let fn2 = try XCTUnwrap(plain.functionIndex(name: "func2"))
        let main = try XCTUnwrap(plain.functionIndex(name: "main"))
        XCTAssertEqual(plain.functions.calls?[fn2], 5)
        XCTAssertEqual(plain.functions.totalWeight[0][main], 820)
        XCTAssertEqual(plain.functions.edgeCaller.count, 3)
        // cfl=/cfn= apply to the next call only: gamma and delta are alpha.c's.
        let reset = try load(dir + "callgrind.cfn-reset.log")
        XCTAssertNotNil(reset.functionIndex(name: "gamma", fileSuffix: "alpha.c"))
        XCTAssertNotNil(reset.functionIndex(name: "delta", fileSuffix: "alpha.c"))
        XCTAssertNotNil(reset.functionIndex(name: "beta", fileSuffix: "beta.c"))
        // yappi: "name file:line" names become name + definition line; both threads' leaf_cpu are one function.
        let yappi = try load(Fixtures.corpusDir! + "/generated/yappi/yappi.callgrind.out")
        XCTAssertEqual(yappi.metrics, [ValueType("Ticks", "microseconds")])
        let leaf = try XCTUnwrap(yappi.functionIndex(name: "leaf_cpu", fileSuffix: "sampled.py"))
        XCTAssertEqual(yappi.frames.line(ofFunction: Int32(leaf)), 3)
        XCTAssertEqual(yappi.functions.calls?[leaf], 61 + 164)
    }

    // MARK: chunked feeding

    func testIncrementalParsersGiveIdenticalResultsForAnyChunking() throws {
        let dir = try Fixtures.requireCorpus()
        let austin = ["generated/austin/austin.memory.austin", "austin-python/test/data/austin.out",
                      "generated/austin/austin.full.austin", "inferno/tests/data/flamegraph/austin/flames.txt"]
        for f in austin {
            let data = try Self.bytes(dir + "/" + f)
            let whole = Self.signature(try Self.parseAustin(data, chunk: data.count))
            for chunk in [1, 7, 4096] where chunk == 4096 || data.count < 700_000 {
                XCTAssertEqual(Self.signature(try Self.parseAustin(data, chunk: chunk)), whole, "\(f) in chunks of \(chunk)")
            }
        }
        let mojo = ["austin-python/test/data/repeat.mojo", "austin-python/test/data/mp.mojo",
                    "austin-python/test/data/austinp.mojo", "generated/austin/austin.wall.mojo",
                    "austin-python/test/data/column.mojo"]
        for f in mojo {
            let data = try Self.bytes(dir + "/" + f)
            let (b, wholeParser) = try Self.parseMojo(data, chunk: data.count)
            let whole = Self.signature(b)
            for chunk in [1, 7, 4096] where chunk > 1 || data.count < 300_000 {
                let (bc, pc) = try Self.parseMojo(data, chunk: chunk)
                XCTAssertEqual(Self.signature(bc), whole, "\(f) in chunks of \(chunk)")
                XCTAssertEqual(pc.eventCounts, wholeParser.eventCounts, "\(f) in chunks of \(chunk)")
            }
        }
        let perf = ["inferno/tests/data/collapse-perf/java-inline.txt", "FlameGraph/test/perf-dd-stacks-01.txt",
                    "inferno/tests/data/collapse-perf/single-line-stacks.txt", "FlameGraph/test/perf-java-stacks-01.txt"]
        for f in perf {
            let data = try Self.bytes(dir + "/" + f)
            let whole = Self.signature(try Self.parsePerf(data, chunk: data.count))
            for chunk in [1, 7, 4096] {
                XCTAssertEqual(Self.signature(try Self.parsePerf(data, chunk: chunk)), whole, "\(f) in chunks of \(chunk)")
            }
        }
        // Callgrind reads through the same line splitter.
        let cg = try Self.bytes(dir + "/generated/yappi/yappi.callgrind.out")
        let cgWhole = Self.signature(try FormatRegistry.read(source: MemorySource(cg), name: "x"))
        for chunk in [1, 7, 4096] {
            XCTAssertEqual(Self.signature(try FormatRegistry.read(source: MemorySource(cg, chunk: chunk), name: "x")), cgWhole)
        }
    }

    /// A live MOJO: samples appear as bytes arrive, and a half-written event waits.
    func testMojoLiveTail() throws {
        let dir = try Fixtures.requireCorpus()
        let data = try Self.bytes(dir + "/austin-python/test/data/test.mojo")
        let parser = MojoParser()
        var seen: [Int] = []
        try Self.feedThrowing(data, 50_000) { try parser.feed($0); seen.append(parser.samples) }
        XCTAssertEqual(seen, seen.sorted())
        XCTAssertGreaterThan(seen.first ?? 0, 0)
        XCTAssertEqual(try parser.finish().sampleCount, 13227)
    }

    static func feedThrowing(_ data: [UInt8], _ chunk: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try data.withUnsafeBytes { all in
            var i = 0
            while i < all.count {
                let j = min(all.count, i + chunk)
                try body(UnsafeRawBufferPointer(rebasing: all[i..<j]))
                i = j
            }
        }
    }

    // MARK: sniffing

    /// Each corpus file of these formats is claimed by its reader and by no other of the four;
    /// files of other formats are claimed by none of them.
    func testSniffingByContent() throws {
        let dir = try Fixtures.requireCorpus()
        let mine: [(String, any ProfileReader.Type)] = [
            ("austin-text", AustinReader.self), ("austin-mojo", MojoReader.self),
            ("perf-script", PerfScriptReader.self), ("perf-script(gzip)", PerfScriptReader.self),
            ("callgrind", CallgrindReader.self),
        ]
        for e in try Fixtures.expected() {
            let path = dir + "/" + e.path
            guard let handle = FileHandle(forReadingAtPath: path) else { continue }
            var data = [UInt8](handle.readData(ofLength: 1 << 16))
            let complete = data.count < (1 << 16)
            if data.starts(with: [0x1F, 0x8B]) {
                guard e.format == "perf-script(gzip)" else { continue }
                data = Array(try FormatRegistry.readPrefix(GzipSource(MemorySource(data)), 1 << 16).0)
            }
            let claims = data.withUnsafeBytes { b in
                mine.filter { $0.1.sniff(b, complete: complete) == .yes }.map { $0.1.name }
            }
            let want = mine.first { $0.0 == e.format }?.1.name
            if e.path.contains("invalid-perf-with-empty-line") {
                XCTAssertEqual(claims, [], "\(e.path): inferno's guesser rejects it too")
            } else if let want {
                XCTAssertEqual(Set(claims), [want], "\(e.path) (\(e.format))")
            } else {
                XCTAssertEqual(claims, [], "\(e.path) (\(e.format)) claimed")
            }
        }
    }

    /// The sniffers' line walk: BOM dropped, `\n` and `\r\n` both end lines (a lone `\r`
    /// does not), blank lines kept, a cut last line left out of an incomplete prefix, and the
    /// walk stops when asked.
    func testPrefixLineWalk() {
        func lines(_ text: [UInt8], complete: Bool, stopAfter: Int = .max) -> [String] {
            var out: [String] = []
            text.withUnsafeBytes { b in
                b.forEachLine(complete: complete) { out.append(String($0)); return out.count < stopAfter }
            }
            return out
        }
        let text = [0xEF, 0xBB, 0xBF] + Array("a b\r\n\nc\rd\n  # x\ncut".utf8)
        XCTAssertEqual(lines(text, complete: true), ["a b", "", "c\rd", "  # x", "cut"])
        XCTAssertEqual(lines(text, complete: false), ["a b", "", "c\rd", "  # x"])
        XCTAssertEqual(lines(text, complete: true, stopAfter: 2), ["a b", ""])
        XCTAssertEqual(lines(Array("x\n".utf8), complete: false), ["x"])
        XCTAssertEqual(lines([], complete: true), [])
        text.withUnsafeBytes { b in
            XCTAssertEqual(b.dataLines(complete: true).map(String.init), ["a b", "c\rd", "cut"])
            XCTAssertEqual(b.dataLines(complete: true, limit: 1).map(String.init), ["a b"])
        }
    }

    // MARK: damaged input

    /// Truncated and corrupted files give a profile or a located ProfileError: never a crash or a hang.
    func testTruncatedAndCorruptedInputsNeverCrash() throws {
        let dir = try Fixtures.requireCorpus()
        let files: [(String, String)] = [
            ("generated/austin/austin.full.austin", "austin"), ("austin-python/test/data/repeat.mojo", "mojo"),
            ("austin-python/test/data/austinp.mojo", "mojo"), ("generated/austin/austin.wall.mojo", "mojo"),
            ("austin-python/test/data/column.mojo", "mojo"),
            ("FlameGraph/test/perf-java-stacks-01.txt", "perf-script"), ("generated/yappi/yappi.callgrind.out", "callgrind"),
            ("speedscope/sample/profiles/callgrind/callgrind.name-compression.log", "callgrind"),
        ]
        var rng: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> Int { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return Int(rng >> 1) }
        var outcomes: [String: Int] = [:]
        for (f, format) in files {
            let data = try Self.bytes(dir + "/" + f)
            var variants: [[UInt8]] = []
            for cut in [0, 1, 3, 4, 5, 17, data.count / 3, data.count / 2, data.count - 1] where cut <= data.count {
                variants.append(Array(data[0..<cut]))
            }
            for _ in 0..<12 {
                var d = data
                for _ in 0..<(1 + next() % 8) { d[next() % d.count] = UInt8(truncatingIfNeeded: next()) }
                variants.append(d)
            }
            for v in variants {
                do {
                    _ = try FormatRegistry.load(source: MemorySource(v, chunk: 1 + next() % 5000), name: f, format: format)
                    outcomes["\(format) ok", default: 0] += 1
                } catch let e as ProfileError {
                    XCTAssertTrue(e.line != nil || e.offset != nil || v.isEmpty, "\(f): unlocated error \(e)")
                    outcomes["\(format) error", default: 0] += 1
                }
            }
        }
        print("damaged inputs: \(outcomes.sorted { $0.key < $1.key })")
        // A MOJO event id that does not exist is reported at its offset.
        var bad = Array("MOJ".utf8) + [3, 99]
        XCTAssertThrowsError(try Self.parseMojo(bad, chunk: 1)) { e in
            XCTAssertEqual((e as? ProfileError)?.offset, 4)
        }
        bad = Array("MOJ".utf8) + [9]
        XCTAssertThrowsError(try Self.parseMojo(bad, chunk: 2)) { e in
            XCTAssertEqual((e as? ProfileError)?.offset, 3, "\(e)")
        }
        // Adversarial STACK_REPEAT chains stay bounded.
        var chain = Array("MOJ".utf8) + [4, 11, 2, 0x61, 0x2E, 0x70, 0x79, 0, 11, 3, 0x66, 0, 3, 1, 2, 3, 1, 0, 0, 0]
        for _ in 0..<5_000 { chain += [2, 1, 0, 0x31, 0, 13, 5, 1] }
        let (b, _) = try Self.parseMojo(chain, chunk: 1 << 16)
        XCTAssertTrue(b.warnings.contains { $0.contains("deeper than") }, "\(b.warnings)")
    }
}
