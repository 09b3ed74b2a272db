import ArgumentParser
import Foundation
import ProfileModel
import TUI

/// `perftop diff BASE NEW` and `perftop diff A... --vs B...`: what changed between runs of the same program.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare profiles before and after a change: BASE NEW, or any number of runs a side with A... --vs B....",
        discussion: """
        Each function gets a verdict (faster, slower, unchanged, inconclusive; "measured once" for \
        one deterministic run a side) from its per-run self values, judged against the noise the \
        runs show (README: "Diff statistics"), and the total gets one too. Absolute values by \
        default; --normalize shows shares of each total, but verdicts stay on absolute values. \
        On a terminal this opens the viewer on NEW coloured by its change from BASE, only where \
        the change is significant. With --text, --json, --markdown or when standard output is not \
        a terminal, it prints the result.
        """)

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("BASE NEW, or the base runs, then --vs and the new runs.", valueName: "files"))
    var files: [String] = []

    @Flag(help: "Show shares of each run's total instead of absolute values (verdicts still come from absolute values).")
    var normalize = false

    @Flag(help: "Show absolute values also for one sampled run a side of different length (where shares are the default).")
    var absolute = false

    @Option(help: "The smallest change, in percent of the base total, that can be called faster or slower.")
    var minEffect: Double = 1

    @Option(help: "Show at most this many functions (default: 25 in text and markdown, all in JSON).")
    var limit: Int?

    @Flag(help: "Print one JSON object: files, per-run totals, the method, and per-run values with a verdict per function and per tree node.")
    var json = false

    @Flag(help: "Print the evidence for a pull request as markdown.")
    var markdown = false

    @Flag(help: "Print the table even when standard output is a terminal (instead of opening the viewer).")
    var text = false

    @OptionGroup var filters: FilterOptions

    @OptionGroup var screen: ViewerFlags

    /// The two sides: `A... --vs B...`, or exactly BASE NEW.
    func sides() throws -> ([String], [String]) {
        if let vs = files.firstIndex(of: "--vs") {
            let b = Array(files[..<vs]), n = Array(files[(vs + 1)...])
            if n.contains("--vs") { throw usage("--vs given twice") }
            if b.isEmpty { throw usage("--vs: no base runs before it") }
            if n.isEmpty { throw usage("--vs: no new runs after it") }
            return (b, n)
        }
        if let bad = files.first(where: { $0.hasPrefix("-") && $0.count > 1 }) { throw usage("unknown option '\(bad)'") }
        guard files.count == 2 else { throw usage("give BASE NEW, or base runs --vs new runs (got \(files.count) file\(files.count == 1 ? "" : "s"))") }
        return ([files[0]], [files[1]])
    }

    func usage(_ message: String) -> ExitCode {
        writeStderr("perftop: diff: \(message.terminalSafe)\n")
        return ExitCode(2)
    }

    func run() throws {
        signal(SIGPIPE, SIG_DFL)
        let (baseFiles, newFiles) = try sides()
        guard minEffect >= 0 && minEffect < 100 else { throw usage("--min-effect must be a percentage from 0 to 100") }
        func load(_ file: String) throws -> Profile {
            do {
                let p = try FormatRegistry.load(path: file, mergeLines: true, mergeThreads: true).merging(threads: true, lines: true)
                return try filters.apply(p, file: file)
            } catch let e as ExitCode { throw e } catch { throw fail(error, file: file) }
        }
        let b = try baseFiles.map(load), n = try newFiles.map(load)
        // Absolute values by default with repeats; one run a side keeps the old default (shares
        // when sampled runs differ in length). Verdicts come from absolute values either way.
        let repeated = b.count > 1 && n.count > 1
        let choice: Bool? = normalize ? true : absolute ? false : repeated ? false : nil
        let shares = choice ?? ProfileDiff.normalizesByDefault(base: b[0], baseMetric: b[0].defaultMetric, new: n[0], newMetric: n[0].defaultMetric)
        let d: RunsDiff
        do {
            d = try RunsDiff(base: b, baseFiles: baseFiles, new: n, newFiles: newFiles, normalize: shares,
                             minEffect: minEffect / 100)
        } catch let e as RunsDiff.Incomparable {
            writeStderr("perftop: \(e.file.terminalSafe): \(e.description.terminalSafe)\n")
            throw ExitCode(2)
        }
        if !json && !text && !markdown && (screen.batch || isatty(1) != 0) {
            try runViewer(d, baseFiles: baseFiles, newFiles: newFiles, normalize: choice)
            return
        }
        let cap = limit.map { max(0, $0) }
        writeStdout(json ? d.json() : markdown ? d.markdown(limit: cap ?? 25) : d.text(limit: cap ?? 25))
    }

    /// The viewer on the median new run, coloured by its change from the median base run where
    /// the runs call that change significant.
    private func runViewer(_ d: RunsDiff, baseFiles: [String], newFiles: [String], normalize: Bool?) throws {
        var options = try screen.options(threadsMerged: true, splitLines: false)
        _ = try screen.parsedKeys()
        func side(_ file: String) throws -> Session {
            do {
                let p = try filters.apply(FormatRegistry.load(path: file, mergeLines: true), file: file)
                return try screen.session(p, file: file, format: nil, lines: false)
            } catch let e as ExitCode { throw e } catch { throw fail(error, file: file) }
        }
        func median(_ files: [String], _ totals: [Double]) -> String {
            files[totals.indices.sorted { totals[$0] < totals[$1] }[(totals.count - 1) / 2]]
        }
        let b = try side(median(baseFiles, d.base.totals)), n = try side(median(newFiles, d.new.totals))
        n.setDiffBase(b, normalize: normalize)
        n.setDiffVerdicts(DiffVerdicts(d))
        options.metric = n.base.defaultMetric
        try screen.run(n, options: options)
    }
}
