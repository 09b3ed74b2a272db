import Foundation
import XCTest

/// Files that are not profiles but that users open anyway, made by the real tools
/// (Tests/Refusals/README.md): one line naming the tool and the option to use, exit status 2,
/// and no "standard output is not a terminal" line before it.
final class RefusalCLITests: XCTestCase {
    func testKnownNonProfilesNameTheToolAndTheFlag() throws {
        let cases: [(String, [String])] = [
            ("pyspy.svg", ["SVG flame graph", "py-spy record -f raw", "-f speedscope"]),
            ("pyinst.txt", ["pyinstrument's text output", "pyinstrument -r json"]),
            ("pyinst-cut.html", ["pyinstrument's HTML report", "pyinstrument -r json"]),
            ("pyspy-dump.txt", ["'py-spy dump' output", "py-spy record -f raw"]),
            ("perf-cut.data", ["perf.data", "perf script -i FILE"]),
        ]
        for (file, needles) in cases {
            let path = "Tests/Refusals/" + file
            for args in [[path], ["report", path], ["report", path, "--summary"]] {
                let r = try runPerftop(args)
                XCTAssertEqual(r.status, 2, "\(args): \(r.err)")
                XCTAssertEqual(r.out, "", "\(args)")
                XCTAssertEqual(r.err.split(separator: "\n").count, 1, "\(args): \(r.err)")
                XCTAssertTrue(r.err.hasPrefix("perftop: \(path): "), r.err)
                XCTAssertFalse(r.err.contains("not a terminal"), r.err)
                for n in needles { XCTAssertTrue(r.err.contains(n), "\(args): \(r.err) lacks \(n)") }
            }
        }
    }

    /// Content decides, never the name: Tachyon's binary as .json, its JSONL as .txt, an import
    /// log as .prof, and a refusal under a profile's name, on the files committed in the repo.
    func testMisleadingNamesDoNotChangeTheFormat() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-names-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, String, String)] = [
            ("Tests/Golden/tachyon/etl-raw.tachyon.bin", "x.json", "tachyon"),
            ("Tests/Golden/tachyon/etl-zstd.tachyon.zst.bin", "x.txt", "tachyon"),
            ("Tests/Golden/tachyon-jsonl/etl.tachyon.jsonl", "x.txt", "tachyon-jsonl"),
            ("Tests/Golden/tachyon-jsonl/etl.tachyon.jsonl", "x.bin", "tachyon-jsonl"),
            ("Tests/Golden/importtime/stdlib-mix.py3.12.1.txt", "x.prof", "importtime"),
            ("Tests/Golden/importtime/env-var.py3.13.0.txt", "x.json", "importtime"),
            ("Tests/Golden/memray-csv/etl.memray.csv", "x.prof", "memray-csv"),
            ("Tests/Golden/gprof2dot/etl.memray.gprof2dot.json", "x.speedscope.json", "gprof2dot"),
        ]
        for (src, name, format) in cases {
            let own = try runPerftop(["report", src, "--json"])
            XCTAssertEqual(own.status, 0, own.err)
            let copy = dir.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: copy)
            try FileManager.default.copyItem(at: CLITests.repoRoot.appendingPathComponent(src), to: copy)
            let r = try runPerftop(["report", copy.path, "--json"])
            XCTAssertEqual(r.status, 0, "\(src) as \(name): \(r.err)")
            let a = try JSONSerialization.jsonObject(with: Data(own.out.utf8)) as! [String: Any]
            let b = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
            XCTAssertEqual(b["format"] as? String, format, "\(src) as \(name)")
            XCTAssertEqual(a["format"] as? String, format, src)
            XCTAssertEqual(a["total"] as? Double, b["total"] as? Double, "\(src) as \(name)")
        }
        let svg = dir.appendingPathComponent("profile.speedscope.json")
        try FileManager.default.copyItem(at: CLITests.repoRoot.appendingPathComponent("Tests/Refusals/pyspy.svg"), to: svg)
        let r = try runPerftop(["report", svg.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.contains("SVG flame graph"), r.err)
    }
}
