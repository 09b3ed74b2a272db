import Foundation
import XCTest

/// `perftop report --summary` on real profiles of an I/O-bound, a lock-bound and a CPU-bound
/// program (SampleProfiles/workload, recorded with py-spy --idle): the dominant class comes first.
final class TriageCLITests: XCTestCase {
    func summary(_ file: String) throws -> [String: Any] {
        let r = try runPerftop(["report", "SampleProfiles/" + file, "--summary", "--json", "--source-root", "SampleProfiles/workload"])
        XCTAssertEqual(r.status, 0, r.err)
        return try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
    }

    func testDominantClassComesFirst() throws {
        for (file, kind) in [("io_bound.pyspy.txt", "idle"), ("lock_bound.pyspy.txt", "lock"), ("etl.pyspy.txt", "python")] {
            let s = try summary(file)
            let classes = s["classes"] as! [[String: Any]]
            XCTAssertEqual(classes.first?["kind"] as? String, kind, "\(file): \(classes.map { $0["kind"]! })")
            let shares = classes.map { ($0["share"] as! NSNumber).doubleValue }
            XCTAssertEqual(shares.reduce(0, +), 1, accuracy: 1e-9, file)
            XCTAssertEqual(shares, shares.sorted(by: >), file)
        }
    }

    func testLookHereNamesTheHotLineAndTheMembershipTest() throws {
        let look = (try summary("etl.pyspy.txt")["look_here"] as! [[String: Any]]).first!
        XCTAssertEqual(look["name"] as? String, "dedupe")
        XCTAssertEqual((look["source"] as? String)?.trimmingCharacters(in: .whitespaces), "if key in seen:")
        XCTAssertTrue((look["hint"] as? String ?? "").contains("membership test"), "\(look)")
        // pstats records where a function starts, not where its time went: no line share, no hint.
        let p = (try summary("etl.prof")["look_here"] as! [[String: Any]]).first!
        XCTAssertEqual(p["name"] as? String, "dedupe")
        XCTAssertEqual((p["line_share"] as? NSNumber)?.doubleValue, 0)
        XCTAssertTrue(p["hint"] is NSNull)
    }

    /// --path-map reads sources recorded on another machine (here: under /srv/app/) from the repository.
    func testPathMapFindsSourcesRecordedElsewhere() throws {
        let text = try String(contentsOf: CLITests.repoRoot.appendingPathComponent("SampleProfiles/etl.austin"), encoding: .utf8)
            .replacingOccurrences(of: "workload/", with: "/srv/app/")
        let moved = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-moved-\(getpid()).austin")
        try text.write(to: moved, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: moved) }
        func look(_ extra: [String]) throws -> [String: Any] {
            let r = try runPerftop(["report", moved.path, "--summary", "--json"] + extra)
            XCTAssertEqual(r.status, 0, r.err)
            let j = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
            return (j["look_here"] as! [[String: Any]]).first!
        }
        XCTAssertTrue(try look([])["source"] is NSNull, "the recorded path does not exist here")
        let found = try look(["--path-map", "/srv/app/=SampleProfiles/workload/"])
        XCTAssertEqual((found["source"] as? String)?.trimmingCharacters(in: .whitespaces), "if key in seen:")
    }

    static var tempDir: URL { FileManager.default.temporaryDirectory.appendingPathComponent("perftop-rules-\(getpid())") }

    override class func tearDown() { try? FileManager.default.removeItem(at: tempDir) }

    func writeTemp(_ name: String, _ text: String) throws -> String {
        let dir = Self.tempDir
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A user rule alone (replace = true): every sample with dedupe on its stack goes to the
    /// user's class, so its weight is dedupe's total in the report.
    func testRulesFileReplacesTheTable() throws {
        let rules = try writeTemp("rules.toml", """
            # only my own class
            [triage]
            replace = true   # no built-in rules

            [[triage.rule]]
            class = "dedup"
            title = "de-duplication"
            pattern = '^dedupe\t'
            """)
        let r = try runPerftop(["report", "SampleProfiles/etl.pyspy.txt", "--summary", "--json", "--rules", rules])
        XCTAssertEqual(r.status, 0, r.err)
        let s = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        let classes = s["classes"] as! [[String: Any]]
        let report = try JSONSerialization.jsonObject(with: Data(try runPerftop(["report", "SampleProfiles/etl.pyspy.txt", "--json"]).out.utf8)) as! [String: Any]
        let dedupe = (report["functions"] as! [[String: Any]]).first { $0["name"] as? String == "dedupe" }!
        XCTAssertEqual(classes.first?["kind"] as? String, "dedup")
        XCTAssertEqual(classes.first?["title"] as? String, "de-duplication")
        XCTAssertEqual((classes.first?["weight"] as! NSNumber).doubleValue, (dedupe["total"] as! NSNumber).doubleValue)
        XCTAssertFalse(classes.contains { $0["kind"] as? String == "serialization" }, "the built-in rules are gone: \(classes)")
    }

    /// The config file under $XDG_CONFIG_HOME is read by default; a rule naming a built-in
    /// class adds to it (one class, the built-in title), ahead of the built-in rules.
    func testConfigFileExtendsABuiltInClass() throws {
        let config = try writeTemp("xdg/perftop/config.toml", """
            [[triage.rule]]
            class = "lock"
            pattern = "^dedupe\\t"
            """)
        let xdg = ((config as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        let r = try runPerftop(["report", "SampleProfiles/etl.pyspy.txt", "--summary", "--json"], environment: ["XDG_CONFIG_HOME": xdg])
        XCTAssertEqual(r.status, 0, r.err)
        let classes = (try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any])["classes"] as! [[String: Any]]
        XCTAssertEqual(classes.filter { $0["kind"] as? String == "lock" }.count, 1)
        XCTAssertEqual(classes.first?["kind"] as? String, "lock", "\(classes)")
        XCTAssertEqual(classes.first?["title"] as? String, "lock waits")
        XCTAssertTrue(classes.contains { $0["kind"] as? String == "serialization" }, "built-in rules still apply")
        // The viewer's summary reads the same file.
        let v = try runPerftop(["SampleProfiles/etl.pyspy.txt", "--batch", "--summary"], environment: ["XDG_CONFIG_HOME": xdg])
        XCTAssertTrue(v.out.contains("lock waits"), v.out)
    }

    /// A bad rules file is a one-line error at its line, exit 2.
    func testBadRulesAreLocated() throws {
        let cases: [(String, String)] = [
            ("[[triage.rule]]\nclass = \"x\"\npattern = \"(unclosed\"\n", ":3: not a regular expression"),
            ("[[triage.rule]]\nclass = \"x\"\ncolour = \"red\"\n", ":3: unknown key 'colour'"),
            ("[[triage.rule]]\nclass = \"x\"\n", ":1: a [[triage.rule]] needs pattern"),
            ("[display]\n", ":1: unknown table [display]"),
            ("[triage]\nreplace = yes\n", ":2: replace must be true or false"),
            ("[[triage.rule]]\nclass = x\n", ":2: expected a string"),
        ]
        for (i, (text, expect)) in cases.enumerated() {
            let path = try writeTemp("bad\(i).toml", text)
            let r = try runPerftop(["report", "SampleProfiles/etl.pyspy.txt", "--summary", "--rules", path])
            XCTAssertEqual(r.status, 2, text)
            XCTAssertTrue(r.err.hasPrefix("perftop: \(path)\(expect)"), "\(text) -> \(r.err)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        }
        let missing = try runPerftop(["SampleProfiles/etl.pyspy.txt", "--batch", "--rules", "/nonexistent/rules.toml"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.hasPrefix("perftop: /nonexistent/rules.toml: no such rules file"), missing.err)
    }

    /// austin full mode says per sample whether the thread was idle. With no rule that could
    /// match (a rules file with one rule for a name that does not occur), the idle class is
    /// exactly the time of the samples flagged idle, summed here from the file's own lines.
    func testAustinIdleFlagIsIdleTime() throws {
        let text = try String(contentsOfFile: CLITests.repoRoot.appendingPathComponent("SampleProfiles/io_bound.austin").path, encoding: .utf8)
        var idleMicros = 0.0, allMicros = 0.0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let last = line.split(separator: " ").last else { continue }
            let v = last.split(separator: ",")
            guard v.count == 3, let t = Double(v[0]) else { continue }
            allMicros += t
            if v[1] == "1" { idleMicros += t }
        }
        XCTAssertGreaterThan(idleMicros, 0.5 * allMicros, "the I/O-bound run is mostly idle")
        let rules = try writeTemp("none.toml", "[triage]\nreplace = true\n[[triage.rule]]\nclass = \"x\"\npattern = \"^no such function$\"\n")
        let r = try runPerftop(["report", "SampleProfiles/io_bound.austin", "--summary", "--json", "--rules", rules])
        XCTAssertEqual(r.status, 0, r.err)
        let s = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        let classes = s["classes"] as! [[String: Any]]
        XCTAssertEqual(s["unit"] as? String, "microseconds")
        XCTAssertEqual(classes.first?["kind"] as? String, "idle")
        XCTAssertEqual((classes.first?["weight"] as! NSNumber).doubleValue, idleMicros, accuracy: 0.5)
        XCTAssertEqual((s["total"] as! NSNumber).doubleValue, allMicros, accuracy: 0.5)
        // With the built-in rules the dominant class is still idle.
        let b = try runPerftop(["report", "SampleProfiles/io_bound.austin", "--summary", "--json"])
        let bc = (try JSONSerialization.jsonObject(with: Data(b.out.utf8)) as! [String: Any])["classes"] as! [[String: Any]]
        XCTAssertEqual(bc.first?["kind"] as? String, "idle")
    }
}
