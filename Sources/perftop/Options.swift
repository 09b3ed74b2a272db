import ArgumentParser
import Foundation
import ProfileModel
import TUI

/// --focus and --hide, shared by view, report, convert and diff.
struct FilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Keep only stacks through a function whose name or file matches.", valueName: "regex"))
    var focus: String?

    @Option(help: ArgumentHelp("Merge functions whose name or file matches into their callers.", valueName: "regex"))
    var hide: String?

    @OptionGroup var transforms: TransformOptions

    /// The filtered profile (a new one): --focus, --hide and the transforms in command-line order.
    func apply(_ p: Profile, file: String) throws -> Profile {
        try transforms.apply(p, focus: focus, hide: hide, file: file)
    }

    var isEmpty: Bool { transforms.steps(focus: focus, hide: hide).isEmpty }
}

/// Options every command that reads a profile shares.
struct InputOptions: ParsableArguments {
    @Argument(help: "The profile to read ('-' for standard input).", completion: .file())
    var file: String

    @Option(help: ArgumentHelp("Read as this format instead of detecting it.", valueName: "name"),
            completion: .list(FormatRegistry.supportedNames))
    var format: String?

    @Option(help: ArgumentHelp("The metric to show (name or name/unit).", valueName: "name"),
            completion: .custom(metricCompletions))
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

    /// Loads the profile as the report shows it: threads merged or split, lines merged unless
    /// --lines, then filtered.
    func load() throws -> (Profile, Int) {
        var p = try FormatRegistry.load(path: file, format: format, mergeLines: !lines, mergeThreads: threads == .merged)
        p = p.merging(threads: threads == .merged, lines: !lines)
        p = try filtered(p)
        return (p, try metricIndex(p))
    }

    /// Loads the profile for the viewer, which merges and splits threads itself. Threads are
    /// merged while reading unless --threads split (the viewer re-reads if `t` splits them) or
    /// filters apply (they see the threads, and the re-read would not be filtered).
    func loadForViewer() throws -> (Profile, Int) {
        let p = try filtered(FormatRegistry.load(path: file, format: format, mergeLines: !lines,
                                                 mergeThreads: threads == .merged && filters.isEmpty))
        return (p, try metricIndex(p))
    }

    /// Loads it with executing lines kept (the summary's hottest line, convert's output),
    /// threads merged unless --threads split.
    func loadKeepingLines() throws -> (Profile, Int) {
        var p = try FormatRegistry.load(path: file, format: format, mergeThreads: threads == .merged)
        if threads == .merged { p = p.mergingThreads() }
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

/// Where sources and triage rules come from: the summary (report, view, diff) and the source view.
struct SourceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where the summary and source view look for files recorded with relative paths.", valueName: "dir"),
            completion: .directory)
    var sourceRoot: [String] = []

    @Option(help: ArgumentHelp("Read sources recorded under FROM from TO instead (profiles from another machine).", valueName: "FROM=TO"))
    var pathMap: [String] = []

    @Option(help: ArgumentHelp("Triage rules for the summary (default: $XDG_CONFIG_HOME/perftop/config.toml if present, then the built-in table).", valueName: "file"),
            completion: .file(extensions: ["toml"]))
    var rules: String?

    /// Where sources recorded for `file` are looked for: --path-map rules, --source-root
    /// directories, the profile's directory and the current one.
    func sourceRoots(for file: String) -> [String] {
        let dir = (file as NSString).deletingLastPathComponent
        return pathMap.filter { $0.contains("=") } + sourceRoot + [dir.isEmpty ? "." : dir, "."]
    }

    /// The triage rules in effect (exits with a located error when the file is bad).
    func triageRules() throws -> [Triage.Rule] {
        do { return try loadRules() } catch { throw fail(error, file: rules ?? Config.path()) }
    }

    /// The triage rules in effect: --rules FILE, else the config file's (which also holds
    /// settings: its reader hands on the rest), else the built-in table. Throws a located error.
    func loadRules() throws -> [Triage.Rule] {
        if let rules { return try TriageRules.load(explicit: rules) }
        let (_, rest, path) = try UserConfig.load()
        guard let rest else { return Triage.rules }
        return try TriageRules.parse(rest, file: path)
    }
}

/// How the viewer draws: shared by view, diff and live.
struct DrawOptions: ParsableArguments {
    @Flag(help: "Draw with ASCII only (no box or block characters).")
    var ascii = false

    @Flag(help: "No colour (a non-empty NO_COLOR in the environment does the same).")
    var noColor = false

    @Flag(help: "No mouse: clicks and the wheel go to the terminal (its own text selection). Also `mouse = false` in config.toml.")
    var noMouse = false

    /// A bad config file fails the command before anything is read.
    func validate() throws { try UserConfig.check() }

    /// Colour is off with --no-color or a NO_COLOR that is set and not empty (no-color.org).
    var colourOff: Bool { noColor || (ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false) }

    func viewerOptions() -> ViewerOptions {
        var options = ViewerOptions()
        options.ascii = ascii
        let config = UserConfig.settings
        options.noColor = colourOff || config.theme == "mono"
        options.lightTheme = config.theme == "light"
        options.mouse = !noMouse && config.mouse != false
        options.editor = config.editor
        options.sort = config.sort
        return options
    }
}

/// What the viewer opens and, with --batch, what it runs: shared by view and diff.
struct ViewerFlags: ParsableArguments {
    @Flag(help: "Run without a terminal: apply --keys and print the final screen as text.")
    var batch = false

    @Option(help: ArgumentHelp("Screen size for --batch.", valueName: "WxH"))
    var size: String = "80x24"

    @Option(help: ArgumentHelp("Keys to apply: characters, and <Enter> <Esc> <Tab> <Up> <Down> <Left> <Right> <PgUp> <PgDn> <Home> <End> <BS> <C-x>.", valueName: "keys"))
    var keys: String = ""

    @Option(help: ArgumentHelp("The view to open: functions, tree, callers, inverted or flame (default: tree, or config.toml's view).", valueName: "view"),
            completion: .list(Config.views))
    var view: String?

    @OptionGroup var draw: DrawOptions

    @OptionGroup var sources: SourceOptions

    /// The viewer options these flags ask for.
    func options(threadsMerged: Bool, splitLines: Bool) throws -> ViewerOptions {
        var options = draw.viewerOptions()
        options.threadsMerged = threadsMerged
        options.splitLines = splitLines
        guard let v = ["functions": ViewKind.functions, "tree": .tree, "callers": .callers, "inverted": .inverted,
                       "flame": .flame][(view ?? UserConfig.settings.view ?? "tree").lowercased()] else {
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

    /// A viewer session on a loaded profile, with the sources and rules these flags name.
    func session(_ p: Profile, file: String, format: String?, lines: Bool) throws -> Session {
        let reload = FormatRegistry.lineLevelReload(of: p, path: file, format: format, linesKept: lines)
        let threads = FormatRegistry.threadLevelReload(of: p, path: file, format: format, linesKept: lines)
        let session = Session(profile: p, fileName: file, reloadWithLines: reload, reloadWithThreads: threads)
        session.sourceRoots = sources.sourceRoots(for: file)
        session.triageRules = try sources.triageRules()
        return session
    }

    /// Runs the viewer on the terminal, or headless with --batch (prints the final screen).
    func run(_ session: Session, options: ViewerOptions) throws {
        if batch {
            writeStdout(Viewer.batch(session, size: try batchSize(), keys: try parsedKeys(), options: options))
            return
        }
        try runViewer { try Viewer.run(session, options: options) }
    }
}

/// Runs the interactive viewer; a signal that ended it is raised again once the terminal is
/// restored, so the shell sees how perftop ended.
func runViewer(_ body: () throws -> Int32?) throws {
    let sig: Int32?
    do { sig = try body() } catch {
        writeStderr("perftop: \(String(describing: error).terminalSafe)\n")
        throw ExitCode(2)
    }
    if let sig {
        signal(sig, SIG_DFL)
        raise(sig)
    }
}

/// `--metric` completions: the metrics of the profile named on the command line (the first
/// word that is a readable file of at most 64 MB), so the shell offers what the file has.
@Sendable func metricCompletions(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
    for w in words where !w.hasPrefix("-") {
        guard let size = FileSource.sizeOf(path: w), size > 0, size <= 64 << 20,
              let p = try? FormatRegistry.load(path: w) else { continue }
        return p.metrics.map(\.name).filter { $0.hasPrefix(prefix) }
    }
    return []
}
