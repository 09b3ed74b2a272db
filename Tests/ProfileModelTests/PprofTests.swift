import Foundation
import XCTest
@testable import ProfileModel

/// pprof profile.proto: every corpus pprof against the facts an independent decoder (the
/// official profile.proto) computed in EXPECTED.json, pprof's own debug dumps, the legacy
/// formats we refuse, sniffing, hand-made profiles for the model rules (inlining, order,
/// labels), and damaged input (truncated, bit-flipped, lying lengths).
final class PprofTests: XCTestCase {

    // MARK: corpus

    func testCorpusPprofMatchesExpectedFacts() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "pprof(gzip)" || $0.format == "pprof(raw protobuf)" }
        XCTAssertGreaterThanOrEqual(entries.count, 21)
        for e in entries {
            let path = dir + "/" + e.path
            let f = e.facts
            let p: Profile
            do { p = try load(path) } catch { XCTFail("\(e.path): \(error)"); continue }
            XCTAssertEqual(p.format, "pprof", e.path)
            XCTAssertFalse(p.estimatedTree, e.path)
            let meta = Dictionary(p.metadata, uniquingKeysWith: { a, _ in a })
            if let gz = f["gzip"] as? Bool {
                let head = try rawBytes(path).prefix(2)
                XCTAssertEqual(head == [0x1F, 0x8B], gz, "\(e.path): gzip")
            }
            if let types = f["sample_types"] as? [String] {
                XCTAssertEqual(p.metrics.map(\.description), types, "\(e.path): sample types")
            }
            if let n = f["samples"] as? Int { XCTAssertEqual(meta["sample records"], String(n), "\(e.path): samples") }
            if let sums = f["value_sums"] as? [NSNumber] {
                XCTAssertEqual(sums.count, p.metrics.count, e.path)
                for (m, s) in sums.enumerated() where m < p.metrics.count {
                    XCTAssertEqual(p.total(metric: m), s.doubleValue, "\(e.path): value sum of \(p.metrics[m])")
                    // The tree holds every sample: its self weights add up to the same sum.
                    XCTAssertEqual(p.tree.selfWeight[m].reduce(0, +), s.doubleValue, "\(e.path): self sum")
                }
            }
            for key in ["locations", "functions", "mappings", "strings"] {
                if let n = f[key] as? Int { XCTAssertEqual(meta[key], String(n), "\(e.path): \(key)") }
            }
            if let period = f["period"] as? String { XCTAssertEqual(meta["period"], period, "\(e.path): period") }
            if let labels = f["labels"] as? Int {
                XCTAssertTrue(meta["labels"]?.hasPrefix("\(labels);") ?? false, "\(e.path): labels \(meta["labels"] ?? "nil")")
            } else if f["sample_types"] != nil {
                XCTAssertNil(meta["labels"], "\(e.path): no labels expected")
            }
            for (key, value) in f where key.hasPrefix("top_flat(") {
                checkTopFlat(p, metricName: String(key.dropFirst(9).dropLast()), expected: value as! String, path: e.path)
            }
            if let bad = f["invalid_utf8_strings"] as? Int {
                XCTAssertTrue(p.warnings.contains { $0.hasPrefix("\(bad) string table entr") && $0.contains("UTF-8") },
                              "\(e.path): \(p.warnings)")
                let names = (0..<p.frames.frameCount).map { p.frames.name(ofFrame: Int32($0)) }
                    + (0..<p.frames.frameCount).compactMap { p.frames.file(ofFrame: Int32($0)) }
                XCTAssertTrue(names.contains { $0.contains("\u{FFFD}") }, "\(e.path): replaced bytes shown as U+FFFD")
                if let n = f["samples"] as? Int { XCTAssertEqual(meta["sample records"], String(n), e.path) }
            } else {
                XCTAssertFalse(p.warnings.contains { $0.contains("UTF-8") }, "\(e.path): \(p.warnings)")
            }
        }
    }

    /// `top_flat(T)` is `NAME (VALUE)`: the function of `location_id[0]` (the leaf) with the
    /// largest summed value of sample type T, i.e. our per-function self weight.
    func checkTopFlat(_ p: Profile, metricName: String, expected: String, path: String) {
        guard let m = p.metricIndex(named: metricName) else { return XCTFail("\(path): no metric \(metricName)") }
        guard let open = expected.range(of: " (", options: .backwards) else { return XCTFail(path) }
        let name = String(expected[..<open.lowerBound])
        let value = Double(expected[open.upperBound...].dropLast())!
        // The reference keys functions by name alone; ours also by file, so add same-named ones up.
        let ft = p.functions
        var byName: [String: Double] = [:]
        for fn in 0..<ft.count { byName[p.frames.name(ofFunction: Int32(fn)), default: 0] += ft.selfWeight[m][fn] }
        let best = byName.values.max() ?? 0
        XCTAssertEqual(best, value, "\(path): top flat value")
        let winners = byName.filter { $0.value == best }.keys.sorted()
        XCTAssertTrue(winners.contains(name), "\(path): top flat \(name) not in \(winners)")
        // The default metric is the one the reference ranked by.
        XCTAssertEqual(p.defaultMetric, m, "\(path): default metric")
    }

    /// pprof's `*.string` files are its debug dump of the sibling after parsing. Our parse of
    /// the dump must give the facts; the sibling itself must load to the same sums when it is
    /// a format we read, and otherwise be refused by name.
    func testDebugDumpsAgreeWithSiblings() throws {
        let dir = try Fixtures.requireCorpus()
        let all = try Fixtures.expected()
        let formats = Dictionary(all.map { ($0.path, $0.format) }, uniquingKeysWith: { a, _ in a })
        let dumps = all.filter { $0.format.hasPrefix("pprof debug dump") }
        XCTAssertGreaterThanOrEqual(dumps.count, 14)
        for e in dumps {
            let text = try String(decoding: rawBytes(dir + "/" + e.path), as: UTF8.self)
            let dump = parseDebugDump(text)
            XCTAssertEqual(dump.types, e.facts["sample_types"] as? [String], "\(e.path): dump types")
            XCTAssertEqual(dump.samples.count, e.facts["samples"] as? Int, "\(e.path): dump samples")
            let sums = (e.facts["value_sums"] as? [NSNumber] ?? []).map(\.doubleValue)
            XCTAssertEqual(dump.sums, sums, "\(e.path): dump value sums")
            // The dump is text: never taken for a protobuf.
            XCTAssertEqual(sniffPprof(Array(text.utf8)), false, "\(e.path): a text dump is not pprof")

            let sibling = String(e.path.dropLast(".string".count))
            let siblingFormat = try XCTUnwrap(formats[sibling], "\(e.path): sibling \(sibling) in EXPECTED.json")
            if siblingFormat.hasPrefix("pprof(") {
                let p = try load(dir + "/" + sibling)
                XCTAssertEqual(p.metrics.map(\.description), dump.types, sibling)
                for (m, s) in dump.sums.enumerated() { XCTAssertEqual(p.total(metric: m), s, sibling) }
            } else {
                XCTAssertThrowsError(try load(dir + "/" + sibling), sibling) { error in
                    XCTAssertTrue((error as? ProfileError)?.message.contains("not supported") ?? false, "\(sibling): \(error)")
                }
            }
        }
    }

    func parseDebugDump(_ text: String) -> (types: [String], samples: [[Double]], sums: [Double]) {
        var types: [String] = []
        var samples: [[Double]] = []
        var inSamples = false, sawHeader = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Samples:") { inSamples = true; continue }
            guard inSamples else { continue }
            if !sawHeader { types = line.split(separator: " ").map(String.init); sawHeader = true; continue }
            if !line.hasPrefix(" ") { break }   // "Locations", "Mappings": end of the samples
            guard let colon = line.firstIndex(of: ":") else { continue }
            let values = line[..<colon].split(separator: " ").compactMap { Double($0) }
            if values.count == types.count && !values.isEmpty { samples.append(values) }  // else a label line
        }
        let sums = types.indices.map { m in samples.reduce(0) { $0 + $1[m] } }
        return (types, samples, sums)
    }

    /// gperftools CPU profiles and pprof's legacy text formats are recognised and refused with a
    /// message that names the format.
    func testLegacyFormatsAreRefusedByName() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter {
            $0.format.hasPrefix("gperftools-legacy-cpu") || $0.format.hasPrefix("pprof legacy text")
        }
        XCTAssertGreaterThanOrEqual(entries.count, 14)
        for e in entries {
            let expected = e.format.hasPrefix("gperftools") ? "gperftools legacy CPU profile" : "pprof legacy text profile"
            XCTAssertThrowsError(try load(dir + "/" + e.path), e.path) { error in
                guard let pe = error as? ProfileError else { return XCTFail("\(e.path): \(error)") }
                XCTAssertTrue(pe.message.contains(expected) && pe.message.contains("not supported"), "\(e.path): \(pe)")
            }
        }
    }

    // MARK: sniffing

    /// No other corpus file (text, JSON, pstats marshal, MOJO, legacy binaries, debug dumps) is
    /// claimed by the pprof sniffer; every pprof is, from its whole prefix and from cut prefixes.
    func testSniffClaimsPprofOnly() throws {
        let dir = try Fixtures.requireCorpus()
        var others = 0
        for e in try Fixtures.expected() {
            let data = try inflated(dir + "/" + e.path)
            let isPprof = e.format == "pprof(gzip)" || e.format == "pprof(raw protobuf)"
            if data.isEmpty { continue }
            XCTAssertEqual(sniffPprof(data), isPprof, "\(e.path) (\(e.format))")
            if isPprof {
                for cut in [1, 2, 3, 7, 16, 100, 1000] where cut < data.count {
                    XCTAssertNotEqual(sniffPprof(Array(data.prefix(cut)), complete: false), false, "\(e.path) cut at \(cut)")
                }
            } else {
                others += 1
            }
        }
        XCTAssertGreaterThan(others, 200)
    }

    func testSniffRejectsLookalikes() {
        let cases: [(String, [UInt8])] = [
            ("pstats marshal dict", [0x7B, 0x29, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00]),
            ("pstats marshal FLAG_REF dict", [0xFB, 0x29, 0x03, 0x00, 0x00, 0x00]),
            ("MOJO", Array("MOJ\u{01}\u{02}abc".utf8)),
            ("gperftools header", [0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x27, 0, 0, 0, 0, 0, 0]),
            ("JSON", Array("{\"a\": 1}".utf8)),
            ("folded", Array("main;work 12\n".utf8)),
            ("blank line first", Array("\nmain;a 1\n".utf8)),
            ("field 1 as a varint", [0x08, 0x01]),
            ("string_table[0] not empty", [0x32, 0x01, 0x41]),
            ("no string table", [0x48, 0x01]),
            ("length past the end", [0x0A, 0x05, 0x08, 0x01]),
            ("group wire type", [0x0B, 0x0C]),
            ("unknown top-level field", [0x82, 0x01, 0x00, 0x32, 0x00]),
            ("fixed64 for a varint field", [0x49, 1, 2, 3, 4, 5, 6, 7, 8, 0x32, 0x00]),
        ]
        for (label, bytes) in cases {
            XCTAssertEqual(sniffPprof(bytes), false, label)
        }
        // The smallest real profile: string_table = [""].
        XCTAssertEqual(sniffPprof([0x32, 0x00]), true)
        XCTAssertEqual(sniffPprof([0x0A, 0x04, 0x08, 0x01, 0x10, 0x02, 0x32, 0x00, 0x32, 0x01, 0x61]), true)
        // A prefix cut inside a long sample is still a pprof.
        XCTAssertEqual(sniffPprof([0x12, 0xE8, 0x07, 0x0A, 0x02, 0x01, 0x02, 0x12], complete: false), true)
    }

    // MARK: model rules on hand-made profiles

    /// Inlined lines expand innermost-last, location ids are leaf first, default_sample_type
    /// picks the metric, unsymbolized locations show their address, thread labels group.
    func testHandMadeProfileFollowsProfileProtoRules() throws {
        var pb = Perftools_Profiles_Profile()
        pb.stringTable = ["", "samples", "count", "cpu", "nanoseconds", "main", "main.go", "printf", "libc.c",
                          "memcpy", "string.h", "thread_name", "worker", "/usr/lib/libc.so", "span_id", "7"].map { Data($0.utf8) }
        pb.sampleType = [vt(1, 2), vt(3, 4)]
        pb.defaultSampleType = 1                            // "samples", not the last
        pb.periodType = vt(3, 4)
        pb.period = 10_000_000
        pb.durationNanos = 3_000_000_000
        pb.timeNanos = 1_654_798_932_062_349_000
        pb.function = [fn(1, 5, 6), fn(2, 7, 8), fn(3, 9, 10)]
        pb.mapping = [{ var m = Perftools_Profiles_Mapping(); m.id = 1; m.filename = 13; return m }()]
        // Location 10: memcpy inlined into printf (line[0] innermost). Location 20: main.
        // Location 30: an address only.
        pb.location = [loc(10, lines: [(3, 5), (2, 40)]), loc(20, lines: [(1, 12)]),
                       { var l = loc(30, lines: []); l.address = 0x42ed43; l.mappingID = 1; return l }()]
        pb.sample = [sample([10, 20], [1, 10]),
                     sample([30, 20], [2, 20], labels: [(11, 12), (14, 15)]),
                     sample([20], [-1, -5])]                          // heap deltas can be negative
        let p = try loadBytes(try pb.serializedBytes())
        XCTAssertEqual(p.metrics, [ValueType("samples", "count"), ValueType("cpu", "nanoseconds")])
        XCTAssertEqual(p.defaultMetric, 0)
        XCTAssertEqual(p.total(metric: 0), 2)
        XCTAssertEqual(p.total(metric: 1), 25)
        let stacks = folded(p, metric: 1)
        XCTAssertEqual(stacks, [
            "main (main.go:12);printf (libc.c:40);memcpy (string.h:5) 10",
            "main (main.go:12) -5",
            "thread (thread_name=worker);main (main.go:12);0x42ed43 (/usr/lib/libc.so) 20",
        ].sorted())
        let meta = Dictionary(p.metadata, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(meta["period"], "10000000 cpu/nanoseconds")
        XCTAssertEqual(meta["duration"], "3.000 s")
        XCTAssertEqual(meta["time"], "2022-06-09T18:22:12Z")
        XCTAssertEqual(meta["labels"], "2; keys: thread_name (1), span_id (1)")
        XCTAssertEqual(meta["threads (from labels)"], "1")
        XCTAssertEqual(p.sampleCount, 2)   // the samples/count column
        XCTAssertEqual(p.mergingThreads().total(metric: 1), 25)
    }

    /// Threads merged while reading (`ReadOptions.mergeThreads`, what `report` and the viewer
    /// ask for): the stacks without their thread frames, added up, as written out here; the
    /// threads are still counted. Consecutive samples that share root locations (the reader
    /// reuses their frames) still count an unknown location in the shared part each time.
    func testThreadsMergedWhileReading() throws {
        var pb = Perftools_Profiles_Profile()
        pb.stringTable = ["", "samples", "count", "main", "main.go", "work", "goroutine", "7", "8"].map { Data($0.utf8) }
        pb.sampleType = [vt(1, 2)]
        pb.function = [fn(1, 3, 4), fn(2, 5, 4)]
        pb.location = [loc(10, lines: [(1, 3)]), loc(20, lines: [(2, 9)])]
        pb.sample = [sample([20, 10], [1], labels: [(6, 7)]),
                     sample([20, 10], [2], labels: [(6, 8)]),
                     sample([20, 10, 99], [4]),
                     sample([10, 99], [8]),                      // shares 99 and 10 with the one before
                     sample([20, 10, 99], [16], labels: [(6, 7)]),
                     sample([20, 10], [32], labels: [(6, 7)])]   // same thread, differs at its root
        let bytes: [UInt8] = try pb.serializedBytes()
        let unknown = "<unknown location 99>"
        let split = try loadBytes(bytes)
        XCTAssertEqual(folded(split, metric: 0), [
            "thread (goroutine=7);main (main.go:3);work (main.go:9) 33",
            "thread (goroutine=8);main (main.go:3);work (main.go:9) 2",
            "\(unknown);main (main.go:3);work (main.go:9) 4",
            "\(unknown);main (main.go:3) 8",
            "thread (goroutine=7);\(unknown);main (main.go:3);work (main.go:9) 16",
        ].sorted())
        let merged = try FormatRegistry.load(source: MemorySource(bytes), name: "<test>", format: "pprof", mergeThreads: true)
        XCTAssertEqual(folded(merged, metric: 0), [
            "main (main.go:3);work (main.go:9) 35",
            "\(unknown);main (main.go:3);work (main.go:9) 20",
            "\(unknown);main (main.go:3) 8",
        ].sorted())
        for p in [split, merged] {
            XCTAssertEqual(p.total(metric: 0), 63)
            XCTAssertTrue(p.warnings.contains("3 sample location ids name no location"), "\(p.warnings)")
            XCTAssertEqual(Dictionary(p.metadata, uniquingKeysWith: { a, _ in a })["threads (from labels)"], "2")
        }
        XCTAssertEqual(split.mergedThreads, 0)
        XCTAssertTrue(split.hasThreads)
        XCTAssertEqual(merged.mergedThreads, 2)
        XCTAssertFalse(merged.hasThreads, "no thread frames")
    }

    /// Every corpus pprof read with threads merged holds the stacks of the usual read with
    /// their thread frames cut off, added up (on the folded text, in every metric).
    func testCorpusThreadsMergedWhileReadingAddUpTheThreads() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "pprof(gzip)" || $0.format == "pprof(raw protobuf)" }
        var threaded = 0
        func sums(_ lines: [String], cutThreads: Bool) -> [String: Double] {
            var d: [String: Double] = [:]
            for line in lines {
                let sp = line.lastIndex(of: " ")!
                var frames = line[..<sp].split(separator: ";", omittingEmptySubsequences: false)
                if cutThreads, frames.first?.hasPrefix("thread (") == true { frames.removeFirst() }
                d[frames.joined(separator: ";"), default: 0] += Double(line[line.index(after: sp)...])!
            }
            return d.filter { $0.value != 0 && !$0.key.isEmpty }
        }
        for e in entries {
            let path = dir + "/" + e.path
            guard let split = try? FormatRegistry.load(path: path) else { continue }
            let merged = try FormatRegistry.load(path: path, mergeThreads: true)
            if split.hasThreads { threaded += 1 }
            XCTAssertFalse(merged.hasThreads, e.path)
            // Every metric where there are threads to merge, else the default one (heap
            // profiles have several metrics over thousands of stacks).
            for m in split.hasThreads ? Array(0..<split.metrics.count) : [split.defaultMetric] {
                XCTAssertEqual(sums(folded(merged, metric: m), cutThreads: false),
                               sums(folded(split, metric: m), cutThreads: true), "\(e.path) metric \(m)")
            }
        }
        XCTAssertGreaterThan(threaded, 0, "some corpus profile has thread labels")
    }

    /// Unpacked repeated fields and fields in any order decode like the usual packed ones.
    func testUnpackedAndReorderedFields() throws {
        var w = PprofWireWriter()
        w.bytes(6, [])                                          // string table first
        for s in ["f", "g", "samples", "count"] { w.bytes(6, Array(s.utf8)) }
        w.message(2) { s in s.varint(1, 2); s.varint(1, 1); s.varint(2, 3) }   // unpacked, leaf first
        w.message(4) { l in l.varint(1, 1); l.message(4) { $0.varint(1, 1); $0.varint(2, 7) } }
        w.message(4) { l in l.varint(1, 2); l.message(4) { $0.varint(1, 2) } }
        w.message(5) { f in f.varint(1, 1); f.varint(2, 1); f.varint(9, 5) }  // an unknown field: skipped
        w.message(5) { f in f.varint(1, 2); f.varint(2, 2) }
        w.message(1) { $0.varint(1, 3); $0.varint(2, 4) }      // sample_type last
        XCTAssertEqual(sniffPprof(w.out), true)
        let p = try loadBytes(w.out)
        XCTAssertEqual(folded(p, metric: 0), ["f (:7);g 3"])
        XCTAssertEqual(p.metrics, [ValueType("samples", "count")])
    }

    // MARK: damaged input

    /// A claimed length beyond the data is a located error, not an allocation.
    func testLyingLengthsAreLocatedErrors() throws {
        let cases: [([UInt8], Int, String)] = [
            ([0x32, 0x00, 0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], 3, "Profile.sample (field 2) claims 4294967295 bytes"),
            ([0x32, 0x00, 0x12, 0x04, 0x0A, 0xFF, 0xFF, 0x7F], 5, "Sample.location_id (field 1) claims 2097151 bytes"),
            ([0x32, 0x00, 0x48, 0xFF, 0xFF], 3, "is cut off"),
            ([0x32, 0x00, 0x4B], 2, "invalid wire type"),
            ([0x32, 0x00, 0x48] + [UInt8](repeating: 0xFF, count: 11), 3, "longer than 64 bits"),
        ]
        for (bytes, offset, text) in cases {
            XCTAssertThrowsError(try loadBytes(bytes, format: "pprof")) { error in
                guard let pe = error as? ProfileError else { return XCTFail("\(error)") }
                XCTAssertEqual(pe.offset, offset, "\(pe)")
                XCTAssertTrue(pe.message.contains(text), "\(pe)")
            }
        }
    }

    /// Truncated and bit-flipped copies of corpus profiles give a profile or a located error.
    func testTruncatedAndBitFlippedCorpusProfiles() throws {
        let dir = try Fixtures.requireCorpus()
        var rng = SeededRNG(seed: 0x5eed)
        var outcomes = (loaded: 0, errors: 0)
        for rel in ["pprof/internal/report/testdata/sample.cpu", "pyroscope/pkg/og/convert/pprof/testdata/heap.pb",
                    "pyroscope/pkg/pprof/testdata/go.cpu.labels.pprof",
                    "pyroscope/pkg/og/convert/pprof/testdata/invalid_utf8.pb.gz"] {
            let path = dir + "/" + rel
            let raw = try inflated(path)
            var variants: [[UInt8]] = []
            let step = max(1, raw.count / 150)
            for cut in stride(from: 0, to: raw.count, by: step) { variants.append(Array(raw.prefix(cut))) }
            for _ in 0..<150 {
                var v = raw
                for _ in 0..<Int(rng.next() % 3 + 1) {
                    let i = Int(rng.next() % UInt64(v.count))
                    v[i] ^= UInt8(1 << (rng.next() % 8))
                }
                variants.append(v)
            }
            // The gzip file itself, cut and flipped: zlib errors are located too.
            let gz = try rawBytes(path)
            if gz.starts(with: [0x1F, 0x8B]) {
                for cut in stride(from: 2, to: gz.count, by: max(1, gz.count / 20)) { variants.append(Array(gz.prefix(cut))) }
            }
            for v in variants {
                for format in ["pprof", nil] as [String?] {
                    do {
                        let p = try loadBytes(v, format: format)
                        if format == "pprof" { XCTAssertEqual(p.format, "pprof") }
                        outcomes.loaded += 1
                    } catch let e as ProfileError {
                        outcomes.errors += 1
                        if format == "pprof" && !v.isEmpty {
                            let off = try XCTUnwrap(e.offset, "\(rel): \(e)")
                            XCTAssertTrue(off >= 0 && off <= v.count, "\(rel): \(e)")
                        }
                    } catch {
                        XCTFail("\(rel): not a ProfileError: \(error)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(outcomes.errors, 100)
        XCTAssertGreaterThan(outcomes.loaded, 100)
    }

    /// Reading in tiny chunks gives the same profile.
    func testTinyChunksReadTheSame() throws {
        let dir = try Fixtures.requireCorpus()
        let path = dir + "/pyroscope/pkg/pprof/testdata/heap_delta"
        let whole = try load(path)
        for chunk in [1, 7] {
            let p = try FormatRegistry.load(source: MemorySource(try rawBytes(path), chunk: chunk), name: "heap_delta")
            XCTAssertEqual(folded(p, metric: 1), folded(whole, metric: 1))
        }
    }

    // MARK: helpers

    func rawBytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func inflated(_ path: String) throws -> [UInt8] {
        let b = try rawBytes(path)
        guard b.starts(with: [0x1F, 0x8B]) else { return b }
        return try GzipSource(MemorySource(b)).readAll()
    }

    /// The sniffer's verdict on the first 64 KiB, as the registry asks it: true/false, nil = need more.
    func sniffPprof(_ bytes: [UInt8], complete: Bool? = nil) -> Bool? {
        let prefix = Array(bytes.prefix(1 << 16))
        let isComplete = complete ?? (bytes.count <= 1 << 16)
        switch prefix.withUnsafeBytes({ PprofReader.sniff($0, complete: isComplete) }) {
        case .yes: return true
        case .no: return false
        case .needMore: return nil
        }
    }

    func loadBytes(_ bytes: [UInt8], format: String? = "pprof") throws -> Profile {
        try FormatRegistry.load(source: MemorySource(bytes), name: "<test>", format: format)
    }

    /// Root-first stacks as `frame;frame VALUE`, frames as `name (file:line)`.
    func folded(_ p: Profile, metric: Int) -> [String] {
        var out: [String] = []
        for n in 1..<p.tree.count where p.tree.selfWeight[metric][n] != 0 {
            let names = p.tree.path(to: Int32(n)).map { node -> String in
                let f = p.frames.frame(p.tree.frame[Int(node)])
                if f.kind == .thread { return f.name }
                guard f.file != nil || f.line != nil else { return f.name }
                return "\(f.name) (\(f.file ?? "")\(f.line.map { ":\($0)" } ?? ""))"
            }
            let v = p.tree.selfWeight[metric][n]
            out.append(names.joined(separator: ";") + " " + (v == v.rounded() ? String(Int(v)) : String(v)))
        }
        return out.sorted()
    }

    func vt(_ type: Int64, _ unit: Int64) -> Perftools_Profiles_ValueType {
        var v = Perftools_Profiles_ValueType(); v.type = type; v.unit = unit; return v
    }

    func fn(_ id: UInt64, _ name: Int64, _ file: Int64) -> Perftools_Profiles_Function {
        var f = Perftools_Profiles_Function(); f.id = id; f.name = name; f.filename = file; return f
    }

    func loc(_ id: UInt64, lines: [(UInt64, Int64)]) -> Perftools_Profiles_Location {
        var l = Perftools_Profiles_Location()
        l.id = id
        l.line = lines.map { var x = Perftools_Profiles_Line(); x.functionID = $0.0; x.line = $0.1; return x }
        return l
    }

    func sample(_ locs: [UInt64], _ values: [Int64], labels: [(Int64, Int64)] = []) -> Perftools_Profiles_Sample {
        var s = Perftools_Profiles_Sample()
        s.locationID = locs
        s.value = values
        s.label = labels.map { var l = Perftools_Profiles_Label(); l.key = $0.0; l.str = $0.1; return l }
        return s
    }
}

/// Writes protobuf wire format by hand (for layouts SwiftProtobuf never writes: unpacked fields).
struct PprofWireWriter {
    var out: [UInt8] = []
    mutating func raw(_ v: UInt64) {
        var v = v
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }
    mutating func varint(_ field: UInt64, _ v: UInt64) { raw(field << 3); raw(v) }
    mutating func bytes(_ field: UInt64, _ b: [UInt8]) { raw(field << 3 | 2); raw(UInt64(b.count)); out += b }
    mutating func message(_ field: UInt64, _ body: (inout PprofWireWriter) -> Void) {
        var inner = PprofWireWriter(); body(&inner); bytes(field, inner.out)
    }
}

