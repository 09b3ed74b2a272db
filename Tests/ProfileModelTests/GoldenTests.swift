import Foundation
import XCTest
@testable import ProfileModel

/// Golden pairs under `Tests/Golden/<format>/`: small real profiles committed with the repository,
/// each with a `.folded` written by an independent reference (`Scripts/golden_folded.py`, no perftop
/// code), so a clean clone tests every reader without the shared corpus. See Tests/Golden/README.md.
///
/// Canonical form (what both sides write): the default metric, threads merged, lines as the file
/// records them, frames as `Exporter.frameText`, one sorted line per stack with a nonzero weight.
final class GoldenTests: XCTestCase {
    static let goldenDir = Fixtures.repoRoot.appendingPathComponent("Tests/Golden").path
    /// Files beside a case that are references, not cases.
    static let referenceSuffixes = [".folded", ".pstats.json", ".callgrind-self.json"]
    /// Formats that record no stacks: their `.folded` is a reviewed snapshot of perftop's estimated
    /// tree (re-recorded with PERFTOP_GOLDEN_RECORD=1), and their function table is checked against
    /// the script's independent figures instead.
    static let estimated: Set<String> = ["pstats", "callgrind"]

    struct Case {
        var format: String
        var path: String
        var name: String { (path as NSString).lastPathComponent }
        /// `dir/case` without any extension (`simple-with-pid.txt` and `etl.tachyon.json` alike).
        var stem: String {
            (path as NSString).deletingLastPathComponent + "/" + String(name.prefix { $0 != "." })
        }
        var folded: String { stem + ".folded" }
    }

    static func formatDirectories() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: goldenDir).filter { d in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: goldenDir + "/" + d, isDirectory: &isDir) && isDir.boolValue
        }.sorted()
    }

    static func cases() throws -> [Case] {
        try formatDirectories().flatMap { fmt in
            try FileManager.default.contentsOfDirectory(atPath: goldenDir + "/" + fmt).sorted()
                .filter { f in !referenceSuffixes.contains { f.hasSuffix($0) } && !f.hasPrefix(".") }
                .map { Case(format: fmt, path: goldenDir + "/" + fmt + "/" + $0) }
        }
    }

    func testEveryReaderHasACaseAndEveryCaseAReader() throws {
        let dirs = Set(try Self.formatDirectories())
        let readers = Set(FormatRegistry.supportedNames)
        XCTAssertEqual(dirs.subtracting(readers).sorted(), [], "Tests/Golden directories that name no reader")
        XCTAssertEqual(readers.subtracting(dirs).sorted(), [],
                       "readers with no golden case: add Tests/Golden/<reader>/<case> (see Tests/Golden/README.md)")
        let cases = try Self.cases()
        for d in dirs { XCTAssertTrue(cases.contains { $0.format == d }, "Tests/Golden/\(d) holds no case") }
        for c in cases {
            XCTAssertTrue(FileManager.default.fileExists(atPath: c.folded), "\(c.format)/\(c.name) has no .folded")
        }
    }

    /// Each case, detected by content, read 1 byte, 7 bytes and the whole file at a time.
    func testGoldenPairsMatchTheReferenceAtEveryChunkSize() throws {
        let record = ProcessInfo.processInfo.environment["PERFTOP_GOLDEN_RECORD"] == "1"
        let cases = try Self.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 12)
        for c in cases {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: c.path)))
            let label = "\(c.format)/\(c.name)"
            if record && Self.estimated.contains(c.format) {
                let p = try FormatRegistry.load(source: MemorySource(bytes), name: c.name)
                let header = "# golden: perftop snapshot of the estimated tree of \(label) (reviewed by hand; "
                    + "the function table is checked against an independent reference)\n"
                try (header + Self.canonical(p)).write(toFile: c.folded, atomically: true, encoding: .utf8)
            }
            // A case with no reference is reported by testEveryReaderHasACaseAndEveryCaseAReader;
            // the cases after it are still compared.
            guard FileManager.default.fileExists(atPath: c.folded) else { continue }
            let expected = try Self.parseFolded(String(contentsOfFile: c.folded, encoding: .utf8))
            for chunk in [1, 7, bytes.count] {
                let p: Profile
                do {
                    p = try FormatRegistry.load(source: MemorySource(bytes, chunk: chunk), name: c.name)
                } catch {
                    XCTFail("\(label) at chunk \(chunk): \(error)"); continue
                }
                XCTAssertEqual(p.format, c.format, "\(label): detected as \(p.format)")
                let got = Self.parseFolded(Self.canonical(p))
                if let diff = Self.difference(got, expected) {
                    XCTFail("\(label) at chunk \(chunk) differs from \(c.stem.dropFirst(Self.goldenDir.count + 1)).folded:\n\(diff)")
                }
            }
        }
    }

    /// pstats: perftop's function table against CPython's own `pstats` (Scripts/pstats_reference.py).
    func testPstatsFunctionTablesMatchPythonPstats() throws {
        let cases = try Self.cases().filter { $0.format == "pstats" }
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let ref = try Fixtures.json(c.stem + ".pstats.json") as! [String: Any]
            let p = try FormatRegistry.load(path: c.path)
            let ft = p.functions
            if ref["sampled"] as? Bool == true { try checkSampledPstats(c, p, ref); continue }
            XCTAssertEqual(p.total(metric: 0), (ref["total_tt"] as! NSNumber).doubleValue, accuracy: 1e-9, c.name)
            func key(_ file: String, _ line: Int, _ name: String) -> String { "\(file == "~" ? "" : file):\(line):\(name)" }
            var byKey: [String: Int] = [:]
            for fn in 0..<ft.count {
                byKey[key(p.frames.file(ofFunction: Int32(fn)) ?? "", p.frames.line(ofFunction: Int32(fn)) ?? 0,
                          p.frames.name(ofFunction: Int32(fn)))] = fn
            }
            let funcs = ref["functions"] as! [[String: Any]]
            XCTAssertEqual(ft.count, funcs.count, "\(c.name): function count")
            for r in funcs {
                let k = key(r["file"] as! String, r["line"] as! Int, r["name"] as! String)
                guard let fn = byKey[k] else { XCTFail("\(c.name): missing \(k)"); continue }
                let cc = Int64(r["cc"] as! Int), nc = Int64(r["nc"] as! Int)
                if cc < 0 {
                    XCTAssertNil(ft.calls, "\(k): pyinstrument writes -1 for unknown call counts")
                } else {
                    XCTAssertEqual(ft.calls?[fn], max(cc, nc), k)         // yappi swaps cc and nc
                    XCTAssertEqual(ft.primitiveCalls?[fn], min(cc, nc), k)
                }
                XCTAssertEqual(ft.selfWeight[0][fn], (r["tt"] as! NSNumber).doubleValue, accuracy: 1e-12, k)
                XCTAssertEqual(ft.totalWeight[0][fn], (r["ct"] as! NSNumber).doubleValue, accuracy: 1e-12, k)
                XCTAssertEqual(ft.callers(of: Int32(fn)).count, (r["callers"] as! [Any]).count, "\(k): callers")
            }
        }
    }

    /// Tachyon's sampled pstats (FORMATS.md §8.3), which CPython's `pstats` cannot load: the
    /// script reads the marshal dict itself. Functions stay per sampled line; metric 0 is
    /// samples (direct / cumulative), metric 1 their time; nothing counts calls.
    func checkSampledPstats(_ c: Case, _ p: Profile, _ ref: [String: Any]) throws {
        let ft = p.functions
        XCTAssertEqual(p.total(metric: 0), (ref["total_samples"] as! NSNumber).doubleValue, c.name)
        XCTAssertEqual(p.total(metric: 1), (ref["total_tt"] as! NSNumber).doubleValue, accuracy: 1e-9, c.name)
        XCTAssertNil(ft.calls, "\(c.name): a sampled dump counts no calls")
        var byKey: [String: Int] = [:]
        for fn in 0..<ft.count {
            let f = Int32(fn)
            byKey["\(p.frames.file(ofFunction: f) ?? ""):\(p.frames.line(ofFunction: f) ?? 0):\(p.frames.name(ofFunction: f))"] = fn
        }
        let funcs = ref["functions"] as! [[String: Any]]
        XCTAssertEqual(ft.count, funcs.count, "\(c.name): function count")
        for r in funcs {
            let k = "\(r["file"] as! String):\(r["line"] as! Int):\(r["name"] as! String)"
            guard let fn = byKey[k] else { XCTFail("\(c.name): missing \(k)"); continue }
            XCTAssertEqual(ft.selfWeight[0][fn], (r["direct"] as! NSNumber).doubleValue, k)
            XCTAssertEqual(ft.totalWeight[0][fn], (r["cumulative"] as! NSNumber).doubleValue, k)
            XCTAssertEqual(ft.selfWeight[1][fn], (r["tt"] as! NSNumber).doubleValue, accuracy: 1e-12, k)
            XCTAssertEqual(ft.totalWeight[1][fn], (r["ct"] as! NSNumber).doubleValue, accuracy: 1e-12, k)
            XCTAssertEqual(ft.callers(of: Int32(fn)).count, r["callers"] as! Int, "\(k): callers")
        }
    }

    /// callgrind: each function's self cost (first event) against the script's sum of the file's
    /// cost lines, keyed by name, file and definition line.
    func testCallgrindSelfCostsMatchTheFile() throws {
        let cases = try Self.cases().filter { $0.format == "callgrind" }
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let ref = try Fixtures.json(c.stem + ".callgrind-self.json") as! [[String: Any]]
            let p = try FormatRegistry.load(path: c.path)
            let ft = p.functions
            var mine: [String: Double] = [:], theirs: [String: Double] = [:]
            for fn in 0..<ft.count where ft.selfWeight[0][fn] != 0 {
                let f = Int32(fn), name = p.frames.name(ofFunction: f), file = p.frames.file(ofFunction: f)
                mine["\(name)  \(file ?? "")  \(p.frames.line(ofFunction: f).map(String.init) ?? "")", default: 0] += ft.selfWeight[0][fn]
            }
            for r in ref {
                let w = (r["self"] as! NSNumber).doubleValue, file = r["file"] as? String
                guard w != 0 else { continue }
                theirs["\(r["name"] as! String)  \(file ?? "")  \((r["line"] as? Int).map(String.init) ?? "")", default: 0] += w
            }
            XCTAssertGreaterThan(theirs.count, 0, c.name)
            if let diff = Self.difference(mine, theirs) { XCTFail("\(c.name) self costs:\n\(diff)") }
        }
    }

    func testComparisonReportsTheFirstDifferingStacks() {
        let a = Self.parseFolded("a;b 2\na;c 3\n")
        XCTAssertNil(Self.difference(a, Self.parseFolded("# comment\na;c 3\na;b 2.0000000000001\n")))
        let d = Self.difference(a, Self.parseFolded("a;b 2\na;c 3.1\na;d 1\n"))
        XCTAssertNotNil(d)
        XCTAssertTrue(d?.contains("a;c") == true && d?.contains("a;d") == true, d ?? "")
    }

    // MARK: - The canonical collapsed form

    static func canonical(_ p: Profile) -> String {
        let merged = p.mergingThreads()
        return Exporter.collapsed(merged, metric: merged.defaultMetric, exact: true)
    }

    /// `stack weight` lines into a map (the weight is the text after the last space); `#` lines are
    /// comments. Duplicate stacks add up.
    static func parseFolded(_ text: String) -> [String: Double] {
        var d: [String: Double] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") { continue }
            guard let sp = line.lastIndex(of: " "), let w = Double(line[line.index(after: sp)...]) else {
                d["<unparsable line: \(line)>", default: 0] += 1
                continue
            }
            d[String(line[..<sp]), default: 0] += w
        }
        return d
    }

    /// nil when every stack's weight agrees within a relative 1e-9 (float sums in another order),
    /// else the first differing stacks, sorted, with both weights.
    static func difference(_ got: [String: Double], _ want: [String: Double], limit: Int = 8) -> String? {
        let scale = want.values.reduce(0) { $0 + abs($1) }
        var lines: [String] = []
        var count = 0
        for k in Set(got.keys).union(want.keys).sorted() {
            let a = got[k] ?? 0, b = want[k] ?? 0
            if abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-12 * scale && (got[k] != nil) == (want[k] != nil) { continue }
            count += 1
            if lines.count < limit {
                lines.append("  \(k)\n      perftop \(got[k].map { String($0) } ?? "(absent)")  reference \(want[k].map { String($0) } ?? "(absent)")")
            }
        }
        guard count > 0 else { return nil }
        return "\(count) stack(s) differ (perftop \(got.count) stacks, reference \(want.count)):\n" + lines.joined(separator: "\n")
    }
}
