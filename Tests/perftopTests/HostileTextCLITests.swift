import Foundation
import XCTest

/// Strings from a file never reach the terminal raw, whatever field they sit in (frame names,
/// files, metric names and units, thread and process names, event names, profile names) and
/// whatever prints them: report text, tree, --json, --summary, diff, the viewer's screens.
/// The forbidden set is written out here, independently of the code's own escape function.
final class HostileTextCLITests: XCTestCase {
    /// Window title, clipboard write (OSC 52), clear screen, 8-bit CSI, bidi override and
    /// isolate, zero-width space and joiner, BOM, line separator, DEL, invisible tag letter.
    static let hostile = "\u{1B}]0;pwned\u{07}\u{1B}]52;c;cHduZWQ=\u{07}\u{1B}[2J\u{9B}1m\u{202E}\u{2067}\u{200B}\u{200D}\u{FEFF}\u{2028}\u{7F}\u{E0041}"
    /// The same with tab, CR and NUL too, for formats whose strings can hold them (JSON).
    static let hostileJSON = hostile + "\t\r\u{0}x"

    /// Every violation in `data`: a C0 byte other than newline, DEL, invalid UTF-8, or a C1,
    /// bidi, zero-width, separator or tag code point.
    static func violations(_ data: Data) -> [String] {
        var bad: [String] = []
        for b in data where (b < 0x20 && b != 0x0A) || b == 0x7F { bad.append(String(format: "byte 0x%02x", b)) }
        guard let text = String(data: data, encoding: .utf8) else { return bad + ["invalid UTF-8"] }
        for u in text.unicodeScalars {
            let v = u.value
            let forbidden = (0x80...0x9F).contains(v) || v == 0x061C || (0x200B...0x200F).contains(v)
                || (0x2028...0x202E).contains(v) || (0x2060...0x206F).contains(v) || v == 0xFEFF
                || (0xE0000...0xE007F).contains(v)
            if forbidden { bad.append(String(format: "U+%04X", v)) }
        }
        return bad
    }

    struct Output { var status: Int32; var out: Data; var err: Data }

    func run(_ args: [String]) throws -> Output {
        let p = Process()
        p.executableURL = CLITests.binary
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()   // stderr is one line at most
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, out: o, err: e)
    }

    /// One file per reader family, each with the hostile text in every string field it has.
    func writeInputs(_ dir: URL) throws -> [String: URL] {
        let h = Self.hostile
        var files: [String: URL] = [:]
        func put(_ name: String, _ text: String) throws {
            let url = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            files[name] = url
        }
        try put("e.cg", "# callgrind format\nevents: \(h)Ir \(h)\ncmd: \(h)\nfl=/src/\(h).c\nfn=main\(h)\n1 5 2\ncfn=leaf\(h)\ncalls=1 2\n3 4 1\nfn=leaf\(h)\n2 4 1\n")
        try put("e.folded", "main;\(h)work;app/\(h).py:fn\(h):12 5\nmain;ok 3\n")
        try put("e.austin", "# austin: 3.7.0\n# mode: wall\n\nP1;T0:\(h);/app/\(h).py:main\(h):3;/app/x.py:leaf\(h):9 100\nP1;T0:1;/app/x.py:main:3 50\n")
        try put("e.perf", "py\(h) 1234/1234 [001] 100.000001:     250000 cpu-clock\(h):u: \n\t    7f01 leaf\(h)+0x1 (/usr/lib/\(h).so)\n\t    7f00 main (/usr/bin/python3)\n\n")
        let j = Self.hostileJSON
        let speedscope: [String: Any] = [
            "$schema": "https://www.speedscope.app/file-format-schema.json",
            "name": j,
            "shared": ["frames": [["name": "main" + j, "file": "/src/" + j + ".py", "line": 3], ["name": "leaf" + j]]],
            "profiles": [["type": "sampled", "name": j, "unit": j, "startValue": 0, "endValue": 8,
                          "samples": [[0, 1], [0]], "weights": [5, 3]]],
        ]
        let url = dir.appendingPathComponent("e.speedscope.json")
        try JSONSerialization.data(withJSONObject: speedscope).write(to: url)
        files["e.speedscope.json"] = url
        return files
    }

    func testNoStringFromAFileReachesTheTerminalRaw() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-hostile-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try writeInputs(dir)
        var runs: [[String]] = []
        for (_, url) in files.sorted(by: { $0.key < $1.key }) {
            let f = url.path
            runs += [["report", f], ["report", f, "--tree", "--min-percent", "0"], ["report", f, "--json"],
                     ["report", f, "--summary"], ["report", f, "--summary", "--json"], ["report", f, "--format", "speedscope"]]
            for keys in ["", "1", "2", "3", "4", "5", "0", "?", "1/pwn<Enter>", "2<End>", "2x", "2f"] {
                runs.append([f, "--batch", "--size", "160x40", "--keys", keys])
            }
            // Error messages list the file's metric names.
            runs += [["convert", f, "--to", "collapsed", "--metric", "nope"], ["report", f, "--metric", "nope"],
                     ["convert", f, "--to", "collapsed", "-o", dir.appendingPathComponent("out").path]]
        }
        let folded = files["e.folded"]!.path, speedscope = files["e.speedscope.json"]!.path, cg = files["e.cg"]!.path
        runs += [["diff", folded, speedscope], ["diff", folded, speedscope, "--json"], ["diff", cg, cg, "--text"],
                 ["diff", folded, speedscope, "--batch", "--keys", "1"], ["diff", speedscope, folded, "--batch", "--keys", "2"]]
        var shown: Set<String> = []
        for args in runs {
            let r = try run(args)
            let what = args.map { $0.hasPrefix(dir.path) ? ($0 as NSString).lastPathComponent : $0 }.joined(separator: " ")
            XCTAssertTrue(r.status == 0 || r.status == 2, "\(what): exit \(r.status)")
            XCTAssertEqual(Self.violations(r.out), [], "\(what): stdout")
            XCTAssertEqual(Self.violations(r.err), [], "\(what): stderr")
            if args.count == 2 && args[0] == "report" && String(decoding: r.out, as: UTF8.self).contains("\\x1b]") {
                shown.insert(args[1])
            }
        }
        XCTAssertEqual(shown, Set(files.values.map(\.path)), "each report shows the hostile names escaped, not dropped")
    }

    /// JSON output escapes the same characters as `\u` sequences: it stays safe to `cat` and
    /// still decodes to the strings the file holds.
    func testJSONKeepsTheStringsExactly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-hostile-json-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = try writeInputs(dir)["e.speedscope.json"]!.path
        let r = try run(["report", f, "--json"])
        XCTAssertEqual(r.status, 0, String(decoding: r.err, as: UTF8.self))
        XCTAssertEqual(Self.violations(r.out), [])
        let j = try XCTUnwrap(JSONSerialization.jsonObject(with: r.out) as? [String: Any])
        let names = Set((j["functions"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
        XCTAssertEqual(names, ["main" + Self.hostileJSON, "leaf" + Self.hostileJSON])
        XCTAssertEqual(j["unit"] as? String, Self.hostileJSON)
    }

    /// A report names the metric and its unit; both come from the file (callgrind `events:`).
    func testCallgrindEventNamesAreEscapedInTheReport() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-hostile-cg-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("e.cg")
        try Data("# callgrind format\nevents: \u{1B}]0;pwned\u{07}\nfn=main\n1 5\n".utf8).write(to: url)
        let r = try run(["report", url.path])
        XCTAssertEqual(r.status, 0, String(decoding: r.err, as: UTF8.self))
        XCTAssertEqual(Self.violations(r.out), [])
        XCTAssertTrue(String(decoding: r.out, as: UTF8.self).contains("Metric: \\x1b]0;pwned\\x07"),
                      String(decoding: r.out, as: UTF8.self))
    }
}
