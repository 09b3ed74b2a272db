import Foundation
import XCTest

/// The transform options of report, convert and diff, on the real recursive py-spy recording
/// (Tests/Recursive/walk.pyspy.txt), checked against the raw stacks parsed here.
final class TransformCLITests: XCTestCase {
    static let walk = "Tests/Recursive/walk.pyspy.txt"

    /// Raw stacks as function keys (`name (file)`, no line), thread roots left out (as
    /// `--threads merged` does), and their counts.
    func rawStacks() throws -> [([String], Double)] {
        let text = try String(contentsOf: CLITests.repoRoot.appendingPathComponent(Self.walk), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard let sp = line.lastIndex(of: " "), let n = Double(line[line.index(after: sp)...]) else { return nil }
            let frames = line[..<sp].split(separator: ";").map(String.init).filter { !$0.hasPrefix("thread (") }
            return (frames.map(key), n)
        }
    }

    func key(_ raw: String) -> String {
        guard raw.hasSuffix(")"), let colon = raw.lastIndex(of: ":"),
              raw[raw.index(after: colon)..<raw.index(before: raw.endIndex)].allSatisfy(\.isNumber) else { return raw }
        return String(raw[..<colon]) + ")"
    }

    func tally(_ s: [([String], Double)]) -> [String: Double] {
        var out: [String: Double] = [:]
        for (f, n) in s where !f.isEmpty { out[f.joined(separator: ";"), default: 0] += n }
        return out
    }

    /// `convert --to collapsed` output, as function-key stacks.
    func converted(_ extra: [String]) throws -> [String: Double] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-tcli-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.folded").path
        let r = try runPerftop(["convert", Self.walk, "--to", "collapsed", "-o", out] + extra)
        XCTAssertEqual(r.status, 0, r.err)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        return tally(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            guard let sp = line.lastIndex(of: " "), let n = Double(line[line.index(after: sp)...]) else { return nil }
            return (line[..<sp].split(separator: ";").map { key(String($0)) }, n)
        })
    }

    func testConvertCollapseRecursionMatchesTheRawStacks() throws {
        let raw = try rawStacks()
        let direct = tally(raw.map { s, n in
            var out: [String] = []
            for k in s where out.last != k { out.append(k) }
            return (out, n)
        })
        XCTAssertEqual(try converted(["--collapse-direct-recursion"]), direct)
        let indirect = tally(raw.map { s, n in
            var out: [String] = []
            for k in s { if let at = out.firstIndex(of: k) { out.removeSubrange((at + 1)...) } else { out.append(k) } }
            return (out, n)
        })
        XCTAssertEqual(try converted(["--collapse-recursion"]), indirect)
        let dropped = tally(raw.filter { s, _ in !s.contains { $0.hasPrefix("visit (") } })
        XCTAssertEqual(try converted(["--drop", "^visit$"]), dropped)
    }

    func testReportTotalsAndCommandLineOrder() throws {
        let raw = try rawStacks()
        let all = raw.map(\.1).reduce(0, +)
        func total(_ args: [String]) throws -> Double {
            let r = try runPerftop(["report", Self.walk, "--json"] + args)
            XCTAssertEqual(r.status, 0, r.err)
            let j = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
            return (j["total"] as! NSNumber).doubleValue
        }
        XCTAssertEqual(try total(["--collapse-recursion"]), all)
        XCTAssertEqual(try total(["--collapse", "stdlib", "--collapse", "^walk$"]), all)
        XCTAssertEqual(try total(["--drop", "deepcopy"]),
                       raw.filter { !$0.0.contains { $0.hasPrefix("deepcopy (") } }.map(\.1).reduce(0, +))
        // In order: the collapsed frame exists only after --collapse, so focusing on it works
        // after and fails before.
        let copy = raw.filter { $0.0.contains { $0.contains("/lib/python3.11/copy.py") } }.map(\.1).reduce(0, +)
        XCTAssertEqual(try total(["--collapse", "stdlib", "--focus", "<stdlib copy>"]), copy)
        let before = try runPerftop(["report", Self.walk, "--focus", "<stdlib copy>", "--collapse", "stdlib"])
        XCTAssertEqual(before.status, 2)
        XCTAssertTrue(before.err.contains("matches no function"), before.err)
        // A subtree from the root, by function names.
        let path = ["Thread._bootstrap", "Thread._bootstrap_inner", "Thread.run", "walker"]
        let under = raw.filter { s, _ in s.count >= 4 && s.prefix(4).map { $0.prefix { $0 != " " } } == path.map { Substring($0) } }
        XCTAssertEqual(try total(["--focus-subtree", path.joined(separator: ";")]), under.map(\.1).reduce(0, +))
    }

    func testReportShowsShortPathsUnlessFullPaths() throws {
        let short = try runPerftop(["report", Self.walk, "--limit", "60"])
        XCTAssertEqual(short.status, 0, short.err)
        XCTAssertTrue(short.out.contains("JSONEncoder.encode  json/encoder.py:"), short.out)
        XCTAssertTrue(short.out.contains("walk  walk.py:"), short.out)
        XCTAssertFalse(short.out.contains("/lib/python3.11/"), short.out)
        let full = try runPerftop(["report", Self.walk, "--limit", "60", "--full-paths"])
        XCTAssertTrue(full.out.contains("/lib/python3.11/json/encoder.py:"), full.out)
        let json = try runPerftop(["report", Self.walk, "--json"])
        XCTAssertTrue(json.out.contains("/lib/python3.11/json/encoder.py"), "JSON keeps full paths")
    }

    func testBadTransformArgumentsExitTwoWithOneLine() throws {
        for args in [["--collapse", "("], ["--drop", "[x"], ["--focus-subtree", "nothing;here"]] {
            let r = try runPerftop(["report", Self.walk] + args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.err)")
            XCTAssertTrue(r.err.hasPrefix("perftop: \(Self.walk): "), r.err)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        }
    }

    func testDiffTakesTheTransforms() throws {
        let r = try runPerftop(["diff", Self.walk, Self.walk, "--json", "--collapse-recursion", "--drop", "sleeper"])
        XCTAssertEqual(r.status, 0, r.err)
        let j = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        let names = (j["functions"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        XCTAssertTrue(names.contains("walk"))
        XCTAssertFalse(names.contains("sleeper"))
    }
}
