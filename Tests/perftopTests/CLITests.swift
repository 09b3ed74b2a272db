import Foundation
import XCTest

/// Runs the built `perftop` binary the way a user does.
final class CLITests: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        // The test bundle sits next to the products it was built with.
        var dir = Bundle(for: CLITests.self).bundleURL
        if dir.pathExtension == "xctest" { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("perftop")
    }

    struct Run { var status: Int32; var out: String; var err: String }

    func perftop(_ args: [String], stdin: Data? = nil) throws -> Run { try runPerftop(args, stdin: stdin) }

    func testReportJSONContract() throws {
        let r = try perftop(["report", "SampleProfiles/etl.prof", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let j = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        XCTAssertEqual(j["format"] as? String, "pstats")
        XCTAssertEqual(j["estimated_tree"] as? Bool, true)
        let fns = j["functions"] as! [[String: Any]]
        XCTAssertGreaterThan(fns.count, 20)
        // Sorted by total, descending, and the hot spot of the workload is in the table.
        let totals = fns.map { ($0["total"] as! NSNumber).doubleValue }
        XCTAssertEqual(totals, totals.sorted(by: >))
        XCTAssertTrue(fns.contains { $0["name"] as? String == "dedupe" })
        XCTAssertFalse((j["hot_path"] as! [Any]).isEmpty)
    }

    func testDefaultCommandAndSortBySelf() throws {
        let r = try perftop(["SampleProfiles/etl.pyspy.txt"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("Hot path"))
        let s = try perftop(["report", "SampleProfiles/etl.pyspy.txt.gz", "--sort", "self", "--limit", "1", "--json"])
        let j = try JSONSerialization.jsonObject(with: Data(s.out.utf8)) as! [String: Any]
        let top = (j["functions"] as! [[String: Any]])[0]
        XCTAssertEqual(top["name"] as? String, "dedupe", "the workload's list-membership hot spot")
    }

    func testStdinIsAFile() throws {
        let data = try Data(contentsOf: Self.repoRoot.appendingPathComponent("SampleProfiles/etl.pyspy.txt"))
        let a = try perftop(["report", "-", "--json"], stdin: data)
        let b = try perftop(["report", "SampleProfiles/etl.pyspy.txt", "--json"])
        XCTAssertEqual(a.status, 0, a.err)
        XCTAssertEqual(a.out.replacingOccurrences(of: "\"file\":\"-\"", with: ""),
                       b.out.replacingOccurrences(of: "\"file\":\"SampleProfiles/etl.pyspy.txt\"", with: ""))
    }

    func testBadInputExitsTwoWithOneLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-cli-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.prof")
        let good = try Data(contentsOf: Self.repoRoot.appendingPathComponent("SampleProfiles/etl.prof"))
        try good.prefix(good.count / 2).write(to: bad)
        let empty = dir.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        for path in [bad.path, empty.path, dir.path, "/nonexistent/x.prof"] {
            let r = try perftop(["report", path])
            XCTAssertEqual(r.status, 2, "\(path): \(r.err)")
            XCTAssertTrue(r.err.hasPrefix("perftop: \(path)"), r.err)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        }
        let r = try perftop(["report", bad.path])
        XCTAssertTrue(r.err.contains("@"), "pstats errors name a byte offset: \(r.err)")
    }

    func testVersionAndHelp() throws {
        XCTAssertEqual(try perftop(["--version"]).status, 0)
        let h = try perftop(["--help"])
        XCTAssertTrue(h.out.contains("report"), h.out)
    }
}

/// Runs the built binary from the repository root, feeding `stdin`.
func runPerftop(_ args: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> CLITests.Run {
    let p = Process()
    p.executableURL = CLITests.binary
    p.arguments = args
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    p.currentDirectoryURL = CLITests.repoRoot
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out; p.standardError = err; p.standardInput = inp
    try p.run()
    if let stdin { inp.fileHandleForWriting.write(stdin) }
    try inp.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CLITests.Run(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
}

final class ConvertCLITests: XCTestCase {
    func testConvertWritesFilesOtherToolsRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-convert-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for target in ["collapsed", "speedscope", "pprof"] {
            let out = dir.appendingPathComponent("out.\(target)").path
            let r = try runPerftop(["convert", "SampleProfiles/etl.austin", "--to", target, "-o", out, "--focus", "dedupe"])
            XCTAssertEqual(r.status, 0, r.err)
            let back = try runPerftop(["report", out, "--json"])
            XCTAssertEqual(back.status, 0, back.err)
            let j = try JSONSerialization.jsonObject(with: Data(back.out.utf8)) as! [String: Any]
            let names = (j["functions"] as! [[String: Any]]).map { $0["name"] as! String }
            XCTAssertTrue(names.contains("dedupe"), "\(target): \(names)")
            XCTAssertFalse(names.contains("parse"), "\(target): --focus keeps only stacks through dedupe")
        }
        let bad = try runPerftop(["convert", "SampleProfiles/etl.austin", "--to", "collapsed", "--focus", "(unclosed"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.err.hasPrefix("perftop: SampleProfiles/etl.austin"), bad.err)
    }

    /// `-o` writes into the file it names, as a shell redirection would: through a symlink, and
    /// into a device such as /dev/null, never replacing either with a new file.
    func testConvertWritesThroughASymlink() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-convert-link-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target.txt").path, link = dir.appendingPathComponent("link.txt").path
        try "old contents, longer than nothing\n".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let r = try runPerftop(["convert", "SampleProfiles/etl.austin", "--to", "collapsed", "-o", link])
        XCTAssertEqual(r.status, 0, r.err)
        let toStdout = try runPerftop(["convert", "SampleProfiles/etl.austin", "--to", "collapsed", "-o", "-"])
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), target, "the link is still a link")
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), toStdout.out, "the output went to the link's target, truncated first")
        let missing = try runPerftop(["convert", "SampleProfiles/etl.austin", "--to", "collapsed", "-o", dir.appendingPathComponent("no/such/dir").path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.contains("cannot write") && missing.err.contains("No such file or directory"), missing.err)
        XCTAssertEqual(missing.err.split(separator: "\n").count, 1, missing.err)
    }
}
