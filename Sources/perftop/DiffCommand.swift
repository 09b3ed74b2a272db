import ArgumentParser
import Foundation
import ProfileModel
import TUI

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
            try runViewer(normalize: normalizeChoice)
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

    /// The viewer on NEW, coloured by its change from BASE.
    private func runViewer(normalize: Bool?) throws {
        var options = try screen.options(threadsMerged: true, splitLines: false)
        _ = try screen.parsedKeys()
        func side(_ file: String) throws -> Session {
            do {
                let p = try filters.apply(FormatRegistry.load(path: file, mergeLines: true), file: file)
                return try screen.session(p, file: file, format: nil, lines: false)
            } catch let e as ExitCode { throw e } catch { throw fail(error, file: file) }
        }
        let b = try side(base), n = try side(new)
        n.setDiffBase(b, normalize: normalize)
        options.metric = n.base.defaultMetric
        try screen.run(n, options: options)
    }
}
