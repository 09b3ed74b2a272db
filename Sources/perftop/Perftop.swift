import ArgumentParser
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
        Reads cProfile/profile/yappi pstats dumps and folded stacks (py-spy raw, flamegraph.pl, inferno).
        The format is detected from the content; gzip input is inflated transparently.
        `perftop FILE` is short for `perftop view FILE`.
        """,
        version: perftopVersion,
        subcommands: [View.self, ReportCommand.self],
        defaultSubcommand: View.self)
}

let perftopVersion = "0.1.0"

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

    /// Loads the profile; the viewer keeps threads (it merges and splits them itself).
    func load(keepThreads: Bool = false) throws -> (Profile, Int) {
        var p = try FormatRegistry.load(path: file, format: format, mergeLines: !lines)
        if keepThreads { return (p, try metricIndex(p)) }
        if threads == .merged { p = p.mergingThreads() }
        if !lines { p = p.mergingLines() }
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

    @Option(help: ArgumentHelp("With --tree: hide nodes under this percentage of the total.", valueName: "percent"))
    var minPercent: Double = 1

    func run() throws {
        signal(SIGPIPE, SIG_DFL)
        do {
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

struct View: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Open the interactive viewer (the default command).",
        discussion: "Press ? in the viewer for the keys. With --batch, the keys are applied without a terminal and the final screen is printed.")

    @OptionGroup var input: InputOptions

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

    func run() throws {
        signal(SIGPIPE, SIG_DFL)
        var options = ViewerOptions()
        options.ascii = ascii
        options.noColor = noColor || (getenv("NO_COLOR").map { $0.pointee != 0 } ?? false)
        options.threadsMerged = input.threads == .merged
        options.splitLines = input.lines
        guard let v = ["functions": ViewKind.functions, "tree": .tree, "callers": .callers, "inverted": .inverted,
                       "flame": .flame][view.lowercased()] else {
            throw ValidationError("--view must be functions, tree, callers, inverted or flame")
        }
        options.initialView = v
        let parsedKeys: [Key]
        do { parsedKeys = try Key.parse(keys) } catch { throw ValidationError("\(error)") }
        let interactive = !batch && isatty(1) != 0
        if !batch && !interactive {
            FileHandleStderr.write("perftop: standard output is not a terminal; printing the report instead.\n")
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
        // Lines were merged while reading; `L` re-reads the file to split them (not for stdin).
        let (file, format) = (input.file, input.format)
        let seed = p.frames
        let mergedAtRead = !input.lines && ["collapsed", "austin"].contains(p.format)
        let reload: (() throws -> Profile)? = !mergedAtRead || file == "-" ? nil : {
            try FormatRegistry.load(path: file, format: format, mergeLines: false, seedFrames: seed)
        }
        let session = Session(profile: p, fileName: input.file, reloadWithLines: reload)
        if batch {
            let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, (10...1000).contains(parts[0]), (5...1000).contains(parts[1]) else {
                throw ValidationError("--size must look like 80x24")
            }
            writeStdout(Viewer.batch(session, size: Size(width: parts[0], height: parts[1]), keys: parsedKeys, options: options))
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
