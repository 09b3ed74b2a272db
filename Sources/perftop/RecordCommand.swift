import ArgumentParser
import Foundation
import ProfileModel
import TUI

/// `perftop record -- python app.py args`: profiles a program with the best sampler that is
/// installed, without remembering its flags, then views the result.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run a Python program (or attach to one) under the best sampler installed, then view the profile.",
        discussion: """
        The sampler, in order: Tachyon (python -m profiling.sampling) when the target Python is 3.15 or newer; \
        austin (streamed live into the viewer, as perftop live does); py-spy (records to a file, then opens it). \
        The line before the viewer says which one and why. When standard output is not a terminal, the \
        recording runs to its end and the report is printed.
        """)

    @Option(help: ArgumentHelp("Samples per second.", valueName: "hz"))
    var rate: Int = 1000

    @Flag(help: "Also sample native (C, C++, Cython) frames (py-spy, Tachyon; austin cannot).")
    var native = false

    @Flag(help: "Keep the samples of idle threads (sleeping, waiting on I/O or locks); by default only running code is sampled.")
    var idle = false

    @Option(help: ArgumentHelp("Use this sampler: tachyon, austin or py-spy.", valueName: "name"))
    var sampler: SamplerName?

    @Option(name: .shortAndLong, help: ArgumentHelp("Keep the recording in this file.", valueName: "file"), completion: .file())
    var output: String?

    @Option(help: ArgumentHelp("Attach to this running Python process instead of starting one.", valueName: "pid"))
    var pid: Int32?

    @Flag(help: .hidden)
    var dryRun = false

    @OptionGroup var draw: DrawOptions

    @Argument(parsing: .postTerminator, help: "The program to run, after --.")
    var command: [String] = []

    func validate() throws {
        guard (1...100_000).contains(rate) else { throw ValidationError("--rate must be 1 to 100000 samples per second") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let program = command
        guard pid != nil || !program.isEmpty else {
            throw ValidationError("give the program after --, e.g. perftop record -- python app.py, or --pid PID")
        }
        guard pid == nil || program.isEmpty else { throw ValidationError("give either --pid or a program after --, not both") }
        let interactive = isatty(1) != 0
        let probe = SamplerProbe.probe(program: program, pid: pid)
        let plan: RecordPlan
        do {
            plan = try RecordPlan.choose(forced: sampler, probe: probe, native: native, idle: idle, rate: rate,
                                         program: program, pid: pid, output: output, live: interactive)
        } catch { throw fail(error, file: "record") }
        writeStderr("perftop: recording with \(plan.sampler.rawValue): \(plan.why)\n")
        if dryRun {
            writeStdout(plan.argv.joined(separator: " ") + "\n")
            return
        }
        if plan.live { try recordLive(plan); return }
        try recordToFile(plan, interactive: interactive)
    }

    /// austin on a terminal: its output is read live, as `perftop live` does (and kept with --output).
    func recordLive(_ plan: RecordPlan) throws {
        let process: SamplerProcess
        do { process = try SamplerProcess(plan.argv) } catch { throw fail(error, file: plan.argv[0]) }
        var source: LiveSource = FDLiveSource(fd: process.outputFD)
        if let output {
            let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { process.stop(); throw fail(ProfileError("cannot write: \(String(cString: strerror(errno)))"), file: output) }
            source = TeeLiveSource(source, copyTo: fd)
        }
        let name = command.joined(separator: " ")
        let shown = name.isEmpty ? "pid \(pid ?? 0)" : name
        let ingest = LiveIngest(source: source, name: shown)
        ingest.note("\(plan.sampler.rawValue), pid \(process.pid)")
        process.reap { how in ingest.note("\(plan.sampler.rawValue) \(how)") }
        defer {
            process.stop()
            writeStderr("perftop: \(plan.sampler.rawValue) (pid \(process.pid)) \(process.exited ?? "did not stop")\n")
            let tail = process.takeStandardErrorTail()
            if !tail.isEmpty {
                let safe = tail.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).terminalSafe }
                writeStderr("perftop: its standard error ends with:\n" + safe.joined(separator: "\n") + "\n")
            }
            if let output { writeStderr("perftop: the recording is in \(output.terminalSafe)\n") }
        }
        try runLive(ingest, name: shown, options: draw.viewerOptions())
    }

    /// Tachyon and py-spy (and austin without a terminal): the sampler writes a file; then
    /// the viewer (or the report) opens it.
    func recordToFile(_ plan: RecordPlan, interactive: Bool) throws {
        let status = runInForeground(plan.argv)
        defer { if output == nil { unlink(plan.file) } }
        guard let size = FileSource.sizeOf(path: plan.file), size > 0 else {
            throw fail(ProfileError("\(plan.sampler.rawValue) wrote no samples (\(status))"), file: plan.file)
        }
        if output != nil { writeStderr("perftop: the recording is in \(plan.file.terminalSafe)\n") }
        let p: Profile
        do { p = try FormatRegistry.load(path: plan.file) } catch { throw fail(error, file: plan.file) }
        var options = draw.viewerOptions()
        options.metric = p.defaultMetric
        guard interactive else {
            writeStdout(Report.text(p.mergingThreads().mergingLines(), options: ReportOptions(metric: p.defaultMetric)))
            return
        }
        let session = Session(profile: p, fileName: output ?? plan.sampler.rawValue + " recording")
        session.sourceRoots = ["."]
        session.triageRules = try SourceOptions.parse([]).triageRules()
        try runViewer { try Viewer.run(session, options: options) }
    }
}

enum SamplerName: String, CaseIterable, ExpressibleByArgument, Sendable {
    case tachyon, austin, pySpy = "py-spy"
}

/// What the choice depends on: the target's Python and the samplers on PATH.
struct SamplerProbe: Sendable {
    /// The target Python's version, and whether it has `profiling.sampling`; nil when the
    /// program is not a Python interpreter (or its version could not be read).
    var python: (path: String, major: Int, minor: Int, tachyon: Bool)?
    var austin: String?
    var pySpy: String?

    static func probe(program: [String], pid: Int32?) -> SamplerProbe {
        var p = SamplerProbe()
        p.austin = which("austin")
        p.pySpy = which("py-spy")
        var interpreter: String? = nil
        if let pid {
            interpreter = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"))
        } else if let first = program.first, isPythonName((first as NSString).lastPathComponent) {
            interpreter = first.contains("/") ? first : which(first)
        }
        if let interpreter, let v = pythonVersion(interpreter) { p.python = (interpreter, v.0, v.1, v.2) }
        return p
    }

    /// `python`, `python3`, `python3.15`, `python3.13t`.
    static func isPythonName(_ s: String) -> Bool {
        s.range(of: #"^python[0-9]*(\.[0-9]+)?t?$"#, options: .regularExpression) != nil
    }

    /// The executable `name` on PATH.
    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = String(dir) + "/" + name
            if access(path, X_OK) == 0 { return path }
        }
        return nil
    }

    /// (major, minor, has profiling.sampling), asked of the interpreter itself.
    static func pythonVersion(_ python: String) -> (Int, Int, Bool)? {
        let script = "import sys, importlib.util as u\n"
            + "try: t = u.find_spec('profiling.sampling') is not None\nexcept Exception: t = False\n"
            + "print(sys.version_info[0], sys.version_info[1], int(t))"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let parts = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        guard p.terminationStatus == 0, parts.count == 3 else { return nil }
        return (parts[0], parts[1], parts[2] == 1)
    }
}

/// The sampler chosen, why, and the command that runs it.
struct RecordPlan {
    var sampler: SamplerName
    var why: String
    var argv: [String]
    /// Streamed into the viewer as it runs (austin on a terminal), else recorded to `file`.
    var live: Bool
    var file: String

    static let installHint = "pip install austin-dist (or pip install py-spy); Python 3.15 and newer have Tachyon built in"

    static func choose(forced: SamplerName?, probe: SamplerProbe, native: Bool, idle: Bool, rate: Int,
                       program: [String], pid: Int32?, output: String?, live: Bool) throws -> RecordPlan {
        let py = probe.python
        let tachyonOK = py.map { ($0.major, $0.minor) >= (3, 15) && $0.tachyon } ?? false
        let pyText = py.map { "\(($0.path as NSString).lastPathComponent) is \($0.major).\($0.minor)" }
            ?? (pid != nil ? "pid \(pid!) is not a Python this perftop can ask" : "the program is not a python interpreter")
        var sampler: SamplerName
        var why: String
        if let forced {
            sampler = forced
            why = "--sampler \(forced.rawValue)"
            switch forced {
            case .tachyon:
                guard tachyonOK else { throw ProfileError("--sampler tachyon: Tachyon needs Python 3.15 or newer as the target (\(pyText))") }
            case .austin:
                guard probe.austin != nil else { throw ProfileError("--sampler austin: austin is not on PATH (pip install austin-dist)") }
                if native { throw ProfileError("--sampler austin: austin cannot sample native frames (--native); use py-spy or Tachyon") }
            case .pySpy:
                guard probe.pySpy != nil else { throw ProfileError("--sampler py-spy: py-spy is not on PATH (pip install py-spy)") }
            }
        } else if tachyonOK {
            sampler = .tachyon
            why = "\(pyText), which has Tachyon (profiling.sampling)"
        } else {
            let noTachyon = py.map { ($0.major, $0.minor) >= (3, 15) ? "\(pyText) but has no profiling.sampling" : "\(pyText) (Tachyon needs 3.15+)" } ?? pyText
            if probe.austin != nil && !native {
                sampler = .austin
                why = "\(noTachyon); austin is installed" + (live ? " (streamed live)" : "")
            } else if probe.pySpy != nil {
                sampler = .pySpy
                why = "\(noTachyon); " + (probe.austin != nil ? "austin cannot sample native frames; " : "austin is not installed; ")
                    + "py-spy records to a file, then perftop opens it"
            } else if probe.austin != nil {
                throw ProfileError("--native: austin cannot sample native frames and py-spy is not installed (pip install py-spy)")
            } else {
                throw ProfileError("no sampler found: \(installHint)")
            }
        }
        let interval = max(1, 1_000_000 / rate)
        let file = output ?? NSTemporaryDirectory() + "perftop-record-\(getpid())." + (sampler == .tachyon ? "bin" : sampler == .austin ? "austin" : "txt")
        var argv: [String]
        switch sampler {
        case .tachyon:
            argv = [py!.path, "-m", "profiling.sampling", pid == nil ? "run" : "attach", "-r", "\(rate)", "-a", "--binary", "-o", file]
            if native { argv.append("--native") }
            if !idle { argv += ["--mode", "cpu"] }
            argv += pid.map { ["\($0)"] } ?? Array(program.dropFirst())
        case .austin:
            // austin gives up on a program that has not mapped its Python runtime within 100 ms
            // ("not a Python process", exit 32), which a loaded machine misses now and then; this
            // is a limit, not a wait: sampling starts as soon as the runtime is there.
            argv = [probe.austin!, "-t", "5s", "-i", "\(interval)us"]
            if !idle { argv.append("-s") }
            if !live { argv += ["-o", file] }
            argv += pid.map { ["-p", "\($0)"] } ?? program
        case .pySpy:
            argv = [probe.pySpy!, "record", "-r", "\(rate)", "-f", "raw", "-o", file]
            if idle { argv.append("-i") }
            if native { argv.append("-n") }
            argv += pid.map { ["-p", "\($0)"] } ?? ["--"] + program
        }
        return RecordPlan(sampler: sampler, why: why, argv: argv, live: live && sampler == .austin, file: file)
    }
}

/// Runs `argv` with this terminal and waits. Ctrl-C reaches the sampler and the program (it
/// stops the recording); perftop itself ignores it meanwhile, to open what was recorded.
/// Returns how it ended.
func runInForeground(_ argv: [String]) -> String {
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for s in [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, s) }
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF))
    let cargs = argv.map { strdup($0) } + [nil]
    defer { cargs.forEach { free($0) } }
    let oldInt = signal(SIGINT, SIG_IGN), oldQuit = signal(SIGQUIT, SIG_IGN)
    defer { signal(SIGINT, oldInt); signal(SIGQUIT, oldQuit) }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, argv[0], nil, &attr, cargs, environ)
    guard rc == 0 else { return "\(argv[0]) could not be started: \(String(cString: strerror(rc)))" }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status & 0x7F == 0 ? "exit status \((status >> 8) & 0xFF)" : "ended by signal \(status & 0x7F)"
}

/// A live source that also writes what it reads to a file (`perftop record --output`).
final class TeeLiveSource: LiveSource {
    let inner: LiveSource
    let fd: Int32

    init(_ inner: LiveSource, copyTo fd: Int32) { self.inner = inner; self.fd = fd }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> LiveRead {
        let r = try inner.read(into: buffer)
        if case .data(let n) = r { writeAll(fd: fd, UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
        return r
    }

    func cancel() { inner.cancel() }

    deinit { close(fd) }
}
