import ArgumentParser
import Foundation
import ProfileModel
import TUI
#if canImport(Glibc)
import Glibc
#endif

@main
struct Perftop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perftop",
        abstract: "A terminal profile viewer: function table, hot-path call tree, callers/callees and flame graph.",
        discussion: """
        Reads pstats (cProfile, profile, yappi), folded stacks (py-spy raw, flamegraph.pl, inferno), \
        speedscope, Chrome .cpuprofile and trace events, austin text and MOJO, perf script, pprof, \
        callgrind, pyinstrument and Firefox/gecko profiles. The format is detected from the content; \
        gzip input is inflated transparently.

        `perftop FILE` is short for `perftop view FILE`; `perftop -` reads standard input, live when \
        it is a pipe.
        """,
        version: perftopVersion,
        subcommands: [View.self, ReportCommand.self, DiffCommand.self, LiveCommand.self, ConvertCommand.self],
        defaultSubcommand: View.self)
}

let perftopVersion = "0.1.0"

/// --focus and --hide, shared by view, report, convert and diff.
struct FilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Keep only stacks through a function whose name or file matches.", valueName: "regex"))
    var focus: String?

    @Option(help: ArgumentHelp("Merge functions whose name or file matches into their callers.", valueName: "regex"))
    var hide: String?

    /// The filtered profile (a new one).
    func apply(_ p: Profile, file: String) throws -> Profile {
        var p = p
        do {
            if let hide { p = p.hiding(try p.functions(matching: hide)) }
            if let focus {
                let fns = try p.functions(matching: focus)
                guard !fns.isEmpty else { throw ProfileError("--focus '\(focus)' matches no function", file: file) }
                p = p.focused(onAny: fns)
            }
        } catch let e as ProfileError { throw e } catch {
            throw ProfileError("not a regular expression: \(error)", file: file)
        }
        return p
    }
}

/// Options every command that reads a profile shares.
struct InputOptions: ParsableArguments {
    @Argument(help: "The profile to read ('-' for standard input).")
    var file: String

    @Option(help: ArgumentHelp("Read as this format instead of detecting it.", valueName: "name"))
    var format: String?

    @Option(help: ArgumentHelp("The metric to show (name or name/unit).", valueName: "name"))
    var metric: String?

    @Option(help: ArgumentHelp("merged: add up identical stacks across threads; split: one root per thread.",
                               valueName: "merged|split"))
    var threads: ThreadMode = .merged

    @Flag(help: "Keep one call-tree node per executing line instead of one per function.")
    var lines = false

    @OptionGroup var filters: FilterOptions

    @Option(help: ArgumentHelp("Refuse an input that needs more memory than this (bytes, or 512M, 8G; default: half the RAM, at most 4G).", valueName: "size"))
    var maxMemory: String?

    @Option(help: ArgumentHelp("The longest line a text profile may have (default: 8M).", valueName: "size"))
    var maxLine: String?

    /// The limits are process-wide settings of the readers.
    func validate() throws {
        if let maxMemory {
            guard let v = MemoryBudget.parse(maxMemory) else { throw ValidationError("--max-memory: expected a size such as 4G, not '\(maxMemory)'") }
            MemoryBudget.limit = v
        }
        if let maxLine {
            guard let v = MemoryBudget.parse(maxLine) else { throw ValidationError("--max-line: expected a size such as 16M, not '\(maxLine)'") }
            LineSplitter.defaultMaxLength = v
        }
    }

    func filtered(_ p: Profile) throws -> Profile { try filters.apply(p, file: file) }

    /// Loads the profile; the viewer keeps threads (it merges and splits them itself).
    func load(keepThreads: Bool = false) throws -> (Profile, Int) {
        var p = try FormatRegistry.load(path: file, format: format, mergeLines: !lines)
        if keepThreads { p = try filtered(p); return (p, try metricIndex(p)) }
        p = p.merging(threads: threads == .merged, lines: !lines)
        p = try filtered(p)
        return (p, try metricIndex(p))
    }

    func metricIndex(_ p: Profile) throws -> Int {
        guard let metric else { return p.defaultMetric }
        guard let i = p.metricIndex(named: metric) else {
            throw ProfileError("no metric '\(metric)'; this profile has: "
                               + p.metrics.map(\.description).joined(separator: ", "), file: file)
        }
        return i
    }
}

enum ThreadMode: String, ExpressibleByArgument, CaseIterable { case merged, split }
extension SortKey: ExpressibleByArgument {}

/// Prints `perftop: FILE[:LINE|@OFFSET]: message` and exits with status 2.
func fail(_ e: Error, file: String) -> ExitCode {
    let message: String
    if let pe = e as? ProfileError { message = pe.at(file: file).description }
    else { message = "\(file): \(e)" }
    FileHandleStderr.write("perftop: \(message.terminalSafe)\n")
    return ExitCode(2)
}

enum FileHandleStderr {
    static func write(_ s: String) {
        var s = s
        s.withUTF8 { u in _ = Glibc.write(2, u.baseAddress, u.count) }
    }
}

func writeStdout(_ s: String) {
    var s = s
    s.withUTF8 { u in
        var off = 0
        while off < u.count {
            let n = Glibc.write(1, u.baseAddress! + off, u.count - off)
            if n <= 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print the function table and the hot path, as text or JSON.")

    @OptionGroup var input: InputOptions

    @Option(help: "Sort by self, total, calls or name.")
    var sort: SortKey = .total

    @Option(help: "Show at most this many functions (default: 25 in text, all in JSON).")
    var limit: Int?

    @Flag(help: "Print one JSON object (the report contract).")
    var json = false

    @Flag(help: "Also print the call tree, top-down (text only).")
    var tree = false

    @Flag(help: "Print what kind of slow it is instead: time by class (CPU, native, idle/I/O, locks, GC, imports, serialization, regex, logging) and where to look first.")
    var summary = false

    @Option(help: ArgumentHelp("With --summary: where to look for source files recorded with relative paths.", valueName: "dir"))
    var sourceRoot: [String] = []

    @Option(help: ArgumentHelp("With --summary: read sources recorded under FROM from TO instead.", valueName: "FROM=TO"))
    var pathMap: [String] = []

    @Option(help: ArgumentHelp("With --summary: triage rules to use (default: $XDG_CONFIG_HOME/perftop/config.toml if present, then the built-in table).", valueName: "file"))
    var rules: String?

    @Option(help: ArgumentHelp("With --tree: hide nodes under this percentage of the total.", valueName: "percent"))
    var minPercent: Double = 1

    func run() throws {
        signal(SIGPIPE, SIG_DFL)
        do {
            if summary {
                // Lines are kept: the hottest line of the top function comes from them.
                var p = try FormatRegistry.load(path: input.file, format: input.format)
                if input.threads == .merged { p = p.mergingThreads() }
                p = try input.filtered(p)
                let m = try input.metricIndex(p)
                let dir = (input.file as NSString).deletingLastPathComponent
                let roots = pathMap.filter { $0.contains("=") } + sourceRoot + [dir.isEmpty ? "." : dir, "."]
                let t = Triage(p, metric: m, sourceRoots: roots, rules: try TriageRules.load(explicit: rules))
                let look = t.lookHere(p, metric: m, sourceRoots: roots)
                writeStdout(json ? t.json(p, metric: m, look: look) : t.text(p, metric: m, look: look, ascii: false))
                return
            }
            let (p, m) = try input.load()
            let opts = ReportOptions(sort: sort, limit: limit.map { max(0, $0) } ?? (json ? nil : 25), metric: m)
            var out = json ? Report.json(p, options: opts) : Report.text(p, options: opts)
            if tree && !json { out += "\n" + Report.tree(p, metric: m, minPercent: minPercent) }
            writeStdout(out)
        } catch {
            throw fail(error, file: input.file)
        }
    }
}

func stdinIsRegularFile() -> Bool {
    var st = stat()
    return fstat(0, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
}

/// The viewer on a live stream: ingestion on its own thread, the viewer on this one.
func runLive(_ ingest: LiveIngest, name: String, options: ViewerOptions) throws {
    var options = options
    options.initialView = .tree
    let empty = ProfileBuilder(format: "live", metrics: [ValueType("samples", "count")]).freeze(source: name)
    let session = Session(profile: empty, fileName: name)
    session.live = LiveStatus()
    ingest.start()
    do {
        if let sig = try Viewer.run(session, options: options, live: ingest) {
            signal(sig, SIG_DFL)
            raise(sig)
        }
    } catch {
        FileHandleStderr.write("perftop: \(error)\n")
        throw ExitCode(2)
    }
    if case .error(let why) = ingest.snapshot().1.state {
        FileHandleStderr.write("perftop: \(name): \(why.terminalSafe)\n")
    }
}

/// How the viewer draws and, with --batch, what it runs: shared by view and diff.
struct ViewerFlags: ParsableArguments {
    @Flag(help: "Run without a terminal: apply --keys and print the final screen as text.")
    var batch = false

    @Option(help: ArgumentHelp("Screen size for --batch.", valueName: "WxH"))
    var size: String = "80x24"

    @Option(help: ArgumentHelp("Keys to apply: characters, and <Enter> <Esc> <Tab> <Up> <Down> <Left> <Right> <PgUp> <PgDn> <Home> <End> <BS> <C-x>.", valueName: "keys"))
    var keys: String = ""

    @Option(help: ArgumentHelp("The view to open: functions, tree, callers, inverted or flame.", valueName: "view"))
    var view: String = "tree"

    @Flag(help: "Draw with ASCII only (no box or block characters).")
    var ascii = false

    @Flag(help: "No colour (NO_COLOR in the environment does the same).")
    var noColor = false

    @Option(help: ArgumentHelp("Where the summary and source view look for files recorded with relative paths.", valueName: "dir"))
    var sourceRoot: [String] = []

    @Option(help: ArgumentHelp("Read sources recorded under FROM from TO instead (profiles from another machine).", valueName: "FROM=TO"))
    var pathMap: [String] = []

    @Option(help: ArgumentHelp("Triage rules for the summary (default: $XDG_CONFIG_HOME/perftop/config.toml if present, then the built-in table).", valueName: "file"))
    var rules: String?

    /// The triage rules in effect (exits with a located error when the file is bad).
    func triageRules() throws -> [Triage.Rule] {
        do { return try TriageRules.load(explicit: rules) } catch { throw fail(error, file: rules ?? "config.toml") }
    }

    /// The viewer options these flags ask for.
    func options(threadsMerged: Bool, splitLines: Bool) throws -> ViewerOptions {
        var options = ViewerOptions()
        options.ascii = ascii
        options.noColor = noColor || (getenv("NO_COLOR").map { $0.pointee != 0 } ?? false)
        options.threadsMerged = threadsMerged
        options.splitLines = splitLines
        guard let v = ["functions": ViewKind.functions, "tree": .tree, "callers": .callers, "inverted": .inverted,
                       "flame": .flame][view.lowercased()] else {
            throw ValidationError("--view must be functions, tree, callers, inverted or flame")
        }
        options.initialView = v
        return options
    }

    func parsedKeys() throws -> [Key] {
        do { return try Key.parse(keys) } catch { throw ValidationError("\(error)") }
    }

    func batchSize() throws -> Size {
        let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, (10...1000).contains(parts[0]), (5...1000).contains(parts[1]) else {
            throw ValidationError("--size must look like 80x24 (10x5 up to 1000x1000)")
        }
        return Size(width: parts[0], height: parts[1])
    }

    /// Where sources recorded for `file` are looked for: --path-map rules, --source-root
    /// directories, the profile's directory and the current one.
    func sourceRoots(for file: String) -> [String] {
        let dir = (file as NSString).deletingLastPathComponent
        return pathMap.filter { $0.contains("=") } + sourceRoot + [dir.isEmpty ? "." : dir, "."]
    }

    /// Runs the viewer on the terminal, or headless with --batch (prints the final screen).
    func run(_ session: Session, options: ViewerOptions) throws {
        if batch {
            writeStdout(Viewer.batch(session, size: try batchSize(), keys: try parsedKeys(), options: options))
            return
        }
        do {
            if let sig = try Viewer.run(session, options: options) {
                signal(sig, SIG_DFL)
                raise(sig)
            }
        } catch {
            FileHandleStderr.write("perftop: \(error)\n")
            throw ExitCode(2)
        }
    }
}

struct View: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Open the interactive viewer (the default command).",
        discussion: "Press ? in the viewer for the keys. With --batch, the keys are applied without a terminal and the final screen is printed.")

    @OptionGroup var input: InputOptions

    @OptionGroup var screen: ViewerFlags

    @Flag(name: [.customShort("f"), .long], help: "Follow a growing file (like tail -F) and update as samples arrive.")
    var follow = false

    @Flag(help: "Open on the summary: what kind of slow it is (key 0 in the viewer).")
    var summary = false

    func run() throws {
        signal(SIGPIPE, SIG_DFL)
        var options = try screen.options(threadsMerged: input.threads == .merged, splitLines: input.lines)
        options.summary = summary
        _ = try screen.parsedKeys()
        let batch = screen.batch
        let interactive = !batch && isatty(1) != 0
        if !batch && !interactive {
            FileHandleStderr.write("perftop: standard output is not a terminal; printing the report instead.\n")
        }
        // A live stream: a pipe on standard input, or a followed file.
        if interactive && (follow || (input.file == "-" && !stdinIsRegularFile())) {
            let source: LiveSource
            do { source = follow ? try FollowLiveSource(path: input.file) : FDLiveSource(fd: 0) }
            catch { throw fail(error, file: input.file) }
            try runLive(LiveIngest(source: source, name: input.file), name: input.file, options: options)
            return
        }
        let big = (FileSource.sizeOf(path: input.file) ?? 0) > 20_000_000
        if interactive && big { FileHandleStderr.write("perftop: loading \(input.file)...\n") }
        let p: Profile, m: Int
        do { (p, m) = try input.load(keepThreads: true) } catch { throw fail(error, file: input.file) }
        options.metric = m
        if !batch && !interactive {
            let shown = options.threadsMerged ? p.mergingThreads() : p
            writeStdout(Report.text(input.lines ? shown : shown.mergingLines(), options: ReportOptions(metric: m)))
            return
        }
        let session = viewerSession(p, file: input.file, format: input.format, lines: input.lines)
        session.sourceRoots = screen.sourceRoots(for: input.file)
        session.triageRules = try screen.triageRules()
        try screen.run(session, options: options)
    }
}

/// A viewer session on a loaded profile. Lines were merged while reading (the fast default);
/// `L` re-reads the file to split them (not for standard input).
func viewerSession(_ p: Profile, file: String, format: String?, lines: Bool) -> Session {
    let seed = p.frames
    let mergedAtRead = !lines && FormatRegistry.reader(named: p.format)?.mergesLinesWhileReading == true
    let reload: (() throws -> Profile)? = !mergedAtRead || file == "-" ? nil : {
        try FormatRegistry.load(path: file, format: format, mergeLines: false, seedFrames: seed)
    }
    return Session(profile: p, fileName: file, reloadWithLines: reload)
}

/// `perftop live -- austin -i 1ms python app.py`: runs the sampler and views its output live.
struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Run a sampler (austin, or anything printing folded lines) and view its output as it arrives.",
        discussion: "The sampler's standard output is read live (austin text or MOJO, or folded lines); its standard error is shown when perftop exits. Quitting stops the sampler.")

    @Flag(help: "Draw with ASCII only.")
    var ascii = false

    @Flag(help: "No colour.")
    var noColor = false

    @Argument(parsing: .captureForPassthrough, help: "The command to run, after --.")
    var command: [String] = []

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let argv = command.first == "--" ? Array(command.dropFirst()) : command
        guard !argv.isEmpty else { throw ValidationError("give the sampler to run after --, e.g. perftop live -- austin python app.py") }
        guard isatty(1) != 0 else { throw ValidationError("perftop live needs a terminal") }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ValidationError("cannot create a pipe") }
        var errPath = Array("/tmp/perftop-live-stderr-XXXXXX".utf8CString)
        let errFD = mkstemp(&errPath)
        let errFile = String(cString: errPath)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        if errFD >= 0 { posix_spawn_file_actions_adddup2(&actions, errFD, 2) }
        posix_spawn_file_actions_addclose(&actions, fds[0])
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, cargs, environ)
        close(fds[1])
        if errFD >= 0 { close(errFD) }
        guard rc == 0 else {
            unlink(errFile)
            FileHandleStderr.write("perftop: cannot run \(argv[0]): \(String(cString: strerror(rc)))\n")
            throw ExitCode(2)
        }
        var options = ViewerOptions()
        options.ascii = ascii
        options.noColor = noColor || getenv("NO_COLOR") != nil
        let name = argv.joined(separator: " ")
        let ingest = LiveIngest(source: FDLiveSource(fd: fds[0]), name: name)
        ingest.note("running \(argv[0].terminalSafe), pid \(pid)")
        // One thread reaps the sampler and says how it ended, in the status line and on exit.
        let exit = ExitBox()
        let childPid = pid
        Thread {
            var status: Int32 = 0
            while waitpid(childPid, &status, 0) < 0 && errno == EINTR {}
            let how = status & 0x7F == 0 ? "exited with status \((status >> 8) & 0xFF)" : "ended by signal \(status & 0x7F)"
            exit.set(how)
            ingest.note("pid \(childPid) \(how)")
        }.start()
        defer {
            // Stop the sampler if it is still running, then report how it ended.
            if exit.get() == nil {
                kill(pid, SIGTERM)
                for _ in 0..<20 where exit.get() == nil { usleep(50_000) }
                if exit.get() == nil { kill(pid, SIGKILL); for _ in 0..<20 where exit.get() == nil { usleep(50_000) } }
            }
            FileHandleStderr.write("perftop: \(name.terminalSafe) (pid \(pid)) \(exit.get() ?? "did not stop")\n")
            if let text = try? String(contentsOfFile: errFile, encoding: .utf8), !text.isEmpty {
                let tail = text.split(separator: "\n").suffix(20).map { String($0).terminalSafe }.joined(separator: "\n")
                FileHandleStderr.write("perftop: its standard error ends with:\n" + tail + "\n")
            }
            unlink(errFile)
        }
        try runLive(ingest, name: name, options: options)
    }
}

/// How the sampler ended, set by the thread that reaps it.
final class ExitBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?
    func set(_ v: String) { lock.lock(); value = v; lock.unlock() }
    func get() -> String? { lock.lock(); defer { lock.unlock() }; return value }
}

/// `perftop convert FILE --to collapsed|speedscope|pprof -o OUT`
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write the profile (after --focus, --hide and --metric) as collapsed stacks, speedscope JSON or pprof.")

    @OptionGroup var input: InputOptions

    @Option(help: ArgumentHelp("collapsed (flamegraph.pl, inferno), speedscope or pprof (raw profile.proto).", valueName: "format"))
    var to: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write ('-' for standard output).", valueName: "file"))
    var output: String = "-"

    func run() throws {
        signal(SIGPIPE, SIG_DFL)
        guard let target = Exporter.Target(rawValue: to) else {
            throw ValidationError("--to must be collapsed, speedscope or pprof")
        }
        do {
            // Keep executing lines: the output should say what the input said.
            var p = try FormatRegistry.load(path: input.file, format: input.format)
            if input.threads == .merged { p = p.mergingThreads() }
            p = try input.filtered(p)
            let bytes = try Exporter.export(p, to: target, metric: try input.metricIndex(p))
            if output == "-" {
                bytes.withUnsafeBytes { b in var off = 0; while off < b.count { let n = Glibc.write(1, b.baseAddress! + off, b.count - off); if n <= 0 { break }; off += n } }
            } else {
                guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
                    throw ProfileError("cannot write \(output)")
                }
            }
        } catch {
            throw fail(error, file: input.file)
        }
    }
}

/// `perftop diff BASE NEW`: what changed between two profiles of the same program.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two profiles (any formats): per function base, new, delta and delta% of the base total.",
        discussion: """
        On a terminal this opens the viewer on NEW coloured by its change from BASE: the call \
        tree and flame graph in red where time grew and blue where it shrank (+/- marks without \
        colour), the functions table with base, new and delta (% switches absolute/shares). \
        With --text, --json or when standard output is not a terminal, it prints the table.
        """)

    @Argument(help: "The profile before the change.")
    var base: String

    @Argument(help: "The profile after the change.")
    var new: String

    @Flag(help: "Compare shares of each total instead of absolute values (the default for sampled profiles with different sample counts).")
    var normalize = false

    @Flag(help: "Compare absolute values even for sampled profiles with different sample counts.")
    var absolute = false

    @Option(help: "Show at most this many functions (default: 25 in text, all in JSON).")
    var limit: Int?

    @Flag(help: "Print one JSON object with base, new and delta per function.")
    var json = false

    @Flag(help: "Print the table even when standard output is a terminal (instead of opening the viewer).")
    var text = false

    @OptionGroup var filters: FilterOptions

    @OptionGroup var screen: ViewerFlags

    func run() throws {
        signal(SIGPIPE, SIG_DFL)
        let normalizeChoice: Bool? = normalize ? true : absolute ? false : nil
        if !json && !text && (screen.batch || isatty(1) != 0) {
            // The viewer on NEW, coloured by its change from BASE.
            var options = try screen.options(threadsMerged: true, splitLines: false)
            _ = try screen.parsedKeys()
            func side(_ file: String) throws -> Session {
                do {
                    let p = try filters.apply(FormatRegistry.load(path: file, mergeLines: true), file: file)
                    let s = viewerSession(p, file: file, format: nil, lines: false)
                    s.sourceRoots = screen.sourceRoots(for: file)
                    return s
                } catch { throw fail(error, file: file) }
            }
            let b = try side(base), n = try side(new)
            n.setDiffBase(b, normalize: normalizeChoice)
            n.triageRules = try screen.triageRules()
            options.metric = n.base.defaultMetric
            try screen.run(n, options: options)
            return
        }
        func side(_ file: String) throws -> Profile {
            do {
                let p = try FormatRegistry.load(path: file, mergeLines: true).merging(threads: true, lines: true)
                return try filters.apply(p, file: file)
            } catch { throw fail(error, file: file) }
        }
        let b = try side(base), n = try side(new)
        let d = Diff(base: b, new: n, baseMetric: b.defaultMetric, newMetric: n.defaultMetric,
                     normalize: normalizeChoice)
        writeStdout(json ? d.json(baseName: base, newName: new, baseFormat: b.format, newFormat: n.format)
                         : d.text(baseName: base, newName: new, limit: limit.map { max(0, $0) } ?? 25))
    }
}
