import Foundation
import XCTest

/// End to end through a real terminal: perftop runs in a tmux pane at 80x24 and is driven with
/// send-keys; capture-pane shows the screen and tmux reports the terminal modes after exit.
final class TmuxTests: XCTestCase {
    var session = "perftop-e2e-\(getpid())"

    /// Runs a tmux command on this test's own server through the shell, output into a file:
    /// the server daemon the first command starts inherits the client's descriptors, so a pipe
    /// (or Foundation.Process's bookkeeping) would wait for it forever.
    func tmux(_ args: [String]) throws -> String {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("\(session)-out").path
        let quoted = (["tmux", "-L", session] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        _ = system(quoted.joined(separator: " ") + " > '\(outPath)' 2>/dev/null < /dev/null")
        return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    }

    func requireTmux() throws {
        if system("tmux -V > /dev/null 2>&1") != 0 { throw XCTSkip("SKIPPED: tmux is not installed") }
    }

    /// Polls the pane until `text` shows (or the timeout passes); returns the last capture.
    func waitFor(_ text: String, timeout: Double = 10) throws -> String {
        let end = Date().addingTimeInterval(timeout)
        var screen = ""
        while Date() < end {
            screen = try tmux(["capture-pane", "-p", "-J", "-t", session])
            if screen.contains(text) { return screen }
            usleep(100_000)
        }
        return screen
    }

    func start(_ command: String, term: String = "xterm-256color", env: String = "") throws {
        let root = CLITests.repoRoot.path
        try startShell("cd '\(root)' && \(env) TERM=\(term) '\(CLITests.binary.path)' \(command); echo EXIT=$?; sleep 60")
    }

    /// A fresh tmux server with one 80x24 session running `shell`.
    func startShell(_ shell: String) throws {
        // The previous test's server may still be shutting down when the next one starts (a
        // new-session that reaches a dying server fails silently): wait for it to go, and
        // retry until the session exists.
        _ = try tmux(["kill-server"])
        for _ in 0..<50 where system("tmux -L '\(session)' has-session > /dev/null 2>&1") == 0 { usleep(100_000) }
        for _ in 0..<5 {
            _ = try tmux(["new-session", "-d", "-x", "80", "-y", "24", "-s", session, "sh", "-c", shell])
            if system("tmux -L '\(session)' has-session -t '\(session)' > /dev/null 2>&1") == 0 { return }
            usleep(200_000)
        }
    }

    override func tearDown() {
        _ = try? tmux(["kill-server"])
        // The files of this process's tests, which would otherwise pile up in the temporary directory.
        for suffix in ["-out", "-editor"] {
            try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent(session + suffix))
        }
    }

    /// After perftop exits: the main screen is back and the cursor is visible.
    func assertTerminalRestored(_ label: String) throws {
        let modes = try tmux(["display-message", "-p", "-t", session, "#{alternate_on} #{cursor_flag}"])
        XCTAssertEqual(modes.trimmingCharacters(in: .whitespacesAndNewlines), "0 1", "\(label): alternate screen off, cursor on")
    }

    func testOpensOnTheHotPathAndQuitsCleanly() throws {
        try requireTmux()
        try start("SampleProfiles/etl.pyspy.txt")
        var screen = try waitFor("Inverted")
        XCTAssertTrue(screen.contains("dedupe"), "the hot-path function is on the first screen:\n\(screen)")
        let modes = try tmux(["display-message", "-p", "-t", session, "#{alternate_on} #{cursor_flag}"])
        XCTAssertEqual(modes.trimmingCharacters(in: .whitespacesAndNewlines), "1 0", "curses is on the alternate screen")
        _ = try tmux(["send-keys", "-t", session, "5"])
        screen = try waitFor("Flame graph")
        XCTAssertTrue(screen.contains("all (316)"), screen)
        _ = try tmux(["send-keys", "-t", session, "/", "flatten", "Enter"])
        screen = try waitFor("flatten  etl.py")
        XCTAssertTrue(screen.contains("flatten  etl.py"), "search selects the match:\n\(screen)")
        _ = try tmux(["send-keys", "-t", session, "q"])
        screen = try waitFor("EXIT=")
        XCTAssertTrue(screen.contains("EXIT=0"), screen)
        try assertTerminalRestored("q")
    }

    func testSIGTERMAndSIGHUPRestoreTheTerminal() throws {
        try requireTmux()
        for (sig, status) in [("TERM", 143), ("HUP", 129), ("INT", 0)] {
            try start("SampleProfiles/etl.prof")
            _ = try waitFor("Inverted")
            let pid = try tmux(["display-message", "-p", "-t", session, "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
            // The pane runs sh; perftop is its child.
            _ = system("pkill -\(sig) -P \(pid) perftop")
            let screen = try waitFor("EXIT=")
            XCTAssertTrue(screen.contains("EXIT=\(status)"), "SIG\(sig):\n\(screen)")
            try assertTerminalRestored("SIG\(sig)")
        }
    }

    /// Signals a viewer has no use for (a stray `kill -USR1`, an alarm, a closed pipe) leave it
    /// running on its screen, as in htop; q then quits and restores the terminal.
    func testHarmlessSignalsLeaveTheViewerRunning() throws {
        try requireTmux()
        try start("SampleProfiles/etl.prof")
        _ = try waitFor("Inverted")
        let pid = try tmux(["display-message", "-p", "-t", session, "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        for sig in ["USR1", "USR2", "ALRM", "PIPE"] { _ = system("pkill -\(sig) -P \(pid) perftop") }
        usleep(300_000)
        _ = try tmux(["send-keys", "-t", session, "5"])
        var screen = try waitFor("Flame graph")
        XCTAssertTrue(screen.contains("Flame graph") && !screen.contains("EXIT="), "still running:\n\(screen)")
        _ = try tmux(["send-keys", "-t", session, "q"])
        screen = try waitFor("EXIT=")
        XCTAssertTrue(screen.contains("EXIT=0"), screen)
        try assertTerminalRestored("after USR1, USR2, ALRM, PIPE")
    }

    /// `convert` does not write a profile (names from the file, or binary pprof) to a terminal
    /// unless asked to with `-o -`, as gzip refuses to.
    func testConvertRefusesToWriteToATerminal() throws {
        try requireTmux()
        try start("convert SampleProfiles/etl.pyspy.txt --to collapsed")
        var screen = try waitFor("EXIT=")
        XCTAssertTrue(screen.contains("EXIT=2") && screen.contains("not writing a profile to a terminal"), screen)
        XCTAssertFalse(screen.contains("dedupe"), screen)
        try start("convert SampleProfiles/etl.pyspy.txt --to collapsed -o -")
        screen = try waitFor("EXIT=")
        XCTAssertTrue(screen.contains("EXIT=0"), screen)
    }

    /// Data on standard input, keys from the terminal: the view updates, keys work, and q quits
    /// and restores the terminal while the producer is still writing.
    func testLiveStreamOnStandardInput() throws {
        try requireTmux()
        let root = CLITests.repoRoot.path
        // The producer keeps writing (blank lines) until perftop is gone and the pipe breaks.
        try startShell("cd '\(root)' && (cat SampleProfiles/etl.austin; while echo; do sleep 0.2; done) | TERM=xterm-256color '\(CLITests.binary.path)' -; echo EXIT=$?; sleep 60")
        var screen = try waitFor("616 samples")
        XCTAssertTrue(screen.contains("LIVE"), screen)
        XCTAssertTrue(screen.contains("dedupe"), screen)
        _ = try tmux(["send-keys", "-t", session, "5"])
        screen = try waitFor("Flame graph")
        XCTAssertTrue(screen.contains("Flame graph"), screen)
        _ = try tmux(["send-keys", "-t", session, "q"])
        screen = try waitFor("EXIT=")
        XCTAssertTrue(screen.contains("EXIT=0"), screen)
        try assertTerminalRestored("q on a live stream")
    }

    /// A real sampler, live: austin samples a small Python program and perftop shows it.
    func testLiveAustinSamplingAPythonProgram() throws {
        try requireTmux()
        let python = "$(python3 -c 'import sys; print(sys.executable)')"
        let austin = "$(dirname \(python))/austin"
        if system("test -x \"\(austin)\" || command -v austin > /dev/null 2>&1") != 0 {
            throw XCTSkip("SKIPPED: austin is not installed (pip install 'austin-dist==3.7.*')")
        }
        let root = CLITests.repoRoot.path
        let run = "A=\"\(austin)\"; [ -x \"$A\" ] || A=austin; "
            + "'\(CLITests.binary.path)' live -- \"$A\" -t 5s -i 1ms \"\(python)\" SampleProfiles/workload/threads.py"
        // austin 3.7 sometimes never finds the runtime of a child it started and exits 32
        // before any sample (see RecordCLITests): the viewer shows that correctly, but it says
        // nothing about perftop, so such a run is tried again.
        var screen = ""
        for attempt in 1...4 {
            try startShell("cd '\(root)' && \(run); echo EXIT=$?; sleep 60")
            screen = try waitFor("ENDED", timeout: 30)
            guard attempt < 4, screen.contains("exited with status 32"), !screen.contains("spin") else { break }
            print("note: austin did not find the Python runtime (exit 32); attempt \(attempt + 1)")
            _ = try tmux(["send-keys", "-t", session, "q"])
            _ = try? waitFor("EXIT=")
        }
        XCTAssertTrue(screen.contains("ENDED"), "the program finished and the stream ended:\n\(screen)")
        XCTAssertTrue(screen.contains("spin"), "the hot function of the sampled program:\n\(screen)")
        _ = try tmux(["send-keys", "-t", session, "q"])
        screen = try waitFor("EXIT=")
        XCTAssertTrue(screen.contains("EXIT=0"), screen)
        XCTAssertTrue(screen.contains("exited with status 0"), screen)
        try assertTerminalRestored("q after a live austin run")
    }

    /// `e` leaves curses for $EDITOR (here a script that records its arguments), then the
    /// viewer takes the screen back; quitting afterwards still restores the terminal.
    func testEditorRunsOnTheTerminalAndTheViewerComesBack() throws {
        try requireTmux()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(session)-editor").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = dir + "/fake-editor"
        try "#!/bin/sh\necho \"$@\" > '\(dir)/args'\necho FAKE EDITOR OPEN\nsleep 1\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        try start("SampleProfiles/etl.pyspy.txt --source-root SampleProfiles/workload", env: "EDITOR='\(script)'")
        _ = try waitFor("Inverted")
        _ = try tmux(["send-keys", "-t", session, "1", "/", "^dedupe", "Enter", "e"])
        var screen = try waitFor("FAKE EDITOR OPEN")
        XCTAssertTrue(screen.contains("FAKE EDITOR OPEN"), "the editor has the terminal:\n\(screen)")
        screen = try waitFor("Inverted")
        XCTAssertTrue(screen.contains("dedupe"), "the viewer is back:\n\(screen)")
        let args = try String(contentsOfFile: dir + "/args", encoding: .utf8)
        XCTAssertEqual(args.trimmingCharacters(in: .whitespacesAndNewlines), "+62 SampleProfiles/workload/etl.py",
                       "opened at the hottest line of dedupe (py-spy's line 62)")
        _ = try tmux(["send-keys", "-t", session, "q"])
        screen = try waitFor("EXIT=")
        XCTAssertTrue(screen.contains("EXIT=0"), screen)
        try assertTerminalRestored("q after the editor")
    }

    /// `perftop diff` on a terminal opens the viewer in diff mode, on the largest significant
    /// change: the fix took dedupe out of the new run, so its `gone` row.
    func testDiffOpensTheViewer() throws {
        try requireTmux()
        try start("diff SampleProfiles/etl.pyspy.txt SampleProfiles/etl-fixed.pyspy.txt")
        let screen = try waitFor("diff of shares")
        XCTAssertTrue(screen.contains("base 316") && screen.contains("gone dedupe"), screen)
        _ = try tmux(["send-keys", "-t", session, "q"])
        XCTAssertTrue(try waitFor("EXIT=").contains("EXIT=0"))
        try assertTerminalRestored("q in diff mode")
    }

    func testOtherTerminalsDrawWithoutCrashing() throws {
        try requireTmux()
        for term in ["vt100", "linux", "screen", "tmux-256color"] {
            try start("SampleProfiles/etl.prof", term: term)
            let screen = try waitFor("Inverted")
            XCTAssertTrue(screen.contains("dedupe"), "TERM=\(term):\n\(screen)")
            _ = try tmux(["send-keys", "-t", session, "5", "q"])
            let end = try waitFor("EXIT=")
            XCTAssertTrue(end.contains("EXIT=0"), "TERM=\(term):\n\(end)")
        }
    }
}
