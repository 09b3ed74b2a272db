import ArgumentParser
import Foundation
import ProfileModel

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

    @OptionGroup var sources: SourceOptions

    @Option(help: ArgumentHelp("With --tree: hide nodes under this percentage of the total.", valueName: "percent"))
    var minPercent: Double = 1

    func run() throws {
        signal(SIGPIPE, SIG_DFL)
        do {
            if summary {
                // Lines are kept: the hottest line of the top function comes from them.
                let (p, m) = try input.loadKeepingLines()
                let roots = sources.sourceRoots(for: input.file)
                let t = Triage(p, metric: m, sourceRoots: roots, rules: try sources.loadRules())
                let look = t.lookHere(p, metric: m, sourceRoots: roots)
                writeStdout(json ? t.json(p, metric: m, look: look) : t.text(p, metric: m, look: look, ascii: false))
                return
            }
            let (p, m) = try input.load()
            var opts = ReportOptions(sort: sort, limit: limit.map { max(0, $0) } ?? (json ? nil : 25), metric: m)
            opts.fullPaths = input.filters.transforms.showFullPaths
            var out = json ? Report.json(p, options: opts) : Report.text(p, options: opts)
            if tree && !json { out += "\n" + Report.tree(p, metric: m, minPercent: minPercent, fullPaths: opts.fullPaths) }
            writeStdout(out)
        } catch {
            throw fail(error, file: input.file)
        }
    }
}
