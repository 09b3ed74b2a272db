import Foundation
import XCTest
@testable import ProfileModel

/// Python 3.15 `profiling.sampling` (Tachyon) outputs: the binary capture (raw and zstd), JSONL
/// and the sampled pstats dump. Facts come from `EXPECTED.json` (reference parsers run on the
/// austin recordings the files were written from, see SOURCES.md); the copies under
/// `Tests/Golden/{tachyon,tachyon-jsonl,pstats}` are checked against the same facts, written out here, so a clone
/// without ../shared still tests the readers.
final class TachyonTests: XCTestCase {

    static func golden(_ name: String) -> String {
        Fixtures.repoRoot.appendingPathComponent("Tests/Golden").appendingPathComponent(name).path
    }

    static func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Through the registry from memory (no size known, as a pipe), in chunks of `chunk` bytes.
    static func loadBytes(_ b: [UInt8], chunk: Int = 1 << 20, name: String = "x") throws -> Profile {
        try FormatRegistry.load(source: MemorySource(b, chunk: chunk), name: name)
    }

    // MARK: facts, computed from the profile by plain walks

    struct Facts: Equatable {
        var total = 0.0
        var threads: [String] = []
        var distinctStacks = 0
        var maxDepth = 0
        /// Self samples per (function name, file), summed over lines.
        var selfByFunction: [String: Double] = [:]
        var topSelf: (String, Double) { selfByFunction.max { ($0.value, $1.key) < ($1.value, $0.key) }.map { ($0.key, $0.value) } ?? ("", 0) }
        static func == (a: Facts, b: Facts) -> Bool {
            a.total == b.total && a.threads == b.threads && a.distinctStacks == b.distinctStacks
                && a.maxDepth == b.maxDepth && a.selfByFunction == b.selfByFunction
        }
    }

    static func facts(_ p: Profile) -> Facts {
        var f = Facts()
        let m = 0
        for n in 1..<p.tree.count {
            let fr = p.tree.frame[n]
            if p.frames.frameKind[Int(fr)] == .thread { f.threads.append(p.frames.name(ofFrame: fr)) }
            let w = p.tree.selfWeight[m][n]
            guard w != 0 else { continue }
            f.total += w
            f.distinctStacks += 1
            let fn = p.frames.frameFunction[Int(fr)]
            if fn >= 0 {
                let key = p.frames.name(ofFunction: fn) + " " + (p.frames.file(ofFunction: fn) ?? "")
                f.selfByFunction[key, default: 0] += w
            }
        }
        // Depth in frames below the thread root.
        f.maxDepth = max(f.maxDepth, p.tree.maxDepth() - 1)
        f.threads.sort()
        return f
    }

    // MARK: binary, from EXPECTED.json

    func testBinaryCorpusFilesReproduceTheExpectedFacts() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "tachyon-binary" }
        XCTAssertEqual(entries.count, 4)
        for e in entries {
            let x = e.facts["expected_from_austin"] as! [String: Any]
            let header = e.facts["header"] as! [String: Any]
            let p = try load(dir + "/" + e.path)
            XCTAssertEqual(p.format, "tachyon", e.path)
            XCTAssertEqual(p.metrics[p.defaultMetric], ValueType("samples", "count"))
            let f = Self.facts(p)
            let withFrames = Double(x["thread_samples_with_frames"] as! Int)
            XCTAssertEqual(f.total, withFrames, e.path)
            XCTAssertEqual(p.sampleCount, Int(withFrames), e.path)
            XCTAssertEqual(f.distinctStacks, x["distinct_thread_stacks (tid, stack)"] as! Int, e.path)
            XCTAssertEqual(f.maxDepth, x["max_stack_depth"] as! Int, e.path)
            let tids = (x["thread_ids"] as! [Int]).map(String.init)
            XCTAssertEqual(f.threads.count, tids.count, e.path)
            for t in tids { XCTAssertTrue(f.threads.contains { $0.hasPrefix("thread \(t)") }, "\(e.path): thread \(t)") }
            let main = String(x["main_thread_id"] as! Int)
            XCTAssertTrue(f.threads.contains("thread \(main) (main)"), e.path)
            let top = x["top_self_function"] as! [String: Any]
            XCTAssertEqual(f.topSelf.0, "\(top["funcname"]!) \(top["filename"]!)", e.path)
            XCTAssertEqual(f.topSelf.1, Double(top["self_samples"] as! Int), e.path)
            // The function table agrees with the tree, and the cumulative top frame's function
            // is at least as heavy as the frame.
            let cum = x["top_cumulative_frame"] as! [String: Any]
            let fn = try XCTUnwrap(p.functionIndex(name: cum["funcname"] as! String, fileSuffix: cum["filename"] as? String))
            XCTAssertGreaterThanOrEqual(p.functions.totalWeight[0][fn], Double(cum["cumulative_samples"] as! Int), e.path)
            let meta = Dictionary(p.metadata, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(meta["interval"], "\(header["sample_interval_us@20"]!) µs", e.path)
            XCTAssertEqual(meta["thread samples"], String(header["sample_count_u64@28"] as! Int), e.path)
            XCTAssertEqual(meta["empty-stack samples"], String(x["empty_stack_samples"] as! Int), e.path)
            XCTAssertEqual(meta["duration"], "\(x["duration_us (last-first)"]!) µs", e.path)
            XCTAssertEqual(p.warnings, [], e.path)
            // On-CPU and GIL samples per the status counts (EXPECTED's status_counts).
            let status = x["status_counts"] as! [String: Int]
            var cpu = 0, gil = 0
            for (k, v) in status {
                let bits = Int(k.split(separator: " ")[0].dropFirst(2), radix: 16)!
                if bits & 0x02 != 0 { cpu += v }
                if bits & 0x01 != 0 { gil += v }
            }
            if let m = p.metricIndex(named: "on-cpu") { XCTAssertEqual(p.total(metric: m), Double(cpu), e.path) }
            else { XCTAssertEqual(cpu, 0, e.path) }
            if let m = p.metricIndex(named: "gil") { XCTAssertEqual(p.total(metric: m), Double(gil), e.path) }
            else { XCTAssertEqual(gil, 0, e.path) }
        }
    }

    /// The raw and zstd captures of one recording are the same profile.
    func testCompressedAndRawCapturesAgree() throws {
        let raw = try load(Self.golden("tachyon/etl-raw.tachyon.bin")), z = try load(Self.golden("tachyon/etl-zstd.tachyon.zst.bin"))
        XCTAssertEqual(Self.facts(raw), Self.facts(z))
        XCTAssertTrue(z.metadata.contains { $0 == ("compression", "zstd") })
    }

    // MARK: binary, committed copies (facts from EXPECTED.json for etl.tachyon.bin)

    func testGoldenBinaryInEveryChunkSize() throws {
        for name in ["tachyon/etl-raw.tachyon.bin", "tachyon/etl-zstd.tachyon.zst.bin"] {
            let b = try Self.bytes(Self.golden(name))
            var seen: Facts? = nil
            for chunk in [1, 7, b.count] {
                let p = try Self.loadBytes(b, chunk: chunk)
                let f = Self.facts(p)
                XCTAssertEqual(f.total, 587, "\(name) chunk \(chunk)")
                XCTAssertEqual(p.sampleCount, 587)
                XCTAssertEqual(f.distinctStacks, 34)
                XCTAssertEqual(f.maxDepth, 66)
                XCTAssertEqual(f.threads, ["thread 5315 (main)"])
                XCTAssertEqual(f.topSelf.0, "dedupe workload/etl.py")
                XCTAssertEqual(f.topSelf.1, 533)
                XCTAssertEqual(p.frames.name(ofFrame: p.tree.frame[Int(p.tree.hotPath(metric: 0).last!)]), "dedupe")
                if let seen { XCTAssertEqual(f, seen, "\(name) chunk \(chunk)") }
                seen = f
            }
            // A regular file (size known up front) reads the same.
            XCTAssertEqual(Self.facts(try load(Self.golden(name))), seen)
        }
    }

    /// Every cut and a few hundred flipped bytes: a profile or a located one-line error.
    func testDamagedBinaryGivesALocatedErrorOrAProfile() throws {
        for name in ["tachyon/etl-raw.tachyon.bin", "tachyon/etl-zstd.tachyon.zst.bin"] {
            let b = try Self.bytes(Self.golden(name))
            var rng = SeededRNG(seed: 15)
            var cases: [[UInt8]] = stride(from: 0, to: b.count, by: 5).map { Array(b[0..<$0]) }
            for _ in 0..<300 {
                var c = b
                c[Int(rng.next() % UInt64(b.count))] ^= UInt8(1 << (rng.next() % 8))
                cases.append(c)
            }
            var loaded = 0, refused = 0
            for c in cases {
                do { _ = try Self.loadBytes(c, name: name); loaded += 1 } catch let e as ProfileError {
                    refused += 1
                    XCTAssertTrue(CorpusConformanceTests.isLocated(e, name: name), e.at(file: name).description)
                }
            }
            XCTAssertGreaterThan(refused, cases.count / 2, name)   // every cut is an error
            _ = loaded
        }
        // A capture killed before it finished has a zeroed header (no magic: only --format finds it).
        var b = try Self.bytes(Self.golden("tachyon/etl-raw.tachyon.bin"))
        for i in 0..<64 { b[i] = 0 }
        XCTAssertThrowsError(try FormatRegistry.load(source: MemorySource(b), name: "z", format: "tachyon")) { e in
            XCTAssertTrue((e as! ProfileError).message.contains("never finished"), "\(e)")
        }
        let cut = Array(try Self.bytes(Self.golden("tachyon/etl-raw.tachyon.bin")).dropLast(1))
        XCTAssertThrowsError(try Self.loadBytes(cut)) { e in
            XCTAssertTrue((e as! ProfileError).message.contains("footer") || (e as! ProfileError).message.contains("frame"), "\(e)")
        }
    }

    // MARK: binary, edge cases written from the spec (FORMATS.md §8.1)

    static func varint(_ v: UInt64) -> [UInt8] {
        var out: [UInt8] = [], x = v
        repeat { var c = UInt8(x & 0x7F); x >>= 7; if x != 0 { c |= 0x80 }; out.append(c) } while x != 0
        return out
    }
    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func fixed(_ v: UInt64, _ n: Int, _ big: Bool) -> [UInt8] {
        let le = (0..<n).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) }
        return big ? le.reversed() : le
    }

    /// Two threads: thread 7 samples main→work three times (FULL, then a REPEAT of 2), then
    /// main alone (POP_PUSH); thread 9 samples main once (FULL) and an empty stack (SUFFIX 0+0).
    static func capture(big: Bool = false, legacy: Bool = false, threeFields: Bool = false, stats: Bool = false) -> [UInt8] {
        var data: [UInt8] = []
        func rec(_ tid: UInt64, _ enc: UInt8, _ body: [UInt8]) {
            data += fixed(tid, 8, big) + fixed(0, 4, big) + [enc] + body
        }
        rec(7, 1, varint(5) + [0x20] + varint(2) + varint(1) + varint(0))          // FULL [work, main]
        rec(7, 0, varint(2) + varint(5) + [0x20] + varint(5) + [0x20])              // REPEAT 2
        rec(9, 1, varint(3) + [0x00] + varint(1) + varint(0))                       // FULL [main]
        rec(7, 3, varint(5) + [0x20] + varint(1) + varint(0))                       // POP_PUSH pop 1
        rec(9, 2, varint(4) + [0x00] + varint(0) + varint(0))                       // SUFFIX: empty
        var strings: [UInt8] = []
        for s in ["a.py", "main", "work"] { strings += varint(UInt64(s.utf8.count)) + Array(s.utf8) }
        var frames: [UInt8] = []
        for (name, line) in [(1, 10), (2, 20)] {
            frames += varint(0) + varint(UInt64(name)) + varint(zigzag(Int64(line)))
            if !threeFields { frames += varint(zigzag(0)) + varint(zigzag(-1)) + varint(zigzag(0)) + [255] }
        }
        let strOff = 64 + data.count, frameOff = strOff + strings.count
        var block: [UInt8] = []
        if stats {
            block = fixed(Double(0.5).bitPattern, 8, big) + fixed(Double(100).bitPattern, 8, big)
                + Array("TACHSTAT".utf8) + fixed(1, 4, big) + fixed(32, 4, big)
        }
        let size = frameOff + frames.count + block.count + 32
        var h = fixed(0x5441_4348, 4, big) + fixed(1, 4, big) + [3, 15, 0, 0] + fixed(1000, 8, big) + fixed(1000, 8, big)
        if legacy {
            h += fixed(6, 4, big) + fixed(2, 4, big) + fixed(UInt64(strOff), 8, big) + fixed(UInt64(frameOff), 8, big)
                + fixed(0, 4, big) + [UInt8](repeating: 0, count: 8)
        } else {
            h += fixed(6, 8, big) + fixed(2, 4, big) + fixed(UInt64(strOff), 8, big) + fixed(UInt64(frameOff), 8, big)
                + fixed(0, 4, big) + fixed(0, 4, big)
        }
        precondition(h.count == 64)
        let footer = fixed(3, 4, big) + fixed(2, 4, big) + fixed(UInt64(size), 8, big) + [UInt8](repeating: 0, count: 16)
        return h + data + strings + frames + block + footer
    }

    func testSpecEdgeCasesByteOrderLegacyHeaderOldFramesStatsBlock() throws {
        let variants: [(String, [UInt8])] = [
            ("little-endian", Self.capture()), ("big-endian", Self.capture(big: true)),
            ("legacy header", Self.capture(legacy: true)), ("big legacy", Self.capture(big: true, legacy: true)),
            ("3-field frames", Self.capture(threeFields: true)), ("TACHSTAT", Self.capture(stats: true)),
            ("big TACHSTAT", Self.capture(big: true, stats: true)),
        ]
        for (what, b) in variants {
            for chunk in [1, 7, b.count] {
                let p = try Self.loadBytes(b, chunk: chunk)
                XCTAssertEqual(p.format, "tachyon", what)
                let f = Self.facts(p)
                XCTAssertEqual(f.total, 5, what)
                XCTAssertEqual(f.threads, ["thread 7 (main)", "thread 9"], what)
                XCTAssertEqual(f.selfByFunction, ["work a.py": 3, "main a.py": 2], what)
                XCTAssertEqual(f.distinctStacks, 3, what)     // (7, main→work), (7, main), (9, main)
                XCTAssertEqual(p.sampleCount, 5, what)
                XCTAssertEqual(p.warnings, [], what)
                let meta = Dictionary(p.metadata, uniquingKeysWith: { a, _ in a })
                XCTAssertEqual(meta["thread samples"], "6", what)
                XCTAssertEqual(meta["empty-stack samples"], "1", what)
            }
        }
        // Text that starts with the magic's letters is not a capture.
        XCTAssertEqual(Array("TACHYON;main 3\n".utf8).withUnsafeBytes { TachyonBinaryReader.sniff($0, complete: true) }, .no)
        // A record that pops more frames than the stack holds is located.
        var bad = Self.capture()
        let popRecord = 64 + (13 + 5) + (13 + 5) + (13 + 4)          // thread 7's POP_PUSH
        bad[popRecord + 13 + 2] = 9
        XCTAssertThrowsError(try Self.loadBytes(bad)) { e in
            XCTAssertEqual((e as! ProfileError).offset, popRecord, "\(e)")
        }
    }

    // MARK: JSONL

    func testJSONLCorpusFilesReproduceTheExpectedFacts() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "tachyon-jsonl" }
        XCTAssertEqual(entries.count, 2)
        for e in entries {
            let x = e.facts["expected_from_austin"] as! [String: Any]
            let p = try load(dir + "/" + e.path)
            XCTAssertEqual(p.format, "tachyon-jsonl")
            let total = Double(x["samples_total (agg and end; thread samples with frames)"] as! Int)
            XCTAssertEqual(p.total(metric: 0), total, e.path)
            XCTAssertEqual(p.sampleCount, Int(total))
            XCTAssertEqual(p.frames.frameCount, x["frames"] as! Int, e.path)
            let top = x["top_self_frame"] as! [String: Any]
            let fn = try XCTUnwrap((0..<p.functions.count).first {
                p.frames.name(ofFunction: Int32($0)) == top["funcname"] as! String
                    && p.frames.line(ofFunction: Int32($0)) == top["line"] as? Int
            })
            XCTAssertEqual(p.functions.selfWeight[0][fn], Double(top["self"] as! Int), e.path)
            XCTAssertEqual(p.functions.totalWeight[0][fn], Double(top["cumulative"] as! Int), e.path)
            XCTAssertEqual(p.functions.selfWeight[0].max(), Double(top["self"] as! Int), e.path)
            let cum = x["top_cumulative_frame"] as! [String: Any]
            XCTAssertEqual(p.functions.totalWeight[0].max(), Double(cum["cumulative_samples"] as! Int), e.path)
            XCTAssertEqual(p.warnings, [], e.path)
        }
    }

    func testGoldenJSONLInEveryChunkSizeAndCut() throws {
        let b = try Self.bytes(Self.golden("tachyon-jsonl/etl.tachyon.jsonl"))
        for chunk in [1, 7, b.count] {
            let p = try Self.loadBytes(b, chunk: chunk)
            XCTAssertEqual(p.total(metric: 0), 587)
            let fn = try XCTUnwrap((0..<p.functions.count).first {
                p.frames.name(ofFunction: Int32($0)) == "dedupe" && p.frames.line(ofFunction: Int32($0)) == 62 })
            XCTAssertEqual(p.functions.selfWeight[0][fn], 530)
            let module = try XCTUnwrap((0..<p.functions.count).first {
                p.frames.name(ofFunction: Int32($0)) == "<module>" && p.frames.line(ofFunction: Int32($0)) == 88 })
            XCTAssertEqual(p.functions.totalWeight[0][module], 574)
        }
        // Cut before the end record: a profile that says so, or a located error.
        for cut in stride(from: 1, to: b.count, by: 97) {
            do {
                let p = try Self.loadBytes(Array(b[0..<cut]), name: "t.jsonl")
                XCTAssertTrue(p.warnings.contains { $0.contains("cut") }, "cut@\(cut)")
            } catch let e as ProfileError {
                XCTAssertTrue(CorpusConformanceTests.isLocated(e, name: "t.jsonl"), e.description)
            }
        }
    }

    /// Schema v 1 (main, May 2026): `str_def`/`frame_def` under `defs`, ids from 1, synthetic
    /// frames, unknown record types and fields ignored; records may split their lists.
    func testJSONLSchemaV1() throws {
        let text = """
        {"type":"meta","v":1,"run_id":"x","sample_interval_usec":1000,"mode":"cpu","future":[1,2]}
        {"type":"str_def","v":1,"defs":[{"str_id":1,"value":"a.py"},{"str_id":2,"value":"work"}]}
        {"type":"str_def","v":1,"defs":[{"str_id":3,"value":"<GC>"},{"str_id":4,"value":"~"}]}
        {"type":"frame_def","v":1,"defs":[{"frame_id":1,"path_str_id":1,"func_str_id":2,"line":7},{"frame_id":2,"path_str_id":4,"func_str_id":3,"line":0,"synthetic":true}]}
        {"type":"something_new","v":1,"entries":[{"frame_id":99}]}
        {"type":"agg","v":1,"kind":"frame","scope":"final","samples_total":10,"entries":[{"frame_id":1,"self":6,"cumulative":9}]}
        {"type":"agg","v":1,"kind":"frame","scope":"final","samples_total":10,"entries":[{"frame_id":2,"self":4,"cumulative":4}]}
        {"type":"end","v":1,"samples_total":10}

        """
        let p = try Self.loadBytes(Array(text.utf8), chunk: 7)
        XCTAssertEqual(p.format, "tachyon-jsonl")
        XCTAssertEqual(p.total(metric: 0), 10)
        XCTAssertEqual(p.warnings, [])
        let work = try XCTUnwrap(p.functionIndex(name: "work", fileSuffix: "a.py"))
        XCTAssertEqual(p.functions.totalWeight[0][work], 9)
        let gc = try XCTUnwrap(p.functionIndex(name: "<GC>"))
        XCTAssertEqual(p.frames.functionKind[gc], .special)
        XCTAssertNil(p.frames.file(ofFunction: Int32(gc)))
        // An undefined string is located at its frame record's line.
        let broken = text.replacingOccurrences(of: "\"func_str_id\":2", with: "\"func_str_id\":42")
        XCTAssertThrowsError(try Self.loadBytes(Array(broken.utf8), name: "b.jsonl")) { e in
            XCTAssertEqual((e as! ProfileError).line, 4, "\(e)")
        }
        // Bad JSON on a line is located at that line.
        let bad = text.replacingOccurrences(of: "{\"type\":\"end\"", with: "{\"type\":\"end\",,")
        XCTAssertThrowsError(try Self.loadBytes(Array(bad.utf8), name: "b.jsonl")) { e in
            XCTAssertEqual((e as! ProfileError).line, 8, "\(e)")
        }
    }

    // MARK: sampled pstats

    func testSampledPstatsCorpusFilesAreSampleCounts() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "pstats (tachyon, sampled)" }
        XCTAssertEqual(entries.count, 2)
        for e in entries { try checkSampledPstats(try load(dir + "/" + e.path), e.facts["expected_from_austin"] as! [String: Any], e.path) }
    }

    func checkSampledPstats(_ p: Profile, _ x: [String: Any], _ what: String) throws {
        XCTAssertEqual(p.format, "pstats")
        XCTAssertEqual(p.metrics.map(\.description), ["samples/count", "time/seconds"], what)
        XCTAssertEqual(p.defaultMetric, 0)
        XCTAssertNil(p.functions.calls, "\(what): a sampled dump counts no calls")
        let sum = Double(x["sum_direct_samples"] as! Int)
        XCTAssertEqual(p.functions.selfWeight[0].reduce(0, +), sum, what)
        XCTAssertEqual(p.sampleCount, Int(sum), what)
        XCTAssertEqual(p.total(metric: 0), sum, accuracy: 1e-6, what)
        XCTAssertEqual(p.functions.count, x["entries (excluding marker)"] as! Int, what)
        func fn(_ key: [Any]) throws -> Int {
            try XCTUnwrap((0..<p.functions.count).first {
                p.frames.name(ofFunction: Int32($0)) == key[2] as! String
                    && p.frames.line(ofFunction: Int32($0)) == key[1] as? Int
                    && (p.frames.file(ofFunction: Int32($0)) ?? "") == key[0] as! String
            }, "\(what): \(key)")
        }
        let top = x["top_direct_entry"] as! [String: Any]
        let t = try fn(top["key"] as! [Any])
        XCTAssertEqual(p.functions.selfWeight[0][t], Double(top["direct"] as! Int), what)
        XCTAssertEqual(p.functions.selfWeight[1][t], top["tottime_s"] as! Double, accuracy: 1e-9, what)
        XCTAssertEqual(p.functions.selfWeight[0].max(), Double(top["direct"] as! Int), what)
        let cum = x["top_cumulative_entry"] as! [String: Any]
        XCTAssertEqual(p.functions.totalWeight[0][try fn(cum["key"] as! [Any])], Double(cum["cumulative"] as! Int), what)
        XCTAssertEqual(p.functions.totalWeight[0].max(), Double(cum["cumulative"] as! Int), what)
        // Summed over its lines, the top function (EXPECTED's aggregate).
        let agg = x["top_self_function (aggregated over lines)"] as! [String: Any]
        var byName: [String: Double] = [:]
        for f in 0..<p.functions.count {
            byName[p.frames.name(ofFunction: Int32(f)) + " " + (p.frames.file(ofFunction: Int32(f)) ?? ""), default: 0]
                += p.functions.selfWeight[0][f]
        }
        let best = byName.max { $0.value < $1.value }!
        XCTAssertEqual(best.key, "\(agg["funcname"]!) \(agg["filename"]!)", what)
        XCTAssertEqual(best.value, Double(agg["self_samples"] as! Int), what)
        XCTAssertTrue(p.metadata.contains { $0 == ("sampled", "true") }, what)
    }

    func testGoldenSampledPstats() throws {
        let p = try load(Self.golden("pstats/etl-tachyon.pstats"))
        try checkSampledPstats(p, [
            "sum_direct_samples": 587, "entries (excluding marker)": 99,
            "top_direct_entry": ["key": ["workload/etl.py", 62, "dedupe"], "direct": 530, "tottime_s": 1.06] as [String: Any],
            "top_cumulative_entry": ["key": ["workload/etl.py", 88, "<module>"], "cumulative": 574] as [String: Any],
            "top_self_function (aggregated over lines)": ["funcname": "dedupe", "filename": "workload/etl.py",
                                                          "self_samples": 533] as [String: Any],
        ], "golden etl.tachyon.pstats")
        XCTAssertTrue(p.metadata.contains { $0 == ("interval", "2000 µs") })
    }
}
