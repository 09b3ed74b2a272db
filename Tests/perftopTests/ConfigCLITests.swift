import Foundation
import XCTest

/// `$XDG_CONFIG_HOME/perftop/config.toml`: the [viewer] settings next to the triage rules.
final class ConfigCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-config-\(getpid())-\(name.hashValue)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("perftop"), withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func withConfig(_ text: String, _ args: [String]) throws -> CLITests.Run {
        try text.write(to: dir.appendingPathComponent("perftop/config.toml"), atomically: true, encoding: .utf8)
        return try runPerftop(args, environment: ["XDG_CONFIG_HOME": dir.path])
    }

    var path: String { dir.appendingPathComponent("perftop/config.toml").path }

    func testUnknownKeyIsLocatedAndExitsTwo() throws {
        let r = try withConfig("# settings\n[viewer]\ncolour = \"light\"\n", ["view", "SampleProfiles/etl.pyspy.txt", "--batch"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.hasPrefix("perftop: \(path):3: unknown key 'colour'"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertEqual(r.out, "")
        // A bad value and an unknown table are located too.
        let v = try withConfig("[viewer]\nview = \"flames\"\n", ["view", "SampleProfiles/etl.pyspy.txt", "--batch"])
        XCTAssertEqual(v.status, 2)
        XCTAssertTrue(v.err.hasPrefix("perftop: \(path):2: view must be"), v.err)
        let m = try withConfig("[viewer]\nmouse = \"no\"\n", ["view", "SampleProfiles/etl.pyspy.txt", "--batch"])
        XCTAssertTrue(m.err.hasPrefix("perftop: \(path):2: mouse must be true or false"), m.err)
        let t = try withConfig("[viewr]\nview = \"tree\"\n", ["report", "SampleProfiles/etl.pyspy.txt", "--summary"])
        XCTAssertEqual(t.status, 2)
        XCTAssertTrue(t.err.hasPrefix("perftop: \(path):1: unknown table"), t.err)
    }

    /// `view` and `sort` set what the viewer opens on; the command line still wins.
    func testDefaultViewAndSort() throws {
        let file = "SampleProfiles/etl.pyspy.txt"
        let asked = try runPerftop(["view", file, "--batch", "--view", "functions", "--keys", "s"])
        let configured = try withConfig("[viewer]\nview = \"functions\"\nsort = \"self\"\n", ["view", file, "--batch"])
        XCTAssertEqual(configured.status, 0, configured.err)
        // `s` from the default (total) sorts by the next column, self: the same screen.
        XCTAssertEqual(configured.out, asked.out)
        // The first row is the function with the most self time, as the report says.
        let top = try runPerftop(["report", file, "--sort", "self", "--limit", "1", "--json"])
        let j = try JSONSerialization.jsonObject(with: Data(top.out.utf8)) as! [String: Any]
        let name = (j["functions"] as! [[String: Any]])[0]["name"] as! String
        let firstRow = configured.out.split(separator: "\n")[2]
        XCTAssertTrue(firstRow.contains(name), "\(firstRow) vs \(name)")
        let flag = try withConfig("[viewer]\nview = \"functions\"\n", ["view", file, "--batch", "--view", "flame"])
        XCTAssertTrue(flag.out.contains("Flame graph"), flag.out)
    }

    /// `paths = "full"` is `--full-paths`: the viewer and the report print the same as with the flag.
    func testPathsFullIsTheFlag() throws {
        let file = "SampleProfiles/etl.prof"
        for cmd in [["view", file, "--batch", "--view", "functions", "--size", "160x40"], ["report", file, "--limit", "30"]] {
            let flagged = try runPerftop(cmd + ["--full-paths"])
            let short = try runPerftop(cmd)
            let configured = try withConfig("[viewer]\npaths = \"full\"\n", cmd)
            XCTAssertEqual(configured.status, 0, configured.err)
            XCTAssertEqual(configured.out, flagged.out)
            // The flag changes something on this file (the stdlib rows), so the check can fail.
            XCTAssertNotEqual(short.out, flagged.out, cmd.joined(separator: " "))
        }
    }

    /// The settings and the triage rules share the file: the rules still apply.
    func testSettingsAndTriageRulesInOneFile() throws {
        let text = """
        [viewer]
        theme = "light"   # a light terminal
        mouse = false
        paths = "full"
        editor = 'code --wait -g'

        [[triage.rule]]
        class = "dedupe-work"
        title = "the dedupe loop"
        pattern = '^dedupe\\t'
        """
        let r = try withConfig(text, ["report", "SampleProfiles/etl.pyspy.txt", "--summary"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("the dedupe loop"), r.out)
        let v = try withConfig(text, ["view", "SampleProfiles/etl.pyspy.txt", "--batch"])
        XCTAssertEqual(v.status, 0, v.err)
    }
}
