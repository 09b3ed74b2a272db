import Foundation
import XCTest

/// The mouse on a real terminal: tmux writes SGR mouse reports (`ESC [ < b ; x ; y M`, 1-based
/// cells) into the pane, as a terminal does for a click or the wheel once curses asks for them.
extension TmuxTests {
    /// Sends an SGR mouse report for the 0-based cell (x, y): a press and its release, or the wheel.
    func mouse(_ button: Int, x: Int, y: Int, release: Bool = true) throws {
        var reports = ["\u{1b}[<\(button);\(x + 1);\(y + 1)M"]
        if release { reports.append("\u{1b}[<\(button);\(x + 1);\(y + 1)m") }
        for r in reports {
            let hex = r.utf8.map { String(format: "%02x", $0) }
            _ = try tmux(["send-keys", "-t", session, "-H"] + hex)
        }
    }

    func cell(of text: String, in screen: String, from: Int = 0) -> (x: Int, y: Int)? {
        for (y, l) in screen.components(separatedBy: "\n").enumerated() where y >= from {
            if let r = l.range(of: text) { return (l.distance(from: l.startIndex, to: r.lowerBound), y) }
        }
        return nil
    }

    func testMouseClicksTabsRowsAndTheWheel() throws {
        try requireTmux()
        try start("SampleProfiles/etl.pyspy.txt")
        var screen = try waitFor("Inverted")
        let on = try tmux(["display-message", "-p", "-t", session, "#{mouse_sgr_flag}"])
        XCTAssertEqual(on.trimmingCharacters(in: .whitespacesAndNewlines), "1", "curses asked for SGR mouse reports")
        // A click on the "Fn" tab opens the functions table.
        guard let tab = cell(of: "Fn", in: screen.components(separatedBy: "\n")[0]) else { return XCTFail(screen) }
        try mouse(0, x: tab.x, y: 0)
        screen = try waitFor("calls")
        XCTAssertTrue(screen.contains("self"), screen)
        // A click on the flatten row selects it: the detail line names it.
        guard let row = cell(of: "flatten", in: screen, from: 2) else { return XCTFail(screen) }
        try mouse(0, x: row.x, y: row.y)
        screen = try waitFor("flatten  etl.py")
        let lines = screen.components(separatedBy: "\n")
        XCTAssertTrue(lines.count > 22 && lines[22].hasPrefix("flatten"), screen)
        // A double click opens its callers and callees.
        try mouse(0, x: row.x, y: row.y)
        try mouse(0, x: row.x, y: row.y)
        screen = try waitFor("Callers of flatten")
        XCTAssertTrue(screen.contains("Callers of flatten"), screen)
        // The wheel (button 65: down) moves the selection down in the tree.
        _ = try tmux(["send-keys", "-t", session, "2"])
        screen = try waitFor("callees")
        let before = screen.components(separatedBy: "\n")[22]
        try mouse(65, x: 20, y: 10, release: false)
        usleep(300_000)
        screen = try tmux(["capture-pane", "-p", "-J", "-t", session])
        XCTAssertNotEqual(screen.components(separatedBy: "\n")[22], before, screen)
        _ = try tmux(["send-keys", "-t", session, "q"])
        screen = try waitFor("EXIT=")
        XCTAssertTrue(screen.contains("EXIT=0"), screen)
        // Mouse reporting is off again after exit.
        let modes = try tmux(["display-message", "-p", "-t", session, "#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}"])
        XCTAssertEqual(modes.trimmingCharacters(in: .whitespacesAndNewlines), "000")
    }

    func testNoMouseLeavesClicksToTheTerminal() throws {
        try requireTmux()
        try start("SampleProfiles/etl.pyspy.txt --no-mouse")
        let screen = try waitFor("Inverted")
        let modes = try tmux(["display-message", "-p", "-t", session, "#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}"])
        XCTAssertEqual(modes.trimmingCharacters(in: .whitespacesAndNewlines), "000", "no mouse reporting asked for")
        XCTAssertTrue(screen.contains("callees"), screen)
        _ = try tmux(["send-keys", "-t", session, "q"])
        _ = try waitFor("EXIT=")
    }

    /// `perftop record` on a terminal: austin streams into the viewer as the program runs, the
    /// recording is kept with -o, and the line before the viewer said which sampler and why.
    func testRecordStreamsAustinLive() throws {
        try requireTmux()
        if system("command -v austin > /dev/null 2>&1") != 0 { throw XCTSkip("SKIPPED: austin is not installed (pip install austin-dist)") }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-rec-\(getpid()).austin").path
        defer { unlink(out) }
        let root = CLITests.repoRoot.path
        try startShell("cd '\(root)' && '\(CLITests.binary.path)' record -o '\(out)' -- python3 SampleProfiles/workload/threads.py "
            + "2> '\(out).err'; echo EXIT=$?; sleep 60")
        defer { unlink(out + ".err") }
        var screen = try waitFor("ENDED", timeout: 30)
        // austin that could not attach (ptrace refused, or a loaded CI box) samples nothing:
        // a statement about the machine, not about perftop, so say so and skip.
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        if size == 0 {
            _ = try? tmux(["send-keys", "-t", session, "q"])
            let err = (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""
            throw XCTSkip("SKIPPED: austin recorded no samples on this machine: \(err.prefix(200))")
        }
        XCTAssertTrue(screen.contains("ENDED"), screen)
        XCTAssertTrue(screen.contains("spin"), "the hot function of the sampled program:\n\(screen)")
        _ = try tmux(["send-keys", "-t", session, "q"])
        screen = try waitFor("EXIT=")
        XCTAssertTrue(screen.contains("EXIT=0"), screen)
        let err = (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""
        XCTAssertTrue(err.hasPrefix("perftop: recording with austin: "), err)
        XCTAssertTrue(err.contains("(streamed live)"), err)
        // The kept recording is the stream the viewer read: it names the same hot function.
        let r = try runPerftop(["report", out, "--sort", "self", "--limit", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("\"name\":\"spin\""), r.out)
        try assertTerminalRestored("q after perftop record")
    }
}
