import Foundation
import XCTest
@testable import ProfileModel

/// Whole-corpus conformance: every file in `EXPECTED.json` is detected as the format the
/// reference parsers say it is (or refused with the right message), detection ignores the file
/// name, and damaged copies of every supported file give a profile or a located one-line error,
/// never a crash or a hang. The per-format fact checks live in the per-format test files.
final class CorpusConformanceTests: XCTestCase {

    // MARK: what each EXPECTED.json format should become

    enum Expectation: Equatable, CustomStringConvertible {
        /// Loads, and `Profile.format` is this reader name.
        case reader(String)
        /// Recognised and refused: the message contains "not supported".
        case unsupported
        /// A zero-byte file: the message contains "empty".
        case empty
        /// Not a profile: it must be refused with a ProfileError, or may load as `collapsed` (the
        /// folded grammar is the loose last resort); any other reader claiming it is a sniffing
        /// bug. What the code does today (the summary test prints it):
        /// - `json(other)` and flamelens' `expected_stacks.json` (JSON with no `ph`): no JSON
        ///   reader claims them, nothing else does either: "unrecognised profile format".
        /// - pprof's `*.string` debug dumps: 11 of 14 are refused; the 3 CPU ones
        ///   (`cppbench.cpu.string`, `go.crc32.cpu.string`, `gobench.cpu.string`) load as
        ///   `collapsed`, because their sample lines (`1   10000000: 1 2 3 ... 10`) end in a
        ///   number and so parse as one-frame folded stacks. Tolerated, not endorsed.
        /// - the two inferno `collapse-guess` negatives mapped below: "unrecognised".
        case notAProfile
        /// A format the corpus holds and perftop has no reader for yet: it must be refused with
        /// a ProfileError (never a crash or a wrong reader), and the test prints a NOT YET READ line.
        case notYetRead

        var description: String {
            switch self {
            case .reader(let r): return r
            case .unsupported: return "(not supported)"
            case .empty: return "(empty)"
            case .notAProfile: return "(not a profile)"
            case .notYetRead: return "(no reader yet)"
            }
        }
    }

    /// Maps an `EXPECTED.json` entry to what perftop must do with it; nil for a format string
    /// this table does not know (a new corpus format: the summary test fails and names it).
    static func expectation(_ e: Fixtures.Expected) -> Expectation? {
        let f = e.format
        // inferno's `collapse-guess` negative fixture: its perf script has an empty line right
        // after an event line, and inferno's guesser refuses it; so does perftop's sniffer
        // (AustinPerfCallgrindTests.testSniffingByContent), which leaves it unrecognised.
        if e.path.hasSuffix("collapse-guess/invalid-perf-with-empty-line-after-event-line.txt") { return .notAProfile }
        switch f {
        case "folded":
            // inferno's `collapse-guess/unknown-format.txt`: "folded" by extension only, no line
            // parses (unique_stacks = 0, everything skipped).
            if e.facts["unique_stacks"] as? Int == 0 && e.facts["total"] as? Int == 0 { return .notAProfile }
            return .reader("collapsed")
        case "pstats(marshal)": return .reader("pstats")
        case "speedscope": return .reader("speedscope")
        case "trace-event":
            // flamelens `expected_stacks.json` files are arrays of objects with no `ph` at all
            // (by_ph = {null: N}): test fixtures, not trace events.
            let byPh = e.facts["by_ph"] as? [String: Any] ?? [:]
            if !byPh.isEmpty && byPh.keys.allSatisfy({ $0 == "null" }) { return .notAProfile }
            return .reader("trace-event")
        case "json(invalid/partial)": return .reader("trace-event")   // cut trace-event arrays
        case "austin-text": return .reader("austin")
        case "austin-mojo": return .reader("mojo")
        case "callgrind": return .reader("callgrind")
        case "firefox-gecko": return .reader("gecko")
        case "empty": return .empty
        case "json(other)": return .notAProfile
        case "collapsed (tachyon)": return .reader("collapsed")
        case "gecko (tachyon)": return .reader("gecko")
        case "pstats (tachyon, sampled)": return .reader("pstats")
        case "tachyon-binary": return .reader("tachyon")
        case "tachyon-jsonl": return .reader("tachyon-jsonl")
        case "importtime": return .reader("importtime")
        case "memray-csv": return .reader("memray-csv")
        case "memray-gprof2dot": return .reader("gprof2dot")
        case "memray-capture (refuse with a hint)", "memray-stats (summary only)": return .unsupported
        case "scalene": return .reader("scalene")
        default: break
        }
        if f.hasPrefix("chrome-cpuprofile") { return .reader("cpuprofile") }   // incl. old head/timestamps
        if f == "perf-script" || f.hasPrefix("perf-script(") { return .reader("perf-script") }
        if f == "pprof(gzip)" || f == "pprof(raw protobuf)" { return .reader("pprof") }
        // pyinstrument-json, pyinstrument-session, and pyinstrument-html-data (the HTML renderer's
        // `{session, frame_tree}` data, which FORMATS.md §9.1 lists as a pyinstrument input).
        if f.hasPrefix("pyinstrument-") { return .reader("pyinstrument") }
        if f.hasPrefix("gperftools-legacy-cpu") || f.hasPrefix("pprof legacy text") { return .unsupported }
        if f.hasPrefix("pprof debug dump") { return .notAProfile }
        return nil
    }

    /// Files whose damaged variants crash the process (a trap in a reader), excluded from
    /// `testDamagedCopiesGiveAProfileOrALocatedError` until the reader is fixed. Each entry is
    /// `"<corpus path>#<variant>"`, variant as printed by the test (`cut@N` or `flip@N`).
    /// Empty: no damaged variant crashed when this test was written.
    static let knownCrashes: Set<String> = []

    // MARK: 1. every file is detected as its format

    func testEveryCorpusFileLoadsAsItsFormat() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected()
        XCTAssertGreaterThanOrEqual(entries.count, 258)

        struct Row { var expect = ""; var loaded = 0; var failed = 0; var other: [String: Int] = [:] }
        var rows: [String: Row] = [:]
        var problems: [String] = []
        for e in entries {
            let path = dir + "/" + e.path
            guard let want = Self.expectation(e) else {
                problems.append("\(e.path): format '\(e.format)' is not mapped to a reader in CorpusConformanceTests")
                continue
            }
            // Rows are per format string, split when one format holds files with different fates.
            let key = want == .notAProfile && !e.format.hasPrefix("pprof debug") && e.format != "json(other)"
                ? e.format + " [not a profile]" : e.format
            var row = rows[key] ?? Row()
            row.expect = want.description
            let result: Result<Profile, Error> = Result { try load(path) }
            switch (want, result) {
            case (.reader(let name), .success(let p)):
                row.loaded += 1
                if p.format != name { problems.append("\(e.path) (\(e.format)): loaded as '\(p.format)', expected '\(name)'") }
            case (.reader(let name), .failure(let err)):
                row.failed += 1
                problems.append("\(e.path) (\(e.format)): expected '\(name)', did not load: \(err)")
            case (.unsupported, .success(let p)), (.empty, .success(let p)):
                row.loaded += 1
                problems.append("\(e.path) (\(e.format)): expected a refusal, loaded as '\(p.format)'")
            case (.unsupported, .failure(let err)), (.empty, .failure(let err)):
                row.failed += 1
                let needle = want == .empty ? "empty" : "not supported"
                if !((err as? ProfileError)?.message.contains(needle) ?? false) {
                    problems.append("\(e.path) (\(e.format)): expected a ProfileError saying '\(needle)', got: \(err)")
                }
            case (.notAProfile, .success(let p)):
                row.loaded += 1
                row.other[p.format, default: 0] += 1
                print("not a profile, but loaded as \(p.format): \(e.path)")
                if p.format != FoldedReader.name {
                    problems.append("\(e.path) (\(e.format)): not a profile, but the '\(p.format)' reader claimed it")
                }
            case (.notAProfile, .failure(let err)):
                row.failed += 1
                if !(err is ProfileError) { problems.append("\(e.path) (\(e.format)): not a ProfileError: \(err)") }
            case (.notYetRead, .success(let p)):
                row.loaded += 1
                row.other[p.format, default: 0] += 1
                print("NOT YET READ: \(e.path) (\(e.format)) loaded as '\(p.format)', which is not its format")
                if p.format != FoldedReader.name {
                    problems.append("\(e.path) (\(e.format)): no reader yet, but the '\(p.format)' reader claimed it")
                }
            case (.notYetRead, .failure(let err)):
                row.failed += 1
                print("NOT YET READ: \(e.path) (\(e.format)): \(err)")
                if !(err is ProfileError) { problems.append("\(e.path) (\(e.format)): not a ProfileError: \(err)") }
            }
            rows[key] = row
        }

        var table = "corpus conformance: \(entries.count) files\n"
        table += "format".padding(toLength: 58, withPad: " ", startingAt: 0) + " expect            loaded  failed\n"
        for (format, r) in rows.sorted(by: { $0.key < $1.key }) {
            let extra = r.other.isEmpty ? "" : "  (as " + r.other.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
            table += format.prefix(57).padding(toLength: 58, withPad: " ", startingAt: 0)
                + " " + r.expect.padding(toLength: 16, withPad: " ", startingAt: 0)
                + String(format: " %7d %7d", r.loaded, r.failed) + extra + "\n"
        }
        print(table)
        if !problems.isEmpty {
            XCTFail("\(problems.count) corpus file(s) not handled as expected:\n  " + problems.joined(separator: "\n  "))
        }
    }

    // MARK: 2. the name never matters

    /// A sample of every supported format (the smallest file of each EXPECTED.json format string,
    /// so gzip pprof, raw pprof and gzip perf script each get one, plus the UTF-16 and CRLF folded
    /// files) is copied under misleading names and must be detected exactly as before.
    func testDetectionIgnoresTheFileName() throws {
        let dir = try Fixtures.requireCorpus()
        var byFormat: [String: Fixtures.Expected] = [:]
        var sample: [Fixtures.Expected] = []
        let all = try Fixtures.expected()
        for e in all {
            guard case .reader = Self.expectation(e) else { continue }
            if let cur = byFormat[e.format], (cur.bytes, cur.path) <= (e.bytes, e.path) { continue }
            byFormat[e.format] = e
        }
        sample = byFormat.values.sorted { $0.path < $1.path }
        let extras = ["simple-utf16-le.txt", "simple-utf16-be.txt", "simple-crlf.txt", "sucrase.cpuprofile"]
        sample += all.filter { e in extras.contains { e.path.hasSuffix("/" + $0) } }
        let readersCovered = Set(sample.compactMap { e -> String? in
            if case .reader(let r)? = Self.expectation(e) { return r } else { return nil }
        })
        XCTAssertEqual(readersCovered, Set(FormatRegistry.supportedNames), "one sample per reader")
        XCTAssertTrue(sample.contains { $0.format.contains("gzip") })

        let tmp = FileManager.default.temporaryDirectory
            .appendingPathComponent("perftop-conformance-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }

        var problems: [String] = []
        var checked = 0
        for e in sample {
            guard case .reader(let want)? = Self.expectation(e) else { continue }
            let original = dir + "/" + e.path
            let reference: Profile
            do { reference = try load(original) } catch {
                problems.append("\(e.path) (\(e.format)): does not load under its own name: \(error)")
                continue
            }
            if reference.format != want { problems.append("\(e.path): loaded as '\(reference.format)', expected '\(want)'") }
            for name in ["x.txt", "x.json", "profile", "y.prof"] {
                let copy = tmp.appendingPathComponent(name).path
                try? FileManager.default.removeItem(atPath: copy)
                try FileManager.default.copyItem(atPath: original, toPath: copy)
                checked += 1
                do {
                    let p = try load(copy)
                    if p.format != reference.format {
                        problems.append("\(e.path) as \(name): detected '\(p.format)', under its own name '\(reference.format)'")
                    } else if p.total(metric: p.defaultMetric) != reference.total(metric: reference.defaultMetric)
                                || p.tree.count != reference.tree.count {
                        problems.append("\(e.path) as \(name): same format but a different profile")
                    }
                } catch {
                    problems.append("\(e.path) as \(name): failed, but loads under its own name: \(error)")
                }
            }
        }
        print("name-independence: \(sample.count) files x 4 names = \(checked) loads, \(problems.count) problem(s)")
        if !problems.isEmpty { XCTFail(problems.joined(separator: "\n")) }
    }

    // MARK: 3. damaged input

    /// Outcome of one load on the worker thread.
    final class Outcome: @unchecked Sendable {
        var error: Error?
        var loaded = false
        var seconds = 0.0
        let done = DispatchSemaphore(value: 0)
    }

    /// Loads `bytes` from memory on a fresh thread (8 MiB stack, as the main thread of the CLI
    /// gets) and waits at most `hangLimit` seconds. Returns nil on a hang: the thread is then
    /// abandoned (it dies with the test process) and the caller stops.
    static func timedLoad(_ bytes: [UInt8], name: String, hangLimit: Double) -> Outcome? {
        let o = Outcome()
        let t = Thread {
            let start = DispatchTime.now().uptimeNanoseconds
            do {
                _ = try FormatRegistry.load(source: MemorySource(bytes), name: name)
                o.loaded = true
            } catch {
                o.error = error
            }
            o.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            o.done.signal()
        }
        t.stackSize = 8 << 20
        t.start()
        return o.done.wait(timeout: .now() + hangLimit) == .timedOut ? nil : o
    }

    /// Deterministic, per-file byte positions for the flips (FNV-1a of the path, then xorshift).
    static func flipPositions(path: String, count: Int, n: Int) -> [Int] {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in path.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        var out: [Int] = []
        for _ in 0..<n {
            h ^= h << 13; h ^= h >> 7; h ^= h << 17
            out.append(Int(h % UInt64(count)))
        }
        return out
    }

    /// Messages that are about the whole input, so carry no line or offset.
    static let wholeFileMessages = ["empty", "unrecognised profile format", "no ", "not supported"]

    /// Is this a one-line error that says where (`NAME@OFFSET: ` or `NAME:LINE: `) or is about
    /// the whole file (`NAME: empty file ...`)?
    static func isLocated(_ e: ProfileError, name: String) -> Bool {
        let d = e.at(file: name).description   // as the CLI prints it
        guard !d.contains("\n"), !d.contains("\r"), d.hasPrefix(name) else { return false }
        let rest = d.dropFirst(name.count)
        func digitsThenColon(_ s: Substring) -> Bool {
            let digits = s.prefix { $0.isASCII && $0.isNumber }
            return !digits.isEmpty && s.dropFirst(digits.count).hasPrefix(": ")
        }
        if rest.hasPrefix("@") { return digitsThenColon(rest.dropFirst()) }
        if rest.hasPrefix(":"), digitsThenColon(rest.dropFirst()) { return true }
        guard rest.hasPrefix(": ") else { return false }
        let message = rest.dropFirst(2)
        return wholeFileMessages.contains { message.hasPrefix($0) || ($0 == "not supported" && message.contains($0)) }
    }

    /// Every supported corpus file up to 2 MB, cut at 1/5..4/5 and at length-1 and with three
    /// bytes flipped (XOR 0xFF), loaded from memory: a profile or a located ProfileError, in at
    /// most 2 s each. Gzip files are damaged as stored (so the gzip layer is what is exercised).
    func testDamagedCopiesGiveAProfileOrALocatedError() throws {
        let dir = try Fixtures.requireCorpus()
        let files = try Fixtures.expected().filter {
            if case .reader = Self.expectation($0) { return $0.bytes <= 2_000_000 && $0.bytes > 0 } else { return false }
        }
        XCTAssertGreaterThan(files.count, 150)
        // The checker itself: located, whole-file, and unlocated errors.
        XCTAssertTrue(Self.isLocated(ProfileError("bad", offset: 12), name: "f.json"))
        XCTAssertTrue(Self.isLocated(ProfileError("bad", line: 3), name: "f.txt"))
        XCTAssertTrue(Self.isLocated(ProfileError("empty file (expected a profile)"), name: "f"))
        XCTAssertFalse(Self.isLocated(ProfileError("bad"), name: "f"))
        XCTAssertFalse(Self.isLocated(ProfileError("bad\nsecond line", line: 3), name: "f"))
        // The slowest variant takes ~0.1 s here; the limits leave room for a loaded CI machine.
        let slowLimit = 8.0, hangLimit = 60.0
        var variants = 0, loaded = 0, refused = 0, skipped = 0
        var slowest = (0.0, "")
        var problems: [String] = []
        let started = Date()
        fileLoop: for e in files {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + e.path)))
            var cases: [(String, [UInt8])] = []
            for cut in Set([1, 2, 3, 4].map { bytes.count * $0 / 5 } + [bytes.count - 1]).sorted() where cut > 0 {
                cases.append(("cut@\(cut)", Array(bytes[0..<cut])))
            }
            for pos in Self.flipPositions(path: e.path, count: bytes.count, n: 3) {
                var b = bytes
                b[pos] ^= 0xFF
                cases.append(("flip@\(pos)", b))
            }
            for (variant, data) in cases {
                let id = "\(e.path)#\(variant)"
                if Self.knownCrashes.contains(id) { skipped += 1; continue }
                variants += 1
                guard let o = Self.timedLoad(data, name: e.path, hangLimit: hangLimit) else {
                    problems.append("\(id): HANG, no result after \(Int(hangLimit)) s; stopped here")
                    break fileLoop
                }
                if o.seconds > slowest.0 { slowest = (o.seconds, id) }
                if o.seconds > slowLimit {
                    problems.append("\(id): took \(String(format: "%.2f", o.seconds)) s (limit \(slowLimit) s)")
                }
                if o.loaded { loaded += 1; continue }
                refused += 1
                guard let pe = o.error as? ProfileError else {
                    problems.append("\(id): not a ProfileError: \(String(describing: o.error))")
                    continue
                }
                if !Self.isLocated(pe, name: e.path) {
                    problems.append("\(id): error without a line or offset: \(pe.description)")
                }
            }
        }
        print("damaged copies: \(files.count) files, \(variants) variants in "
              + String(format: "%.1f", Date().timeIntervalSince(started)) + " s: \(loaded) loaded, \(refused) refused, "
              + "\(skipped) skipped (knownCrashes); slowest " + String(format: "%.3f", slowest.0) + " s \(slowest.1)")
        if !problems.isEmpty {
            XCTFail("\(problems.count) damaged variant(s) mishandled:\n  " + problems.joined(separator: "\n  "))
        }
    }
}
