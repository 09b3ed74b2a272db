import Foundation
import XCTest
@testable import ProfileModel

/// Issue 17 ("numbers you can trust") and 18.3 on real recordings: each figure is checked
/// against the raw file or Python's own pstats, not against perftop's other code paths.
final class TrustedNumbersTests: XCTestCase {

    /// The signed value after the last space of each austin sample line.
    static func austinValues(_ path: String) throws -> [Double] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("P") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
    }

    // MARK: 17.9 austin memory mode: allocations and frees, no share over 100%

    func testAustinMemoryModeSplitsAllocationsAndFrees() throws {
        let dir = try Fixtures.requireCorpus()
        let path = dir + "/generated/austin/austin.memory.austin"
        let values = try Self.austinValues(path)
        XCTAssertTrue(values.contains { $0 < 0 }, "the recording has frees")
        let p = try load(path)
        let alloc = try XCTUnwrap(p.metricIndex(named: "allocated"))
        let freed = try XCTUnwrap(p.metricIndex(named: "freed"))
        XCTAssertEqual(p.defaultMetric, alloc)
        XCTAssertEqual(p.tree.totalWeight[alloc][0], values.filter { $0 > 0 }.reduce(0, +))
        XCTAssertEqual(p.tree.totalWeight[freed][0], -values.filter { $0 < 0 }.reduce(0, +))
        for m in [alloc, freed] {
            let root = p.tree.totalWeight[m][0]
            for n in 0..<p.tree.count {
                XCTAssertGreaterThanOrEqual(p.tree.selfWeight[m][n], 0)
                XCTAssertLessThanOrEqual(p.tree.totalWeight[m][n], root, "node \(n) over 100%")
            }
        }
    }

    // MARK: 18.3 negative weights in the summary

    func testTriageOfNegativeWeightsStaysWithinZeroAndHundredPercent() throws {
        let dir = try Fixtures.requireCorpus()
        let path = dir + "/hostile/negative-metric.austin"
        let values = try Self.austinValues(path)
        let p = try load(path)
        let t = Triage(p, metric: p.defaultMetric)
        XCTAssertEqual(t.total, values.filter { $0 > 0 }.reduce(0, +))
        XCTAssertEqual(t.negative, -values.filter { $0 < 0 }.reduce(0, +))
        XCTAssertGreaterThan(t.negative, 0)
        for c in t.classes {
            XCTAssertGreaterThan(c.weight, 0, c.kind)
            XCTAssertLessThanOrEqual(c.weight, t.total, c.kind)
        }
        let text = t.text(p, metric: p.defaultMetric, look: [], ascii: true)
        XCTAssertTrue(text.contains("negative weights"), text)
        XCTAssertNil(text.range(of: #"-[0-9]"#, options: .regularExpression), "no negative share: \(text)")
        let pct = try NSRegularExpression(pattern: #"([0-9.]+)%"#)
        for m in pct.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            XCTAssertLessThanOrEqual(Double(text[Range(m.range(at: 1), in: text)!])!, 100, "no share over 100%: \(text)")
        }
    }

    // MARK: 17.15 a cut yappi callgrind file

    func testCutYappiCallgrindNamesTheRealProblem() throws {
        let dir = try Fixtures.requireCorpus()
        let lines = try String(contentsOfFile: dir + "/generated/yappi/yappi.callgrind.out", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        let firstCost = try XCTUnwrap(lines.firstIndex { $0.first?.isNumber == true })
        // Cut after the names yappi lists up front, before the first cost line; and before any `fn=`.
        for keep in [firstCost - 2, 120] {
            let cut = lines.prefix(keep).joined(separator: "\n") + "\n"
            let fnLines = lines.prefix(keep).filter { $0.hasPrefix("fn=") }.count
            XCTAssertThrowsError(try FormatRegistry.load(source: MemorySource(Array(cut.utf8)), name: "cut.out")) { e in
                let pe = e as? ProfileError
                XCTAssertEqual(pe?.line, keep, "\(e)")
                if fnLines > 0 {
                    XCTAssertTrue(pe?.message.contains("after \(fnLines) 'fn=' lines but before any cost line") == true, "\(e)")
                } else {
                    XCTAssertTrue(pe?.message.contains("no functions ('fn=' lines) before the end") == true, "\(e)")
                }
            }
        }
    }

    /// A py-spy raw file as (frames root first, count); a frame is `name (file:line)`.
    static func foldedLines(_ path: String) throws -> [([String], Double)] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { l in
            guard let sp = l.lastIndex(of: " "), let n = Double(l[l.index(after: sp)...]) else { return nil }
            return (l[..<sp].split(separator: ";").map(String.init), n)
        }
    }

    /// `name (file:line)` → "name\tfile".
    static func functionKey(_ frame: String) -> String {
        guard let open = frame.lastIndex(of: "("), let colon = frame.lastIndex(of: ":"), open < colon else { return frame }
        return String(frame[..<open]).trimmingCharacters(in: .whitespaces) + "\t" + frame[frame.index(after: open)..<colon]
    }

    // MARK: 17.2 the inverted tree's roots

    func testInvertedRootsSelfIsTheFunctionsSelfTime() throws {
        let path = Fixtures.sample("etl.pyspy.txt")
        var leafSelf: [String: Double] = [:]
        for (frames, n) in try Self.foldedLines(path) { if let leaf = frames.last { leafSelf[Self.functionKey(leaf), default: 0] += n } }
        let p = try load(path).mergingLines()
        let inv = p.inverted()
        let roots = inv.tree.children(0)
        XCTAssertEqual(roots.count, leafSelf.count)
        for r in roots {
            let fn = inv.function(ofNode: r)
            let key = inv.frames.name(ofFunction: fn) + "\t" + (inv.frames.file(ofFunction: fn) ?? "")
            let want = try XCTUnwrap(leafSelf[key], key)
            XCTAssertEqual(inv.tree.selfWeight[0][Int(r)], want, key)
            XCTAssertEqual(inv.tree.totalWeight[0][Int(r)], want, key)
            XCTAssertEqual(inv.functions.selfWeight[0][Int(fn)], want, key)
            // Callers spent none of it.
            for c in inv.tree.children(r) { XCTAssertEqual(inv.tree.selfWeight[0][Int(c)], 0, key) }
        }
        // Ordering by another metric keeps the totals (they are not the sums of self here).
        XCTAssertEqual(inv.ordered(by: 0).tree.totalWeight[0], inv.tree.totalWeight[0])
    }

    // MARK: 17.4 transforms carry the sample count and the estimated-tree flag

    func testFocusCountsTheSamplesItKeeps() throws {
        let path = Fixtures.sample("etl.pyspy.txt")
        let lines = try Self.foldedLines(path)
        let through = lines.filter { $0.0.contains { Self.functionKey($0) == "dedupe\tetl.py" } }.reduce(0) { $0 + $1.1 }
        let all = lines.reduce(0) { $0 + $1.1 }
        let p = try load(path)
        XCTAssertEqual(p.sampleCount, Int(all))
        let dedupe = try p.functions(matching: "^dedupe$")
        XCTAssertEqual(dedupe.count, 1)
        XCTAssertEqual(p.focused(onAny: dedupe).sampleCount, Int(through))
        XCTAssertLessThan(through, all)
        XCTAssertEqual(p.hiding(dedupe).sampleCount, Int(all))
        XCTAssertEqual(p.inverted().sampleCount, Int(all))
        XCTAssertEqual(p.mergingThreads().sampleCount, Int(all))
        // A live window of the whole tree's weights keeps every sample.
        XCTAssertEqual(p.withSelfWeights(p.tree.selfWeight).sampleCount, Int(all))
        // pstats: the estimated-tree flag survives every transform (it decides the total).
        let prof = try load(Fixtures.sample("etl.prof"))
        let d = try prof.functions(matching: "^dedupe$")
        for q in [prof.focused(onAny: d), prof.hiding(d), prof.inverted(), prof.mergingThreads(), prof.ordered(by: 0)] {
            XCTAssertTrue(q.estimatedTree)
            XCTAssertEqual(q.warnings, prof.warnings)
        }
    }

    /// Smart case, as the viewer's search: lower case matches any case, a capital makes it exact.
    func testFunctionSearchIsSmartCase() throws {
        let p = try load(Fixtures.sample("etl.pyspy.txt"))
        let names = (0..<p.functions.count).map { p.frames.name(ofFunction: Int32($0)) }
        let lower = try p.functions(matching: "jsonencoder")
        XCTAssertEqual(lower, Set(names.indices.filter { names[$0].lowercased().contains("jsonencoder") }.map { Int32($0) }))
        XCTAssertFalse(lower.isEmpty)
        XCTAssertEqual(try p.functions(matching: "jsonEncoder"), [])
        var asText = false
        XCTAssertEqual(p.functions(matching: "dedupe(", asText: &asText), [])
        XCTAssertTrue(asText)
        XCTAssertThrowsError(try p.functions(matching: "dedupe("))
    }

    // MARK: 17.10 the summary: unreadable sources and austin's INVALID frames

    func testSummaryCountsInvalidFramesAsSamplingErrorsAndNamesUnreadSources() throws {
        let text = try String(contentsOfFile: Fixtures.sample("etl.austin"), encoding: .utf8)
        // Moved as if recorded on another machine: the sources under /srv/app/ cannot be read.
        let moved = text.replacingOccurrences(of: "workload/", with: "/srv/app/")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-moved-\(getpid()).austin").path
        try moved.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Time of the samples with an :INVALID: frame, from the file's own lines.
        var invalid = 0.0
        for l in text.split(separator: "\n") where l.hasPrefix("P") && l.contains(":INVALID:") {
            invalid += Double(l.split(separator: " ").last!.split(separator: ",")[0])!
        }
        XCTAssertGreaterThan(invalid, 0)
        let p = try load(path)
        let t = Triage(p, metric: p.defaultMetric)
        XCTAssertEqual(t.classes.first { $0.kind == "invalid" }?.weight ?? 0, invalid, accuracy: 0.5)
        XCTAssertFalse(t.classes.first { $0.kind == "native" }?.top.contains { p.frames.name(ofFunction: $0.function) == "INVALID" } ?? false)
        XCTAssertGreaterThan(t.unreadSource, 0)
        XCTAssertEqual(t.unreadFiles.first, "/srv/app/etl.py")
        let out = t.text(p, metric: p.defaultMetric, look: [], ascii: true)
        XCTAssertTrue(out.contains("--source-root") && out.contains("--path-map"), out)
        // With the sources found, no such note.
        let found = Triage(p, metric: p.defaultMetric, sourceRoots: ["/srv/app/=" + Fixtures.repoRoot.path + "/SampleProfiles/workload/"])
        XCTAssertEqual(found.unreadSource, 0)
    }

    // MARK: 17.9 yappi's totals over 100% come from its data, and a note says so

    func testYappiTotalsOverTheProfileTotalAreNoted() throws {
        let dir = try Fixtures.requireCorpus()
        let ref = try Fixtures.json(Fixtures.reference("corpus-pstats.json")) as! [String: [String: Any]]
        let yappi = try XCTUnwrap(ref["generated/yappi/yappi.pstat"])
        let total = (yappi["total_tt"] as! NSNumber).doubleValue
        let over = (yappi["functions"] as! [[String: Any]]).filter { ($0["ct"] as! NSNumber).doubleValue > total }
        XCTAssertFalse(over.isEmpty, "Python's pstats sees totals over total_tt")
        let top = over.max { ($0["ct"] as! NSNumber).doubleValue < ($1["ct"] as! NSNumber).doubleValue }!
        let p = try load(dir + "/generated/yappi/yappi.pstat")
        let note = try XCTUnwrap(p.warnings.first { $0.contains("over the profile's total") }, "\(p.warnings)")
        XCTAssertTrue(note.hasPrefix("\(over.count) function(s)"), note)
        XCTAssertTrue(note.contains("(\(top["name"] as! String) at "), note)
        // cProfile's own figures stay within the total: no note.
        XCTAssertFalse(try load(Fixtures.sample("etl.prof")).warnings.contains { $0.contains("over the profile's total") })
    }

    // MARK: 17.7 perf's cpu-clock is time

    func testPerfCpuClockPeriodsAreNanoseconds() throws {
        let dir = try Fixtures.requireCorpus()
        let path = dir + "/speedscope/sample/profiles/linux-perf/simple-with-header.linux-perf.txt"
        // The period before `cpu-clock:` on each event line, summed from the file.
        let period = try NSRegularExpression(pattern: #":\s+([0-9]+)\s+cpu-clock:"#)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let sum = period.matches(in: text, range: NSRange(text.startIndex..., in: text))
            .reduce(0.0) { $0 + Double(text[Range($1.range(at: 1), in: text)!])! }
        XCTAssertGreaterThan(sum, 0)
        let p = try load(path)
        XCTAssertEqual(p.metrics[0], ValueType("cpu-clock", "nanoseconds"))
        XCTAssertEqual(p.total(metric: 0), sum)
        XCTAssertTrue(Report.text(p, options: ReportOptions(metric: 0)).contains("Total: \(ValueFormat.withUnit(sum, unit: "nanoseconds"))"))
        XCTAssertTrue(ValueFormat.withUnit(sum, unit: "nanoseconds").hasSuffix(" ms"))
        // Other events stay counts.
        let ci = try load(dir + "/FlameGraph/test/perf-cycles-instructions-01.txt")
        XCTAssertEqual(ci.metrics[0].unit, "count")
    }
}
