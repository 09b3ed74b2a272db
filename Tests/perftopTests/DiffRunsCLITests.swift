import Foundation
import XCTest

/// `perftop diff A... --vs B...` on the repeated runs in SampleProfiles/runs: the same ETL job
/// before and after its blocklist fix (a list turned into a set), with py-spy and with cProfile,
/// some runs beside a CPU hog (SampleProfiles/runs/README.md says which).
final class DiffRunsCLITests: XCTestCase {
    static let runs = "SampleProfiles/runs/"

    func files(_ side: String, _ ids: [Int], _ ext: String) -> [String] { ids.map { "\(Self.runs)\(side)/run\($0).\(ext)" } }

    func diff(_ base: [String], _ new: [String], _ extra: [String] = []) throws -> [String: Any] {
        let r = try runPerftop(["diff"] + base + ["--vs"] + new + extra + ["--json"])
        XCTAssertEqual(r.status, 0, r.err)
        return try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
    }

    func functions(_ d: [String: Any]) -> [[String: Any]] { d["functions"] as! [[String: Any]] }
    func median(_ xs: [Double]) -> Double {
        let s = xs.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    func doubles(_ v: Any?) -> [Double] { (v as! [NSNumber]).map(\.doubleValue) }

    /// The same code against itself, odd runs against even runs (each side has loaded runs):
    /// nothing above 1% of the total is called faster or slower, nor is the total.
    func testNullRunsCallNothingFasterOrSlower() throws {
        for ext in ["pyspy.txt", "prof"] {
            let d = try diff(files("before", [1, 3, 5, 7, 9], ext), files("before", [2, 4, 6, 8, 10], ext))
            let total = d["total"] as! [String: Any]
            XCTAssertFalse(["faster", "slower"].contains(total["verdict"] as! String), "\(ext): total \(total)")
            // 1% of the total, computed from the per-run totals the report of each file gives.
            let threshold = 0.01 * median(doubles((d["base"] as! [String: Any])["totals"]))
            var checked = 0
            for f in functions(d) where max(median(doubles(f["base"])), median(doubles(f["new"]))) > threshold {
                checked += 1
                XCTAssertFalse(["faster", "slower"].contains(f["verdict"] as! String), "\(ext): \(f["name"]!) \(f)")
            }
            XCTAssertGreaterThan(checked, 5, "\(ext): the null test looks at the functions that matter")
            for n in d["tree"] as! [[String: Any]] where max(median(doubles(n["base"])), median(doubles(n["new"]))) > threshold {
                XCTAssertFalse(["faster", "slower"].contains(n["verdict"] as! String), "\(ext): node \(n["path"]!)")
            }
        }
    }

    /// The fix: the blocklist function is faster and first; the untouched dedupe is never slower,
    /// in absolute values or in shares. The per-run values are each file's own report values.
    func testTheFixIsFasterAndFirstAndDedupeIsNotSlower() throws {
        for ext in ["pyspy.txt", "prof"] {
            let base = files("before", Array(1...10), ext), new = files("after", Array(1...4), ext)
            for mode in [[], ["--normalize"]] {
                let d = try diff(base, new, mode)
                let fns = functions(d)
                XCTAssertEqual(fns.first?["name"] as? String, "drop_blocked", "\(ext) \(mode): \(fns.prefix(2))")
                XCTAssertEqual(fns.first?["verdict"] as? String, "faster", "\(ext) \(mode)")
                let dedupe = try XCTUnwrap(fns.first { $0["name"] as? String == "dedupe" })
                XCTAssertNotEqual(dedupe["verdict"] as? String, "slower", "\(ext) \(mode): \(dedupe)")
                XCTAssertEqual(d["judged_on"] as? String, "absolute")
                XCTAssertEqual(d["mode"] as? String, mode.isEmpty ? "absolute" : "normalized")
            }
            // The JSON contract, and per-run values that match each file's own report.
            let d = try diff(base, new)
            for key in ["base", "new"] {
                let side = d[key] as! [String: Any]
                XCTAssertEqual((side["files"] as! [String]), key == "base" ? base : new)
                let totals = doubles(side["totals"])
                for (i, file) in (key == "base" ? base : new).enumerated() where i < 2 {
                    let r = try runPerftop(["report", file, "--json"])
                    let report = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
                    XCTAssertEqual(totals[i], (report["total"] as! NSNumber).doubleValue, accuracy: 1e-9, file)
                    let rf = (report["functions"] as! [[String: Any]]).first { $0["name"] as? String == "drop_blocked" }
                    let selfValue = (rf?["self"] as? NSNumber)?.doubleValue ?? 0
                    let row = functions(d).first { $0["name"] as? String == "drop_blocked" }!
                    XCTAssertEqual(doubles(row[key])[i], selfValue, accuracy: 1e-9, "\(file): drop_blocked self")
                }
            }
            XCTAssertNotNil((d["total"] as! [String: Any])["verdict"] as? String)
            XCTAssertNotNil((d["method"] as! [String: Any])["functions"] as? String)
            let row = functions(d)[0]
            for k in ["name", "file", "line", "base", "new", "delta", "verdict"] { XCTAssertNotNil(row[k], k) }
            XCTAssertEqual((row["delta"] as! NSNumber).doubleValue, median(doubles(row["new"])) - median(doubles(row["base"])), accuracy: 1e-9)
            XCTAssertFalse((d["tree"] as! [[String: Any]]).isEmpty)
        }
    }

    /// One run a side: sampled runs get sampling noise only, labelled; deterministic ones "measured once".
    func testSingleRunVerdictsAreLabelled() throws {
        let sampled = try runPerftop(["diff", Self.runs + "before/run1.pyspy.txt", Self.runs + "after/run1.pyspy.txt", "--text"])
        XCTAssertEqual(sampled.status, 0, sampled.err)
        XCTAssertTrue(sampled.out.contains("1 run a side: only sampling noise considered; repeat the runs to judge machine noise"), sampled.out)
        XCTAssertTrue(sampled.out.contains("binomial sampling noise only"), sampled.out)
        let once = try JSONSerialization.jsonObject(with: Data(try runPerftop(["diff", Self.runs + "before/run1.prof", Self.runs + "after/run1.prof", "--json"]).out.utf8)) as! [String: Any]
        XCTAssertEqual(Set(functions(once).map { $0["verdict"] as! String }), ["measured once"])
        XCTAssertEqual((once["total"] as! [String: Any])["verdict"] as? String, "measured once")
        XCTAssertEqual((once["method"] as! [String: Any])["functions"] as? String, "measured once")
    }

    func testBadInputIsOneLineAndExitTwo() throws {
        let a = Self.runs + "before/run1.pyspy.txt"
        for (args, start) in [(["diff", a, "--vs"], "perftop: diff: --vs: no new runs"),
                              (["diff", "--vs", a], "perftop: diff: --vs: no base runs"),
                              (["diff", a, "--vs", "SampleProfiles/runs/nonexistent.prof"], "perftop: SampleProfiles/runs/nonexistent.prof"),
                              (["diff", a, "--vs", "Tests/Golden/memray-csv/etl.memray.csv"], "perftop: Tests/Golden/memray-csv/etl.memray.csv: its metric"),
                              (["diff", a], "perftop: diff: give BASE NEW")] {
            let r = try runPerftop(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.err)")
            XCTAssertTrue(r.err.hasPrefix(start), "\(args): \(r.err)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, "\(args): \(r.err)")
            XCTAssertEqual(r.out, "")
        }
    }

    /// Names with markdown's own characters stay inside their table cell; terminal escapes never pass.
    func testMarkdownEscapesNamesFromFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-md-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths: ([String], [String]) = ([], [])
        for (i, n) in [400, 410, 390, 405].enumerated() {
            let p = dir.appendingPathComponent("b\(i).txt").path
            try "main;a|b `x` <i>\u{1b}[31m \(n)\nmain;rest 100\n".write(toFile: p, atomically: true, encoding: .utf8)
            paths.0.append(p)
        }
        for (i, n) in [10, 12, 9].enumerated() {
            let p = dir.appendingPathComponent("n\(i).txt").path
            try "main;a|b `x` <i>\u{1b}[31m \(n)\nmain;rest 101\n".write(toFile: p, atomically: true, encoding: .utf8)
            paths.1.append(p)
        }
        let r = try runPerftop(["diff"] + paths.0 + ["--vs"] + paths.1 + ["--markdown"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertFalse(r.out.contains("\u{1b}"), r.out)
        let row = try XCTUnwrap(r.out.split(separator: "\n").first { $0.hasPrefix("| faster") }, r.out)
        // Unescaped pipes delimit the 7 cells.
        var cells = 0, prev: Character = " "
        for c in row { if c == "|" && prev != "\\" { cells += 1 }; prev = c }
        XCTAssertEqual(cells, 8, String(row))
        XCTAssertTrue(row.contains("a\\|b \\`x\\` &lt;i&gt;"), String(row))
    }

    /// The three printed forms on the real runs, compared with Tests/TUITests/Snapshots
    /// (PERFTOP_RECORD=1 rewrites them).
    func testTextAndMarkdownSnapshots() throws {
        let base = files("before", Array(1...10), "pyspy.txt"), new = files("after", Array(1...4), "pyspy.txt")
        for (name, extra) in [("diff-runs-pyspy.txt", ["--text"]), ("diff-runs-pyspy.md", ["--markdown"]),
                              ("diff-runs-prof.md", ["--markdown"])] {
            let ext = name.contains("prof") ? "prof" : "pyspy.txt"
            let r = try runPerftop(["diff"] + files("before", Array(1...10), ext) + ["--vs"] + files("after", Array(1...4), ext) + extra)
            XCTAssertEqual(r.status, 0, r.err)
            try snapshot(r.out, name)
        }
        _ = (base, new)
    }

    func snapshot(_ text: String, _ name: String) throws {
        let url = CLITests.repoRoot.appendingPathComponent("Tests/TUITests/Snapshots").appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["PERFTOP_RECORD"] == "1" || !FileManager.default.fileExists(atPath: url.path) {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let want = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(text, want, "\(name) differs; PERFTOP_RECORD=1 re-records it")
    }
}
