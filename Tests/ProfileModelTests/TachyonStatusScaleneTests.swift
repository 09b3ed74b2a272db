import Foundation
import XCTest
@testable import ProfileModel

/// Tachyon's per-sample status bits as sample classes, its TACHSTAT block and 256-frame cut,
/// and Scalene's per-line CPU split. The expected numbers come from EXPECTED.json (the status
/// byte counts of each capture) or from Scalene's JSON read with Foundation's parser, never
/// from the readers under test.
final class TachyonStatusScaleneTests: XCTestCase {

    // MARK: Tachyon status bits

    /// Status-byte counts from EXPECTED.json ("0x23 HAS_GIL|ON_CPU|MAIN_THREAD": 587, ...).
    static func statusCounts(_ e: Fixtures.Expected) -> [(UInt8, Double)] {
        let facts = e.facts["expected_from_austin"] as! [String: Any]
        let counts = facts["status_counts"] as! [String: Any]
        return counts.map { k, v in
            let hex = k.split(separator: " ")[0].dropFirst(2)
            return (UInt8(hex, radix: 16)!, (v as! NSNumber).doubleValue)
        }
    }

    func testStatusBitsBecomeMetricsAndTheSummaryUsesThem() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "tachyon-binary" }
        XCTAssertEqual(entries.count, 4)
        for e in entries {
            let facts = e.facts["expected_from_austin"] as! [String: Any]
            let empty = (facts["empty_stack_samples"] as! NSNumber).doubleValue
            let withFrames = (facts["thread_samples_with_frames"] as! NSNumber).doubleValue
            // SOURCES.md: an empty stack got status 0x00 (0x20 on the main thread), so the
            // samples the tree holds are the counts less those, all off CPU without the GIL.
            var want: [String: Double] = [:]
            for (status, n) in Self.statusCounts(e) {
                let gil = status & 0x01 != 0, cpu = status & 0x02 != 0, requested = status & 0x08 != 0
                if cpu { want["on-cpu", default: 0] += n }
                if gil { want["gil", default: 0] += n }
                if requested && !gil { want["gil-wait", default: 0] += n }
                else if !cpu { want["off-cpu", default: 0] += n }
                else if !gil { want["no-gil-cpu", default: 0] += n }
            }
            want["off-cpu", default: 0] -= empty
            want = want.filter { $0.value > 0 }
            let p = try load(dir + "/" + e.path)
            var got: [String: Double] = [:]
            for (i, v) in p.metrics.enumerated() where i > 0 { got[v.name] = p.total(metric: i) }
            XCTAssertEqual(got, want, e.path)
            XCTAssertEqual(p.total(metric: 0), withFrames, e.path)

            // The summary splits by the bits: the GIL wait and off-CPU shares are exactly theirs.
            let t = Triage(p, metric: 0)
            XCTAssertTrue(t.usesRecordedClasses, e.path)
            func w(_ kind: String) -> Double { t.classes.first { $0.kind == kind }?.weight ?? 0 }
            XCTAssertEqual(t.total, withFrames, e.path)
            XCTAssertEqual(w("gil"), want["gil-wait"] ?? 0, e.path)
            // Off CPU, possibly named more precisely by a lock or sleep frame.
            XCTAssertEqual(w("offcpu") + w("lock") + w("idle"), want["off-cpu"] ?? 0, e.path)
            XCTAssertGreaterThanOrEqual(w("native"), want["no-gil-cpu"] ?? 0, e.path)
            if (want["gil-wait"] ?? 0) > 0 {
                let text = t.text(p, metric: 0, look: [], ascii: true)
                let pct = ValueFormat.percent(want["gil-wait"]!, of: withFrames)
                XCTAssertTrue(text.contains("waiting for the GIL") && text.contains(pct), text)
            }
            // Another metric (only the on-CPU samples) is classified by frames alone.
            if let onCPU = p.metricIndex(named: "on-cpu") {
                XCTAssertFalse(Triage(p, metric: onCPU).usesRecordedClasses)
                XCTAssertEqual(p.statusNotes(metric: onCPU).first, "only samples on CPU")
            }
        }
    }

    // MARK: TACHSTAT, the 256-frame cut, version and cut-file errors (FORMATS.md §8.1)

    static func fixed(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }

    /// One thread, one FULL record of `depth` frames (all frame 0 `f` in a.py), status 0x23 by default;
    /// optionally a 56-byte TACHSTAT block.
    static func capture(depth: Int, stats: (rate: Double, failed: Double, missed: Double)? = nil,
                        version: UInt64 = 1, status: UInt8 = 0x23) -> [UInt8] {
        var data = fixed(7, 8) + fixed(0, 4) + [1] + TachyonTests.varint(10) + [status] + TachyonTests.varint(UInt64(depth))
        for _ in 0..<depth { data += TachyonTests.varint(0) }
        var strings: [UInt8] = []
        for s in ["a.py", "f"] { strings += TachyonTests.varint(UInt64(s.utf8.count)) + Array(s.utf8) }
        let frames = TachyonTests.varint(0) + TachyonTests.varint(1) + TachyonTests.varint(TachyonTests.zigzag(3))
            + TachyonTests.varint(0) + TachyonTests.varint(TachyonTests.zigzag(-1)) + TachyonTests.varint(0) + [255]
        var block: [UInt8] = []
        if let st = stats {
            block = fixed(Double(2).bitPattern, 8) + fixed(st.rate.bitPattern, 8) + fixed(st.failed.bitPattern, 8)
                + fixed(st.missed.bitPattern, 8) + fixed(0, 4) + fixed(0, 4) + Array("TACHSTAT".utf8) + fixed(1, 4) + fixed(56, 4)
        }
        let strOff = 64 + data.count, frameOff = strOff + strings.count
        let size = frameOff + frames.count + block.count + 32
        let h = fixed(0x5441_4348, 4) + fixed(version, 4) + [3, 15, 2, 0] + fixed(1000, 8) + fixed(1000, 8)
            + fixed(1, 8) + fixed(1, 4) + fixed(UInt64(strOff), 8) + fixed(UInt64(frameOff), 8) + fixed(0, 4) + fixed(0, 4)
        return h + data + strings + frames + block + fixed(2, 4) + fixed(1, 4) + fixed(UInt64(size), 8) + [UInt8](repeating: 0, count: 16)
    }

    func testWriterCutAndSamplerStatsAreSaid() throws {
        let shallow = try TachyonTests.loadBytes(Self.capture(depth: 255))
        XCTAssertEqual(shallow.warnings, [])
        XCTAssertEqual(shallow.statusNotes(metric: 0), [])

        let deep = try TachyonTests.loadBytes(Self.capture(depth: 256))
        XCTAssertEqual(deep.warnings.count, 1)
        XCTAssertTrue(deep.warnings[0].contains("256 frames") && deep.warnings[0].contains("cut"), "\(deep.warnings)")
        XCTAssertEqual(deep.statusNotes(metric: 0), ["1 stacks cut at 256"])
        XCTAssertTrue(Report.text(deep).contains("Warning: 1 sample(s) have stacks of 256 frames"))

        let lossy = try TachyonTests.loadBytes(Self.capture(depth: 3, stats: (987, 1.5, 0.25)))
        let meta = Dictionary(lossy.metadata, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(meta["measured rate"], "987 samples/s")
        XCTAssertEqual(meta["failed samples"], "1.5%")
        XCTAssertEqual(meta["missed samples"], "0.3%")
        XCTAssertEqual(lossy.statusNotes(metric: 0), ["rate 987/s failed 1.5% missed 0.3%"])
        XCTAssertTrue(lossy.warnings.contains { $0.contains("1.5% of samples failed") }, "\(lossy.warnings)")
        XCTAssertTrue(Report.text(lossy).contains("Sampler: measured rate 987 samples/s over 2.00 s, 1.5% failed, 0.3% missed (TACHSTAT)\n"),
                      Report.text(lossy))
        XCTAssertNil(shallow.samplerNote)

        let clean = try TachyonTests.loadBytes(Self.capture(depth: 3, stats: (1000, 0, 0)))
        XCTAssertEqual(clean.warnings, [])
        XCTAssertEqual(clean.statusNotes(metric: 0), ["rate 1000/s"])

        let nan = try TachyonTests.loadBytes(Self.capture(depth: 3, stats: (.nan, -1, .infinity)))
        XCTAssertTrue(nan.warnings.contains { $0.contains("not finite") }, "\(nan.warnings)")
    }

    /// The damaged variants the issue names, decoded in process: a profile or a located error.
    func testHostileTachyonVariants() throws {
        func check(_ b: [UInt8], _ what: String) -> ProfileError? {
            do { _ = try TachyonTests.loadBytes(b, chunk: 7); return nil } catch let e as ProfileError {
                XCTAssertNotNil(e.offset, "\(what): \(e)")
                return e
            } catch { XCTFail("\(what): \(error)"); return nil }
        }
        // The longest varint bytes, in place, at every offset of the sample data.
        let base = TachyonTests.capture()
        let strOff = Int(base[40]) | Int(base[41]) << 8
        for i in 64..<strOff {
            for n in [2, 10, 11] where i + n <= strOff {
                var b = base
                for k in 0..<n { b[i + k] = k == n - 1 ? 0x7F : 0xFF }
                _ = check(b, "varint of \(n) bytes at \(i)")
            }
        }
        // A REPEAT count claiming more samples than the header (6) and the data hold.
        var repeatBig = base
        let repeatAt = 64 + 13 + 5                          // thread 7's REPEAT record
        XCTAssertEqual(repeatBig[repeatAt + 12], 0)
        repeatBig[repeatAt + 13] = 0x7F
        let e = check(repeatBig, "REPEAT 127")
        XCTAssertEqual(e?.offset, repeatAt)
        XCTAssertTrue(e?.message.contains("REPEAT of 127 samples") ?? false, "\(String(describing: e))")
        // zstd garbage inside the compressed sample data (the frame magic kept).
        let z = try TachyonTests.bytes(TachyonTests.golden("tachyon/etl-zstd.tachyon.zst.bin"))
        let zEnd = Int(z[40]) | Int(z[41]) << 8
        var rng = SeededRNG(seed: 23)
        var zstdErrors = 0
        for _ in 0..<200 {
            var b = z
            for _ in 0..<8 { b[68 + Int(rng.next() % UInt64(zEnd - 68))] = UInt8(rng.next() & 0xFF) }
            if let e = check(b, "zstd garbage"), e.message.contains("zstd") { zstdErrors += 1 }
        }
        XCTAssertGreaterThan(zstdErrors, 0)
        // Past the writer's limit (only a damaged or foreign writer): still read, and said.
        let deeper = try TachyonTests.loadBytes(Self.capture(depth: 257))
        XCTAssertTrue(deeper.warnings.first?.contains("256 frames or more") ?? false, "\(deeper.warnings)")
    }

    func testExceptionSamplesAreAMetricAndANote() throws {
        // One sample holding the GIL on CPU with an exception set (0x13).
        let p = try TachyonTests.loadBytes(Self.capture(depth: 3, status: 0x13))
        XCTAssertEqual(p.metrics.map(\.name), ["samples", "on-cpu", "gil", "exception"])
        XCTAssertEqual(p.total(metric: p.metricIndex(named: "exception")!), 1)
        let t = Triage(p, metric: 0)
        XCTAssertTrue(t.text(p, metric: 0, look: [], ascii: true).contains("100.0% of the samples were handling an exception"))
        // Default wall mode marks every sample UNKNOWN: no status metrics, frame rules only.
        let wall = try TachyonTests.loadBytes(Self.capture(depth: 3, status: 0x04 | 0x20))
        XCTAssertEqual(wall.metrics.map(\.name), ["samples"])
        XCTAssertFalse(Triage(wall, metric: 0).usesRecordedClasses)
    }

    func testErrorsTheIssueAsksFor() throws {
        // Version other than 1 names the Python that wrote it.
        XCTAssertThrowsError(try TachyonTests.loadBytes(Self.capture(depth: 3, version: 2))) { e in
            let pe = e as! ProfileError
            XCTAssertEqual(pe.message, "unsupported Tachyon format version 2 (written by Python 3.15.2; perftop reads version 1)")
            XCTAssertEqual(pe.offset, 4)
        }
        // A header of zeros: the capture never finished.
        var zero = Self.capture(depth: 3)
        for i in 0..<64 { zero[i] = 0 }
        XCTAssertThrowsError(try FormatRegistry.load(source: MemorySource(zero), name: "z", format: "tachyon")) { e in
            XCTAssertTrue((e as! ProfileError).message.contains("never finished"), "\(e)")
            XCTAssertTrue((e as! ProfileError).message.contains("written last"), "\(e)")
        }
        // Cut inside the sample data: the offset where the input ended.
        let b = Self.capture(depth: 40)
        XCTAssertThrowsError(try TachyonTests.loadBytes(Array(b[0..<90]))) { e in
            let pe = e as! ProfileError
            XCTAssertTrue(pe.message.contains("ends inside the sample data"), pe.message)
            XCTAssertEqual(pe.offset, 90)
        }
    }

    // MARK: Scalene

    struct ScaleneReference {
        var python = 0.0, native = 0.0, system = 0.0, malloc = 0.0, lines = 0
        var topLine = "", topShare = 0.0
    }

    /// Sums over every line of every file, with Foundation's JSON parser.
    static func reference(_ path: String) throws -> ScaleneReference {
        let d = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        var r = ScaleneReference()
        for (file, v) in d["files"] as! [String: Any] {
            for l in (v as! [String: Any])["lines"] as! [[String: Any]] {
                r.lines += 1
                let py = (l["n_cpu_percent_python"] as! NSNumber).doubleValue
                let c = (l["n_cpu_percent_c"] as! NSNumber).doubleValue
                let sys = (l["n_sys_percent"] as! NSNumber).doubleValue
                r.python += py; r.native += c; r.system += sys
                r.malloc += (l["n_malloc_mb"] as! NSNumber).doubleValue * 1_048_576
                if py + c + sys > r.topShare {
                    r.topShare = py + c + sys
                    r.topLine = (file as NSString).lastPathComponent + ":\((l["lineno"] as! NSNumber).intValue)"
                }
            }
        }
        return r
    }

    func testScaleneCorpusFilesKeepEveryLinesSplit() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "scalene" }
        XCTAssertEqual(entries.count, 2)
        for e in entries {
            let path = dir + "/" + e.path
            let r = try Self.reference(path)
            let p = try load(path)
            let meta = Dictionary(p.metadata, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(meta["files"], "\(e.facts["files"] as! Int)", e.path)
            XCTAssertEqual(meta["source lines"], "\(e.facts["lines"] as! Int)", e.path)
            XCTAssertEqual(r.lines, e.facts["lines"] as! Int)
            XCTAssertEqual(meta["elapsed"], ValueFormat.fixed((e.facts["elapsed_time_sec"] as! NSNumber).doubleValue, 3) + " s")
            XCTAssertEqual(p.metricIndex(named: "malloc") != nil, e.facts["memory"] as! Bool, e.path)
            let top = try checkScalene(path)
            XCTAssertEqual(top, e.facts["top_cpu_line"] as? String)
        }
    }

    /// The committed file (no corpus needed).
    func testScaleneCommittedFile() throws {
        let path = Fixtures.repoRoot.appendingPathComponent("Tests/Golden/scalene/native_mix.scalene.json").path
        let top = try checkScalene(path)
        XCTAssertTrue(top.hasPrefix("native_mix.py:"), top)
    }

    /// Checks a Scalene file's metrics and summary against its JSON; returns its hottest line
    /// as `file:line (share)`.
    func checkScalene(_ path: String) throws -> String {
        let r = try Self.reference(path)
        let p = try load(path)
        XCTAssertEqual(p.format, "scalene")
        let memory = p.metricIndex(named: "malloc") != nil

        func total(_ name: String) -> Double { p.total(metric: p.metricIndex(named: name)!) }
        XCTAssertEqual(total("python"), r.python, accuracy: 1e-6, path)
        XCTAssertEqual(total("native"), r.native, accuracy: 1e-6, path)
        XCTAssertEqual(total("system"), r.system, accuracy: 1e-6, path)
        XCTAssertEqual(total("cpu"), r.python + r.native + r.system, accuracy: 1e-6, path)
        if memory { XCTAssertEqual(total("malloc"), r.malloc, accuracy: 1e-3, path) }

        // The hottest line, from the frames' executing lines (`top_cpu_line` in EXPECTED.json).
        var byLine: [String: Double] = [:]
        for n in 1..<p.tree.count {
            let f = p.tree.frame[n]
            guard let file = p.frames.file(ofFrame: f), let line = p.frames.line(ofFrame: f) else { continue }
            byLine[(file as NSString).lastPathComponent + ":\(line)", default: 0] += p.tree.selfWeight[0][n]
        }
        let top = byLine.max { $0.value < $1.value }!
        XCTAssertEqual(top.key, r.topLine)

        // Scalene's native and system shares are the summary's, whatever the frames say.
        let t = Triage(p, metric: 0)
        XCTAssertTrue(t.usesRecordedClasses)
        func w(_ kind: String) -> Double { t.classes.first { $0.kind == kind }?.weight ?? 0 }
        XCTAssertEqual(w("native"), r.native, accuracy: 1e-6, path)
        XCTAssertEqual(w("system"), r.system, accuracy: 1e-6, path)
        XCTAssertEqual(t.total, r.python + r.native + r.system, accuracy: 1e-6, path)
        return "\(top.key) (\(ValueFormat.percent(top.value, of: p.total(metric: 0))))"
    }
}
