import ArgumentParser
import ProfileModel
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

    func load() throws -> (Profile, Int) {
        var p = try FormatRegistry.load(path: file, format: format)
        if threads == .merged { p = p.mergingThreads() }
        if !lines { p = p.mergingLines() }
        var m = p.defaultMetric
        if let metric {
            guard let i = p.metricIndex(named: metric) else {
                throw ProfileError("no metric '\(metric)'; this profile has: "
                                   + p.metrics.map(\.description).joined(separator: ", "), file: file)
            }
            m = i
        }
        return (p, m)
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
        abstract: "Open the interactive viewer (the default command).")

    @OptionGroup var input: InputOptions

    func run() throws {
        signal(SIGPIPE, SIG_DFL)
        do {
            let (p, m) = try input.load()
            FileHandleStderr.write("perftop: the interactive viewer is coming; printing the report instead.\n")
            writeStdout(Report.text(p, options: ReportOptions(metric: m)))
        } catch {
            throw fail(error, file: input.file)
        }
    }
}
