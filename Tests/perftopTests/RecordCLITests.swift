import Foundation
import XCTest

/// `perftop record` with the real samplers (skipped, saying so, when they are missing). Without
/// a terminal the recording runs to its end and the report is printed.
final class RecordCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-record-\(getpid())-\(abs(name.hashValue))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Recursive work on two threads (the main one and a worker), ~0.5 s of CPU.
        try """
        import threading
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        def work():
            for _ in range(3):
                fib(24)
        t = threading.Thread(target=work, name="worker")
        t.start()
        work()
        t.join()
        """.write(to: dir.appendingPathComponent("work.py"), atomically: true, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func which(_ tool: String) -> String? {
        for d in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = "\(d)/\(tool)"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    func requireRuns(_ tool: String, _ args: [String]) throws {
        guard let path = which(tool) else { throw XCTSkip("SKIPPED: \(tool) is not installed (pip install \(tool == "austin" ? "austin-dist" : tool))") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        if p.terminationStatus != 0 { throw XCTSkip("SKIPPED: \(tool) is installed but does not run here") }
    }

    /// fib's self weight and the total of the recording, from perftop's JSON report.
    func fibSelf(_ file: String) throws -> (fib: Double, total: Double) {
        let r = try runPerftop(["report", file, "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let j = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        let fib = (j["functions"] as! [[String: Any]]).first { $0["name"] as? String == "fib" }
        XCTAssertNotNil(fib, "fib is in the recording")
        return ((fib?["self"] as? NSNumber)?.doubleValue ?? -1, (j["total"] as! NSNumber).doubleValue)
    }

    func testAustinRecordingIsKeptAndReported() throws {
        try requireRuns("austin", ["-V"])
        let out = dir.appendingPathComponent("run.austin").path
        // austin 3.7 sometimes never finds the runtime of a child it started (2-3 runs in 20
        // here, on an idle machine too, with its 5 s limit): it exits 32, "not a Python
        // process", and perftop says "austin wrote no samples". That is austin's race, not
        // perftop's handling, so such a run is tried again.
        var r = try runPerftop(["record", "--sampler", "austin", "--output", out, "--", "python3", dir.appendingPathComponent("work.py").path])
        for attempt in 2...4 where r.status != 0 && r.err.contains("austin wrote no samples (exit status 32)") {
            print("note: austin did not find the Python runtime (exit 32); attempt \(attempt)")
            r = try runPerftop(["record", "--sampler", "austin", "--output", out, "--", "python3", dir.appendingPathComponent("work.py").path])
        }
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("perftop: recording with austin: --sampler austin"), r.err)
        XCTAssertTrue(r.out.contains("fib"), r.out)
        let (fib, total) = try fibSelf(out)
        // The total is the sum of the sample lines' values in the raw austin file, and fib's
        // self the sum of those whose leaf frame is fib.
        // Decoded leniently, as perftop reads it: austin copies names out of a live process's
        // memory and now and then writes a byte that is not UTF-8 (a strict read then threw).
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self)
        var sum = 0.0, leafFib = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix("P") {
            guard let sp = line.lastIndex(of: " "), let v = Double(line[line.index(after: sp)...]) else { continue }
            sum += v
            if line[..<sp].split(separator: ";").last?.contains(":fib:") == true { leafFib += v }
        }
        XCTAssertGreaterThan(leafFib, 0)
        XCTAssertEqual(total, sum, accuracy: 0.5)
        XCTAssertEqual(fib, leafFib, accuracy: 0.5)
    }

    func testPySpyRecordingIsOpenedAfterwards() throws {
        try requireRuns("py-spy", ["--version"])
        let out = dir.appendingPathComponent("run.txt").path
        let r = try runPerftop(["record", "--sampler", "py-spy", "--rate", "500", "-o", out, "--", "python3", dir.appendingPathComponent("work.py").path])
        if r.status != 0 && r.err.contains("ermission") { throw XCTSkip("SKIPPED: py-spy may not trace processes here: \(r.err)") }
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("perftop: recording with py-spy"), r.err)
        let (fib, _) = try fibSelf(out)
        // fib's self count is the sum of the raw lines whose leaf frame is fib.
        var leafFib = 0.0
        for line in try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n") {
            guard let sp = line.lastIndex(of: " "), let n = Double(line[line.index(after: sp)...]) else { continue }
            if line[..<sp].split(separator: ";").last?.hasPrefix("fib ") == true { leafFib += n }
        }
        XCTAssertGreaterThan(leafFib, 0)
        XCTAssertEqual(fib, leafFib)
    }

    /// With neither sampler on PATH (and a Python before 3.15), it says how to get one.
    func testNoSamplerSaysHowToGetOne() throws {
        guard let python = which("python3") else { throw XCTSkip("SKIPPED: no python3") }
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent("python3").path, withDestinationPath: python)
        let r = try runPerftop(["record", "--", "python3", "work.py"], environment: ["PATH": bin.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.contains("no sampler found: pip install austin-dist (or pip install py-spy)"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
    }

    /// The choice, from what the target Python says of itself (a stand-in that answers as a
    /// 3.15 with Tachyon, or a 3.11) and what is on PATH.
    func testChoosesTachyonForPython315AndSaysWhy() throws {
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        func fakePython(_ name: String, answer: String) throws -> String {
            let p = bin.appendingPathComponent(name).path
            try "#!/bin/sh\necho '\(answer)'\n".write(toFile: p, atomically: true, encoding: .utf8)
            chmod(p, 0o755)
            return p
        }
        let py315 = try fakePython("python3.15", answer: "3 15 1")
        let r = try runPerftop(["record", "--dry-run", "--rate", "250", "-o", "x.bin", "--", py315, "app.py", "--flag"], environment: ["PATH": bin.path])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.err.contains("recording with tachyon: python3.15 is 3.15, which has Tachyon"), r.err)
        XCTAssertEqual(r.out, "\(py315) -m profiling.sampling run -r 250 -a --binary -o x.bin --mode cpu app.py --flag\n")
        let py311 = try fakePython("python3.11", answer: "3 11 0")
        let forced = try runPerftop(["record", "--sampler", "tachyon", "--", py311, "app.py"], environment: ["PATH": bin.path])
        XCTAssertEqual(forced.status, 2)
        XCTAssertTrue(forced.err.contains("Tachyon needs Python 3.15 or newer as the target (python3.11 is 3.11)"), forced.err)
        // austin is preferred to py-spy, unless native frames are asked for.
        for tool in ["austin", "py-spy"] { _ = try fakePython(tool, answer: "") }
        let auto = try runPerftop(["record", "--dry-run", "--", py311, "app.py"], environment: ["PATH": bin.path])
        XCTAssertTrue(auto.err.contains("recording with austin: python3.11 is 3.11 (Tachyon needs 3.15+); austin is installed"), auto.err)
        XCTAssertEqual(auto.out, "\(bin.path)/austin -t 5s -i 1000us -s -o \(auto.out.split(separator: " ")[7]) \(py311) app.py\n")
        let native = try runPerftop(["record", "--dry-run", "--native", "--idle", "--", py311, "app.py"], environment: ["PATH": bin.path])
        XCTAssertTrue(native.err.contains("austin cannot sample native frames; py-spy records to a file"), native.err)
        XCTAssertTrue(native.out.hasPrefix("\(bin.path)/py-spy record -r 1000 -f raw -o "), native.out)
        XCTAssertTrue(native.out.hasSuffix(" -i -n -- \(py311) app.py\n"), native.out)
    }

    /// --pid: the target's Python comes from /proc/PID/exe, and the sampler attaches.
    func testAttachAsksTheRunningInterpreter() throws {
        guard let python = which("python3") else { throw XCTSkip("SKIPPED: no python3") }
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: bin.appendingPathComponent("austin").path, atomically: true, encoding: .utf8)
        chmod(bin.appendingPathComponent("austin").path, 0o755)
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: python)
        sleeper.arguments = ["-c", "import time; time.sleep(30)"]
        try sleeper.run()
        defer { sleeper.terminate(); sleeper.waitUntilExit() }
        usleep(300_000)
        let r = try runPerftop(["record", "--dry-run", "--pid", "\(sleeper.processIdentifier)"], environment: ["PATH": bin.path])
        XCTAssertEqual(r.status, 0, r.err)
        // The interpreter's own name and version, read from the process (python3.11 here, not
        // the python3 it was started as).
        XCTAssertNotNil(r.err.range(of: #"recording with austin: python3\.[0-9]+ is 3\.[0-9]+ "#, options: .regularExpression), r.err)
        XCTAssertTrue(r.out.hasSuffix(" -p \(sleeper.processIdentifier)\n"), r.out)
    }
}
