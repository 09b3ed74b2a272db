import Foundation
import XCTest
@testable import ProfileModel

/// `python -X importtime` logs and memray's transforms (csv, gprof2dot), plus the refusals of
/// memray's capture and stats files. Facts from `EXPECTED.json`; the copies under
/// `Tests/Golden/{importtime,memray-csv,gprof2dot,speedscope}` are checked against the same facts, written out here.
final class ImportTimeMemrayTests: XCTestCase {

    static func golden(_ path: String) -> String {
        Fixtures.repoRoot.appendingPathComponent("Tests/Golden").appendingPathComponent(path).path
    }

    static func loadBytes(_ b: [UInt8], chunk: Int = 1 << 20, name: String = "x") throws -> Profile {
        try FormatRegistry.load(source: MemorySource(b, chunk: chunk), name: name)
    }

    // MARK: importtime

    /// The facts EXPECTED.json gives, and checks on every node against the file's own lines.
    func checkImportTime(_ p: Profile, modules: Int, totalUs: Double, sumSelfUs: Double, topSelf: (String, Double),
                         occurrences: [String: Int], _ what: String) {
        XCTAssertEqual(p.format, "importtime", what)
        XCTAssertEqual(p.metrics, [ValueType("time", "microseconds")], what)
        XCTAssertEqual(p.total(metric: 0), sumSelfUs, what)
        let meta = Dictionary(p.metadata, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(meta["modules"], String(modules), what)
        XCTAssertEqual(meta["total cumulative"], "\(Int(totalUs)) µs", what)
        // Level-0 imports: the root's children; their printed cumulative times add up to total_us.
        let roots = p.tree.children(0)
        let rootCumulative = roots.reduce(0.0) { $0 + p.functions.totalWeight[0][Int(p.function(ofNode: $1))] }
        XCTAssertEqual(rootCumulative, totalUs, what)
        let top = p.functions.selfWeight[0].indices.max { p.functions.selfWeight[0][$0] < p.functions.selfWeight[0][$1] }!
        XCTAssertEqual(p.frames.name(ofFunction: Int32(top)), topSelf.0, what)
        XCTAssertEqual(p.functions.selfWeight[0][top], topSelf.1, what)
        // Every node's subtree of rounded-up self times is within a microsecond a line of its
        // printed cumulative time (both are rounded up from nanoseconds). Lines of one name
        // under one parent merge into one node: bound by how often each name occurs in the file.
        var lines = [Int](repeating: 0, count: p.tree.count)
        for n in 1..<p.tree.count { lines[n] = occurrences[p.frames.name(ofFrame: p.tree.frame[n])] ?? 0 }
        for n in stride(from: p.tree.count - 1, through: 1, by: -1) { lines[Int(p.tree.parent[n])] += lines[n] }
        var nodesOf: [Int32: Int] = [:]
        for n in 1..<p.tree.count { nodesOf[p.function(ofNode: Int32(n)), default: 0] += 1 }
        for n in 1..<p.tree.count where nodesOf[p.function(ofNode: Int32(n))] == 1 {
            let printed = p.functions.totalWeight[0][Int(p.function(ofNode: Int32(n)))]
            XCTAssertLessThan(abs(p.tree.totalWeight[0][n] - printed), Double(max(lines[n], 1)), "\(what) node \(n)")
        }
    }

    /// How many `import time:` lines name each module (the third column, trimmed).
    static func occurrences(_ text: String) -> [String: Int] {
        var d: [String: Int] = [:]
        for l in text.split(separator: "\n") where l.hasPrefix("import time:") {
            let cols = l.split(separator: "|", omittingEmptySubsequences: false)
            if cols.count == 3 { d[cols[2].trimmingCharacters(in: .whitespaces), default: 0] += 1 }
        }
        return d
    }

    func testImportTimeCorpusFiles() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "importtime" }
        XCTAssertEqual(entries.count, 6)
        for e in entries {
            let f = e.facts
            let top = (f["top_self"] as! String).split(separator: " ")
            checkImportTime(try load(dir + "/" + e.path), modules: f["modules"] as! Int,
                            totalUs: Double(f["total_us"] as! Int), sumSelfUs: Double(f["sum_self_us"] as! Int),
                            topSelf: (String(top[0]), Double(top[1].dropFirst())!),
                            occurrences: Self.occurrences(try String(contentsOfFile: dir + "/" + e.path, encoding: .utf8)), e.path)
        }
    }

    func testGoldenImportTimeInEveryChunkSize() throws {
        let path = Self.golden("importtime/env-var.py3.13.0.txt")
        let b = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let occ = Self.occurrences(String(decoding: b, as: UTF8.self))
        for chunk in [1, 7, b.count] {
            checkImportTime(try Self.loadBytes(b, chunk: chunk), modules: 74, totalUs: 37628, sumSelfUs: 37658,
                            topSelf: ("enum", 1956), occurrences: occ, "chunk \(chunk)")
        }
        // Nesting from the first lines of the 3.12 log: _io, marshal and posix finish first,
        // indented one level, then their parent _frozen_importlib_external at level 0.
        let path12 = Self.golden("importtime/stdlib-mix.py3.12.1.txt")
        let p = try load(path12)
        checkImportTime(p, modules: 149, totalUs: 101975, sumSelfUs: 102034, topSelf: ("locale", 3221),
                        occurrences: Self.occurrences(try String(contentsOfFile: path12, encoding: .utf8)), "3.12")
        let ext = try XCTUnwrap(p.tree.children(0).first { p.frames.name(ofFrame: p.tree.frame[Int($0)]) == "_frozen_importlib_external" })
        XCTAssertEqual(Set(p.tree.children(ext).map { p.frames.name(ofFrame: p.tree.frame[Int($0)]) }), ["_io", "marshal", "posix"])
        XCTAssertEqual(p.tree.selfWeight[0][Int(ext)], 405)
    }

    func testImportTimeCachedRowsInterleavedOutputAndCuts() throws {
        // 3.14's -X importtime=2 (written from FORMATS.md §10): a cached row right-aligned in
        // 2×level columns, another program's stderr line, then the imports that finished.
        let text = """
        some warning the program printed
        import time: self [us] | cumulative | imported package
        import time: cached    | cached     |    a
        import time:        10 |         10 |   b
        import time:         5 |         25 | pkg
        import time:         7 |          7 | other

        """
        let p = try Self.loadBytes(Array(text.utf8), chunk: 3)
        XCTAssertEqual(p.format, "importtime")
        XCTAssertEqual(p.total(metric: 0), 22)
        let pkg = try XCTUnwrap(p.tree.children(0).first { p.frames.name(ofFrame: p.tree.frame[Int($0)]) == "pkg" })
        let b = try XCTUnwrap(p.tree.children(pkg).first)
        XCTAssertEqual(p.frames.name(ofFrame: p.tree.frame[Int(b)]), "b")
        let a = try XCTUnwrap(p.tree.children(b).first)
        XCTAssertEqual(p.frames.name(ofFrame: p.tree.frame[Int(a)]), "a")
        XCTAssertEqual(p.tree.totalWeight[0][Int(a)], 0)
        XCTAssertTrue(p.metadata.contains { $0 == ("cached imports", "1") })
        XCTAssertEqual(p.warnings, [])
        // A log cut before the parents' lines: the children are kept at the top, with a warning.
        let cut = "import time:        10 |         10 |   b\n"
        let c = try Self.loadBytes(Array(cut.utf8))
        XCTAssertEqual(c.total(metric: 0), 10)
        XCTAssertEqual(c.warnings.count, 1)
        // Every cut of a real log: a profile or a located error.
        let log = Array(try Data(contentsOf: URL(fileURLWithPath: Self.golden("importtime/env-var.py3.13.0.txt"))))
        for n in stride(from: 1, to: log.count, by: 37) {
            do { _ = try Self.loadBytes(Array(log[0..<n]), name: "i.txt") } catch let e as ProfileError {
                XCTAssertTrue(CorpusConformanceTests.isLocated(e, name: "i.txt"), e.description)
            }
        }
    }

    // MARK: memray

    func checkMemrayCSV(_ p: Profile, rows: Int, bytes: Double, allocations: Double, _ what: String) {
        XCTAssertEqual(p.format, "memray-csv", what)
        XCTAssertEqual(p.metrics, [ValueType("memory", "bytes"), ValueType("allocations", "count")], what)
        XCTAssertEqual(p.defaultMetric, 0)
        XCTAssertEqual(p.total(metric: 0), bytes, what)
        XCTAssertEqual(p.total(metric: 1), allocations, what)
        XCTAssertTrue(p.metadata.contains { $0 == ("rows", String(rows)) }, what)
        XCTAssertEqual(p.warnings, [], what)
    }

    func testMemrayCorpusFiles() throws {
        let dir = try Fixtures.requireCorpus()
        let all = try Fixtures.expected()
        let csv = try XCTUnwrap(all.first { $0.format == "memray-csv" })
        checkMemrayCSV(try load(dir + "/" + csv.path), rows: csv.facts["rows"] as! Int,
                       bytes: Double(csv.facts["total_bytes"] as! Int),
                       allocations: Double(csv.facts["total_allocations"] as! Int), csv.path)
        let g = try XCTUnwrap(all.first { $0.format == "memray-gprof2dot" })
        let p = try load(dir + "/" + g.path)
        XCTAssertEqual(p.format, "gprof2dot")
        XCTAssertEqual(p.metrics, [ValueType("memory", "bytes")])
        XCTAssertEqual(p.total(metric: 0), Double(g.facts["total_cost"] as! Int))
        XCTAssertEqual(p.frames.frameCount, g.facts["functions"] as! Int)
        XCTAssertTrue(p.metadata.contains { $0 == ("events", String(g.facts["events"] as! Int)) })
        for e in all where e.format.hasPrefix("memray-capture") || e.format.hasPrefix("memray-stats") {
            XCTAssertThrowsError(try load(dir + "/" + e.path)) { err in
                let m = (err as! ProfileError).message
                XCTAssertTrue(m.contains("not supported") && m.contains("memray transform speedscope"), m)
            }
        }
    }

    func testGoldenMemrayTransformsInEveryChunkSize() throws {
        let csv = Array(try Data(contentsOf: URL(fileURLWithPath: Self.golden("memray-csv/etl.memray.csv"))))
        let dot = Array(try Data(contentsOf: URL(fileURLWithPath: Self.golden("gprof2dot/etl.memray.gprof2dot.json"))))
        for chunk in [1, 7, csv.count] {
            checkMemrayCSV(try Self.loadBytes(csv, chunk: chunk), rows: 51, bytes: 24466105, allocations: 88, "chunk \(chunk)")
        }
        let g = try Self.loadBytes(dot, chunk: 7)
        XCTAssertEqual(g.total(metric: 0), 24466105)
        // The two transforms of one capture: the same stacks (gprof2dot has no lines), so the
        // same functions with the same self bytes.
        let c = try Self.loadBytes(csv).mergingLines()
        func selfByName(_ p: Profile) -> [String: Double] {
            var d: [String: Double] = [:]
            for f in 0..<p.functions.count where p.functions.selfWeight[0][f] != 0 {
                d[p.frames.name(ofFunction: Int32(f)) + " " + (p.frames.file(ofFunction: Int32(f)) ?? ""), default: 0]
                    += p.functions.selfWeight[0][f]
            }
            return d
        }
        XCTAssertEqual(selfByName(c), selfByName(g))
        // memray's speedscope export of the same capture: one tree with memory and allocations
        // (not two thread roots), the same functions with the same bytes as the csv.
        let ss = try load(Self.golden("speedscope/memray-etl.json")).mergingLines()
        XCTAssertEqual(ss.metrics, [ValueType("memory", "bytes"), ValueType("allocations", "count")])
        XCTAssertFalse(ss.hasThreads)
        XCTAssertEqual(ss.sampleCount, 50)
        XCTAssertEqual(ss.total(metric: 0), 24466105)
        XCTAssertEqual(ss.total(metric: 1), 88)
        XCTAssertEqual(selfByName(ss), selfByName(c))
        // The stack order: the first csv row's single frame is a root with its bytes.
        let first = try XCTUnwrap(c.functionIndex(name: "_run_tracker"))
        XCTAssertGreaterThanOrEqual(c.functions.selfWeight[0][first], 1340)
        // Cuts and flips: a profile or a located error.
        var rng = SeededRNG(seed: 11)
        for data in [csv, dot] {
            var cases = stride(from: 1, to: data.count, by: 53).map { Array(data[0..<$0]) }
            for _ in 0..<100 { var d = data; d[Int(rng.next() % UInt64(d.count))] ^= 0xFF; cases.append(d) }
            for d in cases {
                do { _ = try Self.loadBytes(d, name: "m") } catch let e as ProfileError {
                    XCTAssertTrue(CorpusConformanceTests.isLocated(e, name: "m"), e.description)
                }
            }
        }
    }

    func testMemrayCaptureAndStatsAreRefusedWithAHint() throws {
        // The first 48 bytes of corpus/memray/etl.memray.bin (an LZ4 frame).
        let capture: [UInt8] = [
            0x04, 0x22, 0x4d, 0x18, 0x40, 0x40, 0xc0, 0x3e, 0x65, 0x00, 0x00, 0xf8, 0x06, 0x6d, 0x65, 0x6d,
            0x72, 0x61, 0x79, 0x00, 0x0d, 0x00, 0x00, 0x00, 0xf0, 0x0f, 0x0b, 0x03, 0x00, 0x00, 0x54, 0x4f,
            0x03, 0x00, 0x01, 0x00, 0xa2, 0xde, 0x20, 0xaa, 0x33, 0xa2, 0x01, 0x00, 0x00, 0x8c, 0x27, 0x08]
        let stats = #"{"total_num_allocations": 108490, "total_bytes_allocated": 107875503, "top_allocations_by_size": []}"#
        for input in [capture, Array("memray\u{0}raw".utf8), Array(stats.utf8)] {
            XCTAssertThrowsError(try Self.loadBytes(input, name: "m.bin")) { e in
                let m = (e as! ProfileError).message
                XCTAssertTrue(m.contains("not supported") && m.contains("memray transform speedscope"), m)
            }
        }
    }
}
