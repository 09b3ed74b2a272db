import Foundation
import XCTest

/// `make install` / `make uninstall` into a temporary prefix, with the binary under test
/// (PERFTOP=..., so no release build), and what they install: the man page and the
/// completions the binary generates.
final class InstallTests: XCTestCase {
    func sh(_ command: String, env: [String: String] = [:]) throws -> CLITests.Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        p.currentDirectoryURL = CLITests.repoRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLITests.Run(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    func testMakeInstallThenUninstallLeavesNothing() throws {
        if try sh("command -v make").status != 0 { throw XCTSkip("SKIPPED: make is not installed") }
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-prefix-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let bin = CLITests.binary.path
        let install = try sh("make install PREFIX='\(prefix)' PERFTOP='\(bin)'")
        XCTAssertEqual(install.status, 0, install.err)
        let files = ["bin/perftop", "share/man/man1/perftop.1", "share/bash-completion/completions/perftop",
                     "share/zsh/site-functions/_perftop", "share/fish/vendor_completions.d/perftop.fish"]
        for f in files { XCTAssertTrue(FileManager.default.fileExists(atPath: prefix + "/" + f), f) }
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: prefix + "/bin/perftop"))
        let version = try sh("'\(prefix)/bin/perftop' --version")
        XCTAssertEqual(version.status, 0)
        XCTAssertFalse(version.out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        // The zsh and fish scripts are what the binary generates for those shells.
        let zsh = try sh("'\(bin)' --generate-completion-script zsh")
        XCTAssertEqual(try String(contentsOfFile: prefix + "/share/zsh/site-functions/_perftop", encoding: .utf8), zsh.out)
        let uninstall = try sh("make uninstall PREFIX='\(prefix)'")
        XCTAssertEqual(uninstall.status, 0, uninstall.err)
        let left = try sh("find '\(prefix)' -type f")
        XCTAssertEqual(left.out, "", "make uninstall removes every file it installed")
    }

    /// The page names every command and every option `--help` lists, has the viewer's key
    /// table, and groff reads it without a warning.
    func testManPageCoversTheCommandsAndKeysAndRendersCleanly() throws {
        let page = try runPerftop(["generate-manual"])
        XCTAssertEqual(page.status, 0, page.err)
        let roff = page.out
        for cmd in ["view", "report", "diff", "live", "convert", "record"] {
            XCTAssertTrue(roff.contains(".SS \"perftop \(cmd)\""), cmd)
            let help = try runPerftop([cmd, "--help"])
            // Every long option in the command's --help appears on the page (roff writes - as \-).
            let options = Set(help.out.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "]" })
                .filter { $0.hasPrefix("--") && $0.count > 2 && $0.dropFirst(2).allSatisfy { $0.isLetter || $0 == "-" } })
            XCTAssertFalse(options.isEmpty, cmd)
            for o in options where o != "--help" && o != "--version" {
                XCTAssertTrue(roff.contains(o.replacingOccurrences(of: "-", with: "\\-")), "\(cmd) \(o)")
            }
        }
        // The key table, as the help overlay shows it (`?` in the viewer).
        let help = try runPerftop(["view", "SampleProfiles/etl.pyspy.txt", "--batch", "--size", "120x200", "--keys", "?"])
        XCTAssertTrue(roff.contains(".SH KEYS"))
        for phrase in ["expand the whole subtree", "zoom into the selected frame", "search names and files (regex)"] {
            XCTAssertTrue(help.out.contains(phrase), "the help shows \(phrase)")
            XCTAssertTrue(roff.contains(phrase.replacingOccurrences(of: "-", with: "\\-")), phrase)
        }
        guard try sh("command -v groff").status == 0 else { throw XCTSkip("SKIPPED: groff is not installed; the page was not rendered") }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-\(getpid()).1").path
        try roff.write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        let g = try sh("groff -man -Tutf8 -ww -z '\(file)'")
        XCTAssertEqual(g.status, 0)
        XCTAssertEqual(g.err, "", "groff warnings")
        let text = try sh("groff -man -Tutf8 '\(file)' | col -b")
        XCTAssertTrue(text.out.contains("perftop record"), text.out.prefix(500).description)
    }

    /// bash completion through the generated script: format names, views, and the metrics of
    /// the file on the command line (etl.austin has time and samples, as its report says).
    func testBashCompletionsOfferFormatsViewsAndTheFilesMetrics() throws {
        if try sh("command -v bash").status != 0 { throw XCTSkip("SKIPPED: bash is not installed") }
        let dir = CLITests.binary.deletingLastPathComponent().path
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-\(getpid()).bash").path
        let gen = try runPerftop(["--generate-completion-script", "bash"])
        try gen.out.write(toFile: script, atomically: true, encoding: .utf8)
        defer { unlink(script) }
        let report = try runPerftop(["report", "SampleProfiles/etl.austin", "--json"])
        let j = try JSONSerialization.jsonObject(with: Data(report.out.utf8)) as! [String: Any]
        let metrics = (j["metrics"] as! [Any]).map { m -> String in
            if let s = m as? String { return String(s.split(separator: "/")[0]) }
            return (m as! [String: Any])["name"] as! String
        }
        XCTAssertEqual(Set(try completeVia(script: script, dir: dir, ["perftop", "view", "SampleProfiles/etl.austin", "--metric", ""])), Set(metrics))
        XCTAssertEqual(try completeVia(script: script, dir: dir, ["perftop", "view", "x", "--view", "f"]).sorted(), ["flame", "functions"])
        let formats = try completeVia(script: script, dir: dir, ["perftop", "report", "x", "--format", "sp"])
        XCTAssertEqual(formats, ["speedscope"])
    }

    func completeVia(script: String, dir: String, _ words: [String]) throws -> [String] {
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let line = words.joined(separator: " ")
        let cmd = "source '\(script)'; COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE='\(line)'; "
            + "COMP_POINT=${#COMP_LINE}; _perftop perftop '\(words.last!)' '\(words[words.count - 2])'; printf '%s\\n' \"${COMPREPLY[@]}\""
        let file = script + ".run"
        try cmd.write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        let r = try sh("bash '\(file)'", env: ["PATH": dir + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")])
        return r.out.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }
}
